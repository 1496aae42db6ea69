"""Task updates are the browser's state machine: the same moves, sides and messages."""

from __future__ import annotations

import pytest

from referrals.models import Referral
from tests.factories import referral_for
from tests.fhir.conftest import Fhir

pytestmark = pytest.mark.django_db

BUSINESS = "https://linkage.invalid/fhir/CodeSystem/referral-business-status"
OUTCOME = "https://linkage.invalid/fhir/CodeSystem/referral-outcome"
RESULTING = {
    "coding": [
        {
            "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
            "code": "resulting-activity",
        }
    ]
}


def _task(api: Fhir, referral: Referral) -> dict:
    response = api.get(f"Task/{referral.pk}")
    assert response.status_code == 200, response.json()
    return response.json()


def _move(api: Fhir, referral: Referral, status: str, **changes):
    task = _task(api, referral)
    task["status"] = status
    task.update(changes)
    return api.put(f"Task/{referral.pk}", task)


def _procedure(referral, **changes) -> dict:
    return {
        "resourceType": "Procedure",
        "id": "done",
        "status": "completed",
        "code": {"text": "Groceries for a week"},
        "subject": {"reference": f"Patient/{referral.client_id}"},
        **changes,
    }


def _status(referral) -> str:
    referral.refresh_from_db()
    return referral.status


def test_the_receiver_accepts_starts_and_completes(tenant, cbo_fhir):
    referral = referral_for(tenant)
    assert _move(cbo_fhir, referral, "accepted").status_code == 200
    assert _move(cbo_fhir, referral, "in-progress").status_code == 200
    done = _move(
        cbo_fhir,
        referral,
        "completed",
        contained=[
            _procedure(
                referral,
                outcome={"coding": [{"system": OUTCOME, "code": "need-partly-met"}]},
                performedDateTime="2030-01-02",
            )
        ],
        output=[{"type": RESULTING, "valueReference": {"reference": "#done"}}],
    )
    assert done.status_code == 200, done.json()
    assert done["ETag"].startswith('W/"')
    referral.refresh_from_db()
    assert referral.status == "completed" and referral.outcome == "need-partly-met"
    # What was done is the referral's resulting activity (words and date), not its note.
    assert referral.outcome_note == ""
    assert referral.resulting_activity == {
        "system": "",
        "code": "",
        "display": "Groceries for a week",
        "performed": "2030-01-02",
    }
    procedure = cbo_fhir.get(f"Procedure/{referral.pk}").json()
    assert procedure["code"] == {"text": "Groceries for a week"}
    assert procedure["performedDateTime"] == "2030-01-02"
    event = referral.events.filter(kind="transition").order_by("-id").first()
    assert (event.from_status, event.to_status, event.organization) == (
        "in-progress",
        "completed",
        tenant.cbo,
    )


def test_the_sender_may_not_accept(tenant, hco_fhir):
    referral = referral_for(tenant)
    response = _move(hco_fhir, referral, "accepted")
    assert response.status_code == 403
    issue = response.json()["issue"][0]
    assert issue["code"] == "forbidden" and "receiving organization" in issue["diagnostics"]
    assert _status(referral) == "requested"


def test_the_sender_may_cancel_with_a_reason(tenant, hco_fhir):
    referral = referral_for(tenant)
    no_reason = _move(hco_fhir, referral, "cancelled")
    assert no_reason.status_code == 422
    assert no_reason.json()["issue"][0]["expression"] == ["Task.statusReason"]
    assert _status(referral) == "requested"
    cancelled = _move(hco_fhir, referral, "cancelled", statusReason={"text": "Moved away"})
    assert cancelled.status_code == 200 and cancelled.json()["statusReason"]["text"] == "Moved away"


def test_moves_the_state_machine_does_not_have(tenant, cbo_fhir):
    referral = referral_for(tenant)
    # requested -> completed skips acceptance: the service says what the referral is.
    skipped = _move(
        cbo_fhir,
        referral,
        "completed",
        contained=[_procedure(referral)],
        output=[{"type": RESULTING, "valueReference": {"reference": "#done"}}],
    )
    assert skipped.status_code == 409
    assert skipped.json()["issue"][0]["code"] == "conflict"
    assert "was not made" in skipped.json()["issue"][0]["diagnostics"]
    # Statuses the IG's referral Task value set excludes.
    received = _move(cbo_fhir, referral, "received")
    assert received.status_code == 422 and "excludes ready and received" in str(received.json())
    # Back to draft: no move leads there.
    assert _move(cbo_fhir, referral, "draft").status_code == 422
    assert _status(referral) == "requested"
    # A closed referral stays closed.
    assert _move(cbo_fhir, referral, "rejected", statusReason={"text": "Full"}).status_code == 200
    late = _move(cbo_fhir, referral, "accepted")
    assert late.status_code == 409 and "closed" in late.json()["issue"][0]["diagnostics"]


def test_completion_needs_its_resulting_activity(tenant, cbo_fhir):
    referral = referral_for(tenant)
    _move(cbo_fhir, referral, "accepted")
    bare = _move(cbo_fhir, referral, "completed")
    assert bare.status_code == 422
    assert bare.json()["issue"][0]["expression"] == ["Task.output"]
    elsewhere = _move(
        cbo_fhir,
        referral,
        "completed",
        output=[{"type": RESULTING, "valueReference": {"reference": "Procedure/12345"}}],
    )
    assert elsewhere.status_code == 422
    not_done = _move(
        cbo_fhir,
        referral,
        "completed",
        contained=[_procedure(referral, status="not-done")],
        output=[{"type": RESULTING, "valueReference": {"reference": "#done"}}],
    )
    assert not_done.status_code == 422 and "outcome" in str(not_done.json())
    wrong_outcome = _move(
        cbo_fhir,
        referral,
        "completed",
        contained=[
            _procedure(referral, outcome={"coding": [{"system": OUTCOME, "code": "great"}]})
        ],
        output=[{"type": RESULTING, "valueReference": {"reference": "#done"}}],
    )
    assert wrong_outcome.status_code == 422
    assert wrong_outcome.json()["issue"][0]["expression"] == ["Task.contained[0].outcome"]
    assert _status(referral) == "accepted"


def test_waitlist_through_business_status(tenant, cbo_fhir):
    referral = referral_for(tenant)
    waitlisted = {"coding": [{"system": BUSINESS, "code": "waitlisted"}]}
    response = _move(cbo_fhir, referral, "on-hold", businessStatus=waitlisted)
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    assert (referral.status, referral.business_status) == ("on-hold", "waitlisted")
    assert response.json()["businessStatus"]["coding"][0]["code"] == "waitlisted"
    # Business statuses Linkage sets itself are not taken from an update.
    contacted = {"coding": [{"system": BUSINESS, "code": "contacted"}]}
    assert _move(cbo_fhir, referral, "in-progress", businessStatus=contacted).status_code == 422
    assert _move(cbo_fhir, referral, "in-progress").status_code == 200


def test_update_may_not_change_who_and_what(tenant, cbo_fhir, foreign_tenant):
    referral = referral_for(tenant)
    for name, value in [
        ("owner", {"reference": f"Organization/{tenant.hco.pk}"}),
        ("for", {"reference": f"Patient/{foreign_tenant.client.pk}"}),
        ("focus", {"reference": "ServiceRequest/999"}),
    ]:
        response = _move(cbo_fhir, referral, "accepted", **{name: value})
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == [f"Task.{name}"]
    missing_id = _task(cbo_fhir, referral)
    missing_id.pop("id")
    assert cbo_fhir.put(f"Task/{referral.pk}", missing_id).status_code == 400
    assert _status(referral) == "requested"


def test_if_match_refuses_a_stale_update(tenant, cbo_fhir, hco_fhir):
    referral = referral_for(tenant)
    seen = cbo_fhir.get(f"Task/{referral.pk}")
    etag = seen["ETag"]
    assert _move(hco_fhir, referral, "cancelled", statusReason={"text": "Error"}).status_code == 200
    task = seen.json()
    task["status"] = "accepted"
    stale = cbo_fhir.put(f"Task/{referral.pk}", task, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert _status(referral) == "cancelled"


def test_an_unchanged_task_changes_nothing(tenant, cbo_fhir):
    referral = referral_for(tenant)
    before = referral.updated_at
    task = _task(cbo_fhir, referral)
    assert cbo_fhir.put(f"Task/{referral.pk}", task).status_code == 200
    referral.refresh_from_db()
    assert referral.updated_at == before and referral.events.filter(kind="transition").count() == 0


DECLINE = "https://linkage.invalid/fhir/CodeSystem/referral-decline-reason"


def test_a_decline_carries_its_reason_as_a_code(tenant, cbo_fhir, hco_fhir):
    """Task.statusReason.coding in Linkage's decline-reason system is the referral's
    decline reason, its text the explanation; both come back on read."""
    referral = referral_for(tenant)
    unknown = _move(
        cbo_fhir,
        referral,
        "rejected",
        statusReason={"coding": [{"system": DECLINE, "code": "too-busy"}]},
    )
    assert unknown.status_code == 422
    assert unknown.json()["issue"][0]["expression"] == ["Task.statusReason.coding[0].code"]
    # "Other" (the default without a code) needs the words.
    assert _move(cbo_fhir, referral, "rejected").status_code == 422
    assert _status(referral) == "requested"
    response = _move(
        cbo_fhir,
        referral,
        "rejected",
        statusReason={
            "coding": [{"system": DECLINE, "code": "outside-service-area"}],
            "text": "We serve the county north of the river.",
        },
    )
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason, referral.status_reason) == (
        "rejected",
        "outside-service-area",
        "We serve the county north of the river.",
    )
    # The clinic reads why, coded and in words.
    assert _task(hco_fhir, referral)["statusReason"] == {
        "coding": [
            {
                "system": DECLINE,
                "code": "outside-service-area",
                "display": "Outside the service area",
            }
        ],
        "text": "We serve the county north of the river.",
    }


def test_a_coded_decline_needs_no_words_and_other_moves_take_no_decline_code(tenant, cbo_fhir):
    referral = referral_for(tenant)
    coded = {"coding": [{"system": DECLINE, "code": "no-capacity"}]}
    cancel = _move(cbo_fhir, referral, "cancelled", statusReason={**coded, "text": "Full"})
    assert cancel.status_code == 422 and "only when the Task is rejected" in str(cancel.json())
    assert _status(referral) == "requested"
    assert _move(cbo_fhir, referral, "rejected", statusReason=coded).status_code == 200
    referral.refresh_from_db()
    assert (referral.decline_reason, referral.status_reason) == ("no-capacity", "")
    assert _task(cbo_fhir, referral)["statusReason"]["coding"][0]["code"] == "no-capacity"
