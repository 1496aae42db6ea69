"""Bad input gets a 4xx OperationOutcome that says what is wrong (and where), and writes
nothing."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from clients.models import Client
from consent.models import Release
from referrals.models import Referral
from tests.factories import referral_program
from tests.fhir import examples as ex
from tests.fhir.test_referral_examples import direct_referral_bundle

pytestmark = pytest.mark.django_db


def _outcome(response, status: int) -> list[dict]:
    assert response.status_code == status, response.content[:1000]
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"] and all(i["diagnostics"] for i in body["issue"])
    return body["issue"]


@pytest.fixture
def nothing_written(tenant):
    """Counts of what a refused request must not add to."""
    referral_program(tenant)
    before = (Client.objects.count(), Release.objects.count(), Referral.objects.count())
    writes = AuditEvent.objects.exclude(action__in=["view", "list", "search"]).count()
    yield
    assert (Client.objects.count(), Release.objects.count(), Referral.objects.count()) == before
    assert AuditEvent.objects.exclude(action__in=["view", "list", "search"]).count() == writes


def test_malformed_json(hco_fhir, nothing_written):
    issues = _outcome(hco_fhir.post("", b'{"resourceType": "Bundle", '), 400)
    assert "not valid JSON" in issues[0]["diagnostics"]
    assert "not valid JSON" in _outcome(hco_fhir.post("Task", b"[1, 2"), 400)[0]["diagnostics"]


def test_no_body_or_another_media_type(hco_fhir, nothing_written):
    _outcome(hco_fhir.post("Patient", b""), 400)
    issues = _outcome(hco_fhir.post("Patient", "<Patient/>", content_type="application/xml"), 415)
    assert "application/fhir+json" in issues[0]["diagnostics"]


def test_wrong_resource_type(hco_fhir, nothing_written):
    patient = ex.load(ex.PATIENT)
    issues = _outcome(hco_fhir.post("Task", patient), 400)
    assert "resourceType is 'Patient'" in issues[0]["diagnostics"]
    issues = _outcome(hco_fhir.post("", patient), 400)
    assert "Bundle" in issues[0]["diagnostics"]
    _outcome(hco_fhir.post("Task", {"resourceType": "Nonsense"}), 400)


def test_structure_errors_name_the_element(tenant, hco_fhir, nothing_written):
    bundle, _sr, task = direct_referral_bundle(tenant)
    task["authoredOn"] = "last tuesday"
    task["colour"] = "blue"
    issues = _outcome(hco_fhir.post("", bundle), 400)
    where = {e for i in issues for e in i["expression"]}
    assert "Bundle.entry[0].resource.authoredOn" in where
    assert "Bundle.entry[0].resource.colour" in where
    task.pop("authoredOn"), task.pop("colour")
    task.pop("status")
    issues = _outcome(hco_fhir.post("", bundle), 400)
    assert issues[0]["code"] == "required"
    assert issues[0]["expression"] == ["Bundle.entry[0].resource.status"]


@pytest.mark.parametrize(
    ("change", "expression", "words"),
    [
        # A code outside the IG's SDOH category value set.
        (
            lambda sr, task: sr["category"][1]["coding"][0].update(code="hunger"),
            "Bundle.entry[1].resource.category[1].coding[0].code",
            "not an SDOH category",
        ),
        # No SDOH category at all.
        (
            lambda sr, task: sr["category"].pop(1),
            "Bundle.entry[1].resource.category",
            "SDOH category",
        ),
        # Task statuses the IG's referral value set excludes.
        (
            lambda sr, task: task.update(status="ready"),
            "Bundle.entry[0].resource.status",
            "requested",
        ),
        # A code the FHIR model itself does not know (required binding).
        (
            lambda sr, task: task.update(intent="wish"),
            "Bundle.entry[0].resource.intent",
            "not a valid code",
        ),
        (
            lambda sr, task: sr.update(priority="stat"),
            "Bundle.entry[1].resource.priority",
            "SDOHCC-ValueSetTaskPriority",
        ),
        (
            lambda sr, task: task.update(code={"coding": [{"system": "x", "code": "y"}]}),
            "Bundle.entry[0].resource.code",
            "fulfill",
        ),
        (
            lambda sr, task: sr.pop("code"),
            "Bundle.entry[1].resource.code",
            "which service",
        ),
    ],
)
def test_wrongly_coded_referrals(tenant, hco_fhir, nothing_written, change, expression, words):
    bundle, sr, task = direct_referral_bundle(tenant)
    change(sr, task)
    issues = _outcome(hco_fhir.post("", bundle), 422)
    assert issues[0]["expression"] == [expression], issues
    assert words in issues[0]["diagnostics"]


def test_a_refusal_late_in_the_transaction_undoes_the_rest(tenant, hco_fhir, nothing_written):
    """The Patient and the Consent come first; the Task's owner is not in the network."""
    bundle, _sr, task = direct_referral_bundle(tenant)
    task["owner"] = {"reference": "Organization/999999"}
    issues = _outcome(hco_fhir.post("", bundle), 422)
    assert "not an organization of your network" in issues[0]["diagnostics"]


def test_task_owner_not_covered_by_a_release(tenant, hco_fhir, nothing_written):
    """The Consent of the Bundle names someone else: the food bank may not see the patient."""
    bundle, _sr, _task = direct_referral_bundle(tenant)
    consent = bundle["entry"][2]["resource"]
    consent["provision"]["actor"][0]["reference"] = {
        "reference": f"Organization/{tenant.backbone.pk}"
    }
    issues = _outcome(hco_fhir.post("", bundle), 422)
    assert issues[0]["code"] == "business-rule"
    assert issues[0]["expression"] == ["Bundle.entry[0].resource.owner"]
    text = issues[0]["diagnostics"]
    assert f"Organization/{tenant.cbo.pk}" in text and "not covered by an active release" in text


def test_references_that_cannot_be_followed(tenant, hco_fhir, nothing_written):
    bundle, sr, _task = direct_referral_bundle(tenant)
    sr["subject"] = {"reference": "https://elsewhere.example/fhir/Patient/1"}
    issues = _outcome(hco_fhir.post("", bundle), 422)
    assert "not a reference Linkage can follow" in issues[0]["diagnostics"]
    sr["subject"] = {"reference": "urn:uuid:consent"}
    issues = _outcome(hco_fhir.post("", bundle), 422)
    assert "is a Consent in this Bundle" in issues[0]["diagnostics"]


def test_bundles_linkage_does_not_take(hco_fhir, nothing_written):
    issues = _outcome(hco_fhir.post("", {"resourceType": "Bundle", "type": "batch"}), 422)
    assert issues[0]["expression"] == ["Bundle.type"]
    entry = {"resource": ex.load(ex.PATIENT), "request": {"method": "DELETE", "url": "Patient/1"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    _outcome(hco_fhir.post("", bundle), 422)
    entry["request"] = {"method": "POST", "url": "Patient"}
    bundle["entry"].append({**entry, "fullUrl": "urn:uuid:a"})
    bundle["entry"].append({**entry, "fullUrl": "urn:uuid:a"})
    issues = _outcome(hco_fhir.post("", bundle), 422)
    assert "fullUrl" in issues[0]["diagnostics"]


def test_unknown_routes_and_methods(hco_fhir):
    _outcome(hco_fhir.get("Goal/1"), 404)
    _outcome(hco_fhir.get("Task/not-a-number"), 404)
    _outcome(hco_fhir.api.delete("/fhir/r4/Task/1"), 405)
    _outcome(hco_fhir.put("Organization/1", {}), 405)
    _outcome(hco_fhir.post("HealthcareService", {"resourceType": "HealthcareService"}), 405)


def test_search_parameters_are_checked(hco_fhir):
    assert (
        "not a search parameter"
        in _outcome(hco_fhir.get("Task", {"ownr": "1"}), 400)[0]["diagnostics"]
    )
    _outcome(hco_fhir.get("Task", {"status": "ready"}), 400)
    _outcome(hco_fhir.get("Task", {"_lastUpdated": "gt2024-13-40"}), 400)
    _outcome(hco_fhir.get("Task", {"_lastUpdated": "zz2024-01-01"}), 400)
    _outcome(hco_fhir.get("Task", {"owner": "Patient/1"}), 400)
    _outcome(hco_fhir.get("Task", {"_count": "5000"}), 400)
    _outcome(hco_fhir.get("Task", {"_include": "Task:owner"}), 400)
