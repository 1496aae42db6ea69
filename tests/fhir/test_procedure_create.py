"""A Procedure POSTed on its own (basedOn the ServiceRequest the organization received),
then named by the Task update that completes the referral — beside the contained and
transaction forms (tests/fhir/test_task_updates.py, test_referral_examples.py)."""

from __future__ import annotations

import pytest

from interop.models import ReportedProcedure
from referrals.models import Referral
from referrals.services import referral_transition
from tests.factories import ClientFactory, referral_for, release_for
from tests.fhir.conftest import Fhir

pytestmark = pytest.mark.django_db

OUTCOME = "https://linkage.invalid/fhir/CodeSystem/referral-outcome"
RESULTING = {
    "coding": [
        {
            "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
            "code": "resulting-activity",
        }
    ]
}


def _procedure(referral: Referral, **changes) -> dict:
    return {
        "resourceType": "Procedure",
        "status": "completed",
        "basedOn": [{"reference": f"ServiceRequest/{referral.pk}"}],
        "code": {"text": "Groceries for a week"},
        "subject": {"reference": f"Patient/{referral.client_id}"},
        "performedDateTime": "2030-01-02",
        "outcome": {"coding": [{"system": OUTCOME, "code": "need-partly-met"}]},
        "note": [{"text": "Enrolled in the weekly pantry."}],
        **changes,
    }


def _accepted(tenant, *, another_client: bool = False) -> Referral:
    client = None
    if another_client:
        client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
        release_for(
            client,
            organization=tenant.hco,
            recipients=[tenant.cbo],
            categories=("demographics", "social_needs", "referrals"),
        )
    referral = referral_for(tenant, client=client)
    referral_transition(
        referral_id=referral.pk, move="accept", actor=tenant.cbo_staff, organization=tenant.cbo
    )
    return referral


def _complete(api: Fhir, referral: Referral, reference: str, **headers):
    task = api.get(f"Task/{referral.pk}").json()
    task["status"] = "completed"
    task["output"] = [{"type": RESULTING, "valueReference": {"reference": reference}}]
    return api.put(f"Task/{referral.pk}", task, **headers)


def _diagnostics(response) -> str:
    return " ".join(i["diagnostics"] for i in response.json()["issue"])


def test_post_then_complete_the_task_with_it(tenant, cbo_fhir, hco_fhir):
    referral = _accepted(tenant)
    created = cbo_fhir.post("Procedure", _procedure(referral))
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["resourceType"] == "Procedure" and body["id"].startswith("reported-")
    assert created["Location"].endswith(f"/fhir/r4/Procedure/{body['id']}")
    assert created["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    assert body["basedOn"] == [{"reference": f"ServiceRequest/{referral.pk}"}]
    assert body["code"] == {"text": "Groceries for a week"}
    # Readable by the receiver and by the sender (who sees the referral's details).
    for api in (cbo_fhir, hco_fhir):
        read = api.get(f"Procedure/{body['id']}")
        assert read.status_code == 200, read.json()
        assert read.json()["outcome"]["coding"][0]["code"] == "need-partly-met"
    referral.refresh_from_db()
    assert referral.status == "accepted"  # reporting is not completing

    done = _complete(cbo_fhir, referral, f"Procedure/{body['id']}")
    assert done.status_code == 200, done.json()
    referral.refresh_from_db()
    assert referral.status == "completed" and referral.outcome == "need-partly-met"
    assert referral.resulting_activity == {
        "system": "",
        "code": "",
        "display": "Groceries for a week",
        "performed": "2030-01-02",
    }
    assert referral.outcome_note == "Enrolled in the weekly pantry."
    assert ReportedProcedure.objects.get().used_at is not None
    # The referral's own resulting activity reads as in the contained form.
    activity = hco_fhir.get(f"Procedure/{referral.pk}").json()
    assert activity["code"] == {"text": "Groceries for a week"}
    # The completed Task sent again as read changes nothing.
    again = cbo_fhir.put(f"Task/{referral.pk}", cbo_fhir.get(f"Task/{referral.pk}").json())
    assert again.status_code == 200


def test_the_same_as_the_contained_form(tenant, cbo_fhir):
    """Reported first or contained, the referral ends with the same record."""
    reported = _accepted(tenant)
    posted = cbo_fhir.post("Procedure", _procedure(reported)).json()
    assert _complete(cbo_fhir, reported, f"Procedure/{posted['id']}").status_code == 200
    contained = _accepted(tenant, another_client=True)
    task = cbo_fhir.get(f"Task/{contained.pk}").json()
    task["status"] = "completed"
    task["contained"] = [{**_procedure(contained), "id": "done"}]
    task["output"] = [{"type": RESULTING, "valueReference": {"reference": "#done"}}]
    assert cbo_fhir.put(f"Task/{contained.pk}", task).status_code == 200
    reported.refresh_from_db()
    contained.refresh_from_db()
    fields = ("status", "outcome", "outcome_note", "resulting_activity")
    assert [getattr(reported, f) for f in fields] == [getattr(contained, f) for f in fields]


def test_a_referral_the_caller_did_not_receive(tenant, foreign_tenant, hco_fhir, fhir_for):
    referral = _accepted(tenant)
    # The sender does not report what the receiver did.
    sent = hco_fhir.post("Procedure", _procedure(referral))
    assert sent.status_code == 422
    assert "is not a referral" in _diagnostics(sent) and "received" in _diagnostics(sent)
    assert sent.json()["issue"][0]["expression"] == ["Procedure.basedOn[0]"]
    # Another tenant's referral reads like no referral at all.
    foreign = fhir_for(foreign_tenant.cbo).post("Procedure", _procedure(referral))
    assert foreign.status_code == 422
    assert "not known here" in _diagnostics(foreign)
    missing = hco_fhir.post(
        "Procedure", _procedure(referral, basedOn=[{"reference": "ServiceRequest/987654"}])
    )
    assert _diagnostics(foreign).replace(str(referral.pk), "N") == _diagnostics(missing).replace(
        "987654", "N"
    )
    assert not ReportedProcedure.objects.exists()


def test_what_a_reported_procedure_must_say(tenant, cbo_fhir):
    referral = _accepted(tenant)
    cases = [
        (_procedure(referral, basedOn=[]), "Procedure.basedOn"),
        (_procedure(referral, code={}), "Procedure.code"),
        (_procedure(referral, status="in-progress"), "Procedure.status"),
        (_procedure(referral, status="not-done", outcome=None), "Procedure.outcome"),
        (_procedure(referral, subject={"reference": "Patient/987654"}), "Procedure.subject"),
    ]
    for resource, expression in cases:
        resource = {k: v for k, v in resource.items() if v is not None}
        response = cbo_fhir.post("Procedure", resource)
        assert response.status_code in (400, 422), (expression, response.json())
        assert response.json()["resourceType"] == "OperationOutcome"
        assert expression in str(response.json()), (expression, response.json())
    assert not ReportedProcedure.objects.exists()


def test_a_closed_referral_takes_no_procedure(tenant, cbo_fhir):
    referral = referral_for(tenant)
    referral_transition(
        referral_id=referral.pk,
        move="reject",
        actor=tenant.cbo_staff,
        organization=tenant.cbo,
        reason="Full",
    )
    response = cbo_fhir.post("Procedure", _procedure(referral))
    assert response.status_code == 422 and "closed" in _diagnostics(response)
    assert not ReportedProcedure.objects.exists()


def test_a_refused_update_leaves_the_procedure_unused(tenant, cbo_fhir):
    referral = referral_for(tenant)  # requested: completing skips acceptance (409)
    posted = cbo_fhir.post("Procedure", _procedure(referral)).json()
    refused = _complete(cbo_fhir, referral, f"Procedure/{posted['id']}")
    assert refused.status_code == 409
    assert ReportedProcedure.objects.get().used_at is None
    referral.refresh_from_db()
    assert referral.status == "requested"


def test_a_procedure_of_another_referral_is_not_this_ones(tenant, cbo_fhir):
    first = _accepted(tenant)
    second = _accepted(tenant, another_client=True)
    posted = cbo_fhir.post("Procedure", _procedure(first)).json()
    response = _complete(cbo_fhir, second, f"Procedure/{posted['id']}")
    assert response.status_code == 422
    assert f"Procedure/{posted['id']} is not known here" in _diagnostics(response)
    second.refresh_from_db()
    assert second.status == "accepted"


def test_reads_follow_the_referral_and_the_policy(tenant, foreign_tenant, cbo_fhir, fhir_for):
    referral = _accepted(tenant)
    posted = cbo_fhir.post("Procedure", _procedure(referral)).json()
    for org in (foreign_tenant.cbo, foreign_tenant.hco, tenant.backbone):
        response = fhir_for(org).get(f"Procedure/{posted['id']}")
        assert response.status_code == 404, org
        assert "Groceries" not in response.content.decode()
    assert cbo_fhir.get("Procedure/reported-987654").status_code == 404
    assert cbo_fhir.get("Procedure/reported-x").status_code == 404
    assert cbo_fhir.get("Procedure/anything").status_code == 404


def test_a_transaction_may_carry_the_procedure_alone(tenant, cbo_fhir):
    referral = _accepted(tenant)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:procedure",
                "resource": _procedure(referral),
                "request": {"method": "POST", "url": "Procedure"},
            }
        ],
    }
    response = cbo_fhir.post("", bundle)
    assert response.status_code == 200, response.json()
    entry = response.json()["entry"][0]
    assert entry["response"]["status"] == "201 Created"
    assert entry["response"]["location"].startswith("Procedure/reported-")
    assert _complete(cbo_fhir, referral, f"Procedure/{entry['resource']['id']}").status_code == 200


def test_prefer_minimal(tenant, cbo_fhir):
    referral = _accepted(tenant)
    response = cbo_fhir.post("Procedure", _procedure(referral), HTTP_PREFER="return=minimal")
    assert response.status_code == 201 and not response.content
    assert "/Procedure/reported-" in response["Location"]


def test_the_capability_statement_says_procedures_are_created(cbo_fhir):
    statement = cbo_fhir.get("metadata").json()
    procedure = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Procedure")
    assert {i["code"] for i in procedure["interaction"]} == {"read", "create"}
