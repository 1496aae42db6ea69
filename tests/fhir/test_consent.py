"""Consent ⇄ Release: the IG's Consent example with a provision as input; recipients as
provision.actor IRCP, categories as provision.class, expiry as provision.period.end,
revocation as status inactive; the consent rules (Part 2, all partners) hold."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from consent.models import Release
from referrals.models import Referral
from tests.factories import referral_program
from tests.fhir import examples as ex
from tests.fhir.test_referral_examples import (
    CATEGORY_SYSTEM,
    IRCP,
    consent_naming,
    direct_referral_bundle,
)

pytestmark = pytest.mark.django_db

PARTNERS = {
    "identifier": {
        "system": "https://linkage.invalid/fhir/CodeSystem/release-recipient",
        "value": "all-network-partners",
    }
}


def _consent(tenant, *recipients) -> dict:
    return consent_naming(f"Patient/{tenant.client.pk}", tenant.hco, *(recipients or [tenant.cbo]))


def test_the_consent_example_round_trips(tenant, hco_fhir, cbo_fhir):
    consent = _consent(tenant)
    response = hco_fhir.post("Consent", consent)
    assert response.status_code == 201, response.json()
    release = Release.objects.get(pk=response.json()["id"])
    assert list(release.recipients.all()) == [tenant.cbo]
    assert {c.value for c in release.categories} == {"demographics", "social_needs", "referrals"}
    assert release.method == "paper" and release.paper_form.name.endswith(".pdf")
    assert release.paper_form.read(5) == b"%PDF-"
    assert release.captured_by.api_key.organization == tenant.hco
    assert timezone.localdate(release.expires_at).isoformat() == "2099-12-31"
    # Read back (by the recipient too): what the Consent said.
    for api in (hco_fhir, cbo_fhir):
        read = api.get(f"Consent/{release.pk}").json()
        assert read["status"] == "active"
        for name in ("scope", "category", "policyRule"):
            assert ex.codes_of(read[name]) == ex.codes_of(consent[name]), name
        assert ex.reference(read["patient"]) == consent["patient"]["reference"]
        assert [ex.reference(o) for o in read["organization"]] == [
            ex.reference(o) for o in consent["organization"]
        ]
        provision = read["provision"]
        assert [ex.reference(a["reference"]) for a in provision["actor"]] == [
            f"Organization/{tenant.cbo.pk}"
        ]
        assert ex.codes_of([a["role"] for a in provision["actor"]]) == ex.codes_of(IRCP)
        assert {(c["system"], c["code"]) for c in provision["class"]} == {
            (c["system"], c["code"]) for c in consent["provision"]["class"]
        }
        end = parse_datetime(provision["period"]["end"])
        assert timezone.localdate(end).isoformat() == "2099-12-31"
    found = hco_fhir.get("Consent", {"patient": str(tenant.client.pk)}).json()
    assert str(release.pk) in {e["resource"]["id"] for e in found["entry"]}


def test_all_active_partners_and_part_2(tenant, hco_fhir):
    consent = _consent(tenant)
    consent["provision"]["actor"] = [{"role": IRCP, "reference": PARTNERS}]
    response = hco_fhir.post("Consent", consent)
    assert response.status_code == 201, response.json()
    release = Release.objects.get(pk=response.json()["id"])
    assert release.all_network_partners and not release.recipients.exists()
    read = hco_fhir.get(f"Consent/{release.pk}").json()
    assert read["provision"]["actor"][0]["reference"]["identifier"] == PARTNERS["identifier"]
    # 42 CFR Part 2: substance-use-disorder records to named recipients only.
    consent["provision"]["class"].append({"system": CATEGORY_SYSTEM, "code": "sud"})
    refused = hco_fhir.post("Consent", consent)
    assert refused.status_code == 422
    assert "42 CFR Part 2" in refused.json()["issue"][0]["diagnostics"]
    assert refused.json()["issue"][0]["expression"] == ["Consent.provision.actor"]
    assert Release.objects.count() == 2  # the tenant's and the first one


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        (
            lambda c: c["provision"]["actor"][0].update(role={"text": "friend"}),
            "Consent.provision.actor[0].role",
        ),
        (lambda c: c["provision"].pop("actor"), "Consent.provision.actor"),
        (
            lambda c: c["provision"]["class"][0].update(code="everything"),
            "Consent.provision.class[0]",
        ),
        (lambda c: c["provision"].pop("class"), "Consent.provision.class"),
        (lambda c: c.pop("sourceAttachment"), "Consent.sourceAttachment"),
        (
            lambda c: c["sourceAttachment"].update(contentType="text/plain"),
            "Consent.sourceAttachment.contentType",
        ),
        (lambda c: c["provision"].update(type="deny"), "Consent.provision.type"),
        (lambda c: c.update(status="proposed"), "Consent.status"),
        (lambda c: c["scope"]["coding"][0].update(code="research"), "Consent.scope"),
    ],
)
def test_consents_linkage_cannot_record(tenant, hco_fhir, change, expression):
    consent = _consent(tenant)
    change(consent)
    response = hco_fhir.post("Consent", consent)
    assert response.status_code == 422, response.json()
    assert response.json()["issue"][0]["expression"] == [expression]
    assert Release.objects.count() == 1


def test_revocation_is_status_inactive(
    tenant, hco_fhir, cbo_fhir, django_capture_on_commit_callbacks
):
    referral_program(tenant)
    bundle, _sr, _task = direct_referral_bundle(tenant)
    body = hco_fhir.post("", bundle).json()
    ids = {e["resource"]["resourceType"]: e["resource"]["id"] for e in body["entry"]}
    consent = hco_fhir.get(f"Consent/{ids['Consent']}").json()
    # The recipient cannot revoke it; the release is the capturing organization's record.
    consent["status"] = "inactive"
    refused = cbo_fhir.put(f"Consent/{ids['Consent']}", consent)
    assert refused.status_code == 422 and "captured" in refused.json()["issue"][0]["diagnostics"]
    changed = {**consent, "status": "active"}
    changed["provision"] = {**consent["provision"], "class": consent["provision"]["class"][:1]}
    assert hco_fhir.put(f"Consent/{ids['Consent']}", changed).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        revoked = hco_fhir.put(f"Consent/{ids['Consent']}", consent)
    assert revoked.status_code == 200, revoked.json()
    assert revoked.json()["status"] == "inactive"
    assert Release.objects.get(pk=ids["Consent"]).revoked_at is not None
    # The referral that depended on it is on hold, and the food bank no longer sees who.
    assert Referral.objects.get(pk=ids["Task"]).status == "on-hold"
    task = cbo_fhir.get(f"Task/{ids['Task']}").json()
    assert task["status"] == "on-hold" and "display" not in task["for"]
