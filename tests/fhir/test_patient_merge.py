"""A merged client record on FHIR (issue 14): reading the tombstone's Patient answers with
`active: false` and a `replaced-by` link to the survivor; searches find only the survivor."""

from __future__ import annotations

import pytest

from tests.clients.test_merge import merged_pair

pytestmark = pytest.mark.django_db


def test_the_tombstone_patient_links_to_its_survivor(tenant, hco_fhir):
    duplicate = merged_pair(tenant)
    response = hco_fhir.get(f"Patient/{duplicate.pk}")
    assert response.status_code == 200
    patient = response.json()
    assert patient["id"] == str(duplicate.pk)
    assert patient["active"] is False
    assert patient["link"] == [
        {"other": {"reference": f"Patient/{tenant.client.pk}"}, "type": "replaced-by"}
    ]
    survivor = hco_fhir.get(f"Patient/{tenant.client.pk}").json()
    assert survivor["active"] is True and "link" not in survivor


def test_a_partner_that_sees_the_survivor_is_led_to_it(tenant, cbo_fhir):
    # The CBO sees the survivor under the release; the tombstone answers it with the link.
    duplicate = merged_pair(tenant)
    patient = cbo_fhir.get(f"Patient/{duplicate.pk}").json()
    assert patient["link"][0]["other"]["reference"] == f"Patient/{tenant.client.pk}"


def test_an_outsider_gets_404_for_the_tombstone(tenant, foreign_tenant, fhir_for):
    duplicate = merged_pair(tenant)
    assert fhir_for(foreign_tenant.hco).get(f"Patient/{duplicate.pk}").status_code == 404


def test_searches_find_only_the_survivor(tenant, hco_fhir):
    duplicate = merged_pair(tenant)
    bundle = hco_fhir.get("Patient", {"_id": f"{tenant.client.pk},{duplicate.pk}"}).json()
    ids = [e["resource"]["id"] for e in bundle.get("entry", [])]
    assert ids == [str(tenant.client.pk)]


def test_a_reference_to_the_tombstone_reaches_the_survivor(tenant, hco_fhir):
    # An EHR that kept the old Patient id is led on, not refused: the Consent it sends for
    # Patient/<tombstone> is recorded on the survivor.
    from consent.models import Release
    from tests.fhir.test_referral_examples import consent_naming

    duplicate = merged_pair(tenant)
    consent = consent_naming(f"Patient/{duplicate.pk}", tenant.hco, tenant.cbo)
    response = hco_fhir.post("Consent", consent)
    assert response.status_code == 201, response.json()
    assert Release.objects.get(pk=response.json()["id"]).client_id == tenant.client.pk
