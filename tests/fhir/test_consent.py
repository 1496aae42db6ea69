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


def _without_classes(tenant) -> dict:
    """Shaped like the IG's SDOHCC-ConsentInformationDisclosureExample: no provision.class."""
    consent = _consent(tenant)
    consent["provision"].pop("class")
    return consent


def test_a_consent_without_classes_covers_what_a_referral_carries(tenant, hco_fhir):
    response = hco_fhir.post("Consent", _without_classes(tenant))
    assert response.status_code == 201, response.json()
    assert response["Preference-Applied"] == "return=representation"
    release = Release.objects.get(pk=response.json()["id"])
    assert {c.value for c in release.categories} == {"demographics", "social_needs", "referrals"}
    assert not (release.covers_health or release.covers_behavioral_health or release.covers_sud)


def test_the_assumed_classes_are_said_in_a_warning(tenant, hco_fhir):
    response = hco_fhir.post(
        "Consent", _without_classes(tenant), HTTP_PREFER="return=OperationOutcome"
    )
    assert response.status_code == 201
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    assert issue["severity"] == "warning"
    assert issue["expression"] == ["Consent.provision.class"]
    assert "never health, behavioral health or 42 CFR Part 2" in issue["diagnostics"]
    assert response["Location"].endswith(f"/Consent/{Release.objects.latest('pk').pk}")


def test_a_transaction_says_the_warning_on_its_entry(tenant, hco_fhir):
    consent = _without_classes(tenant)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": consent, "request": {"method": "POST", "url": "Consent"}}],
    }
    response = hco_fhir.post("", bundle)
    assert response.status_code == 200, response.json()
    [entry] = response.json()["entry"]
    assert entry["response"]["status"].startswith("201")
    [issue] = entry["response"]["outcome"]["issue"]
    assert (issue["severity"], issue["code"]) == ("warning", "incomplete")


def test_a_complete_consent_has_no_warning_and_minimal_means_no_body(tenant, hco_fhir):
    response = hco_fhir.post("Consent", _consent(tenant), HTTP_PREFER="return=OperationOutcome")
    assert [i["severity"] for i in response.json()["issue"]] == ["information"]
    response = hco_fhir.post("Consent", _consent(tenant), HTTP_PREFER="return=minimal")
    assert response.status_code == 201
    assert response.content == b""
    assert response["Location"] and response["ETag"]
