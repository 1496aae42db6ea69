"""The referral's coded fields: why it was declined (a code, with the explanation in words),
the requested service and the resulting activity (concepts from the systems it travels
through), set by the services and carried along a routed referral."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from referrals.concepts import Activity, Concept
from referrals.models import Notification, Referral
from referrals.services import referral_transition
from tests.factories import ProgramFactory

from .coordination_support import fresh, hub, route, send_to_hub
from .workflow_support import parties, send

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"


def decline(p, referral, **fields):
    return referral_transition(
        referral_id=referral.pk,
        move="reject",
        actor=p.receiver,
        organization=p.tenant.cbo,
        **fields,
    )


def test_a_decline_records_its_coded_reason_and_the_explanation(tenant):
    p = parties(tenant)
    referral = send(p)
    declined = decline(p, referral, decline_reason="no-capacity", reason="Full until June")
    assert (declined.status, declined.decline_reason, declined.status_reason) == (
        "rejected",
        "no-capacity",
        "Full until June",
    )
    audit = AuditEvent.objects.filter(object_type="referral", action="update").latest("pk")
    assert audit.detail["decline_reason"] == "no-capacity"
    # The sender is told why, by the code (never the explanation's words).
    [told] = Notification.objects.filter(user=p.sender, kind="referral_status")
    assert (
        told.message == f"Referral #{referral.pk} to Weekly Groceries is now declined: no capacity."
    )


def test_a_coded_reason_needs_no_words_but_other_does(tenant):
    p = parties(tenant)
    coded = decline(p, send(p), decline_reason="outside-service-area")
    assert (coded.decline_reason, coded.status_reason) == ("outside-service-area", "")
    second = send(p, program=ProgramFactory(organization=tenant.cbo))
    for fields in ({}, {"decline_reason": "other"}, {"decline_reason": "other", "reason": " "}):
        with pytest.raises(ValidationError) as refused:
            decline(p, second, **fields)
        assert "reason" in refused.value.message_dict
    # Without a code, the words alone are an "other" reason (older API clients, FHIR text).
    worded = decline(p, second, reason="The client found help nearer home")
    assert (worded.decline_reason, worded.status_reason) == (
        "other",
        "The client found help nearer home",
    )


def test_unknown_or_misplaced_decline_reasons_are_refused_and_nothing_changes(tenant):
    p = parties(tenant)
    referral = send(p)
    with pytest.raises(ValidationError) as unknown:
        decline(p, referral, decline_reason="busy", reason="Busy")
    assert "decline_reason" in unknown.value.message_dict
    with pytest.raises(ValidationError) as misplaced:
        referral_transition(
            referral_id=referral.pk,
            move="accept",
            actor=p.receiver,
            organization=tenant.cbo,
            decline_reason="no-capacity",
        )
    assert misplaced.value.message_dict["decline_reason"] == [
        "Only a decline has a decline reason."
    ]
    assert fresh(referral).status == "requested" and fresh(referral).decline_reason == ""


def test_the_requested_service_is_kept_as_sent(tenant):
    p = parties(tenant)
    referral = send(
        p,
        reason="Mornings are best.",
        requested_service=Concept(
            system=SNOMED, code="467771000124109", display="  Food pantry   application "
        ),
    )
    assert fresh(referral).requested_service == {
        "system": SNOMED,
        "code": "467771000124109",
        "display": "Food pantry application",
    }
    assert fresh(referral).reason == "Mornings are best."
    # Words alone are a concept too; nothing at all is none.
    words = send(
        p,
        program=ProgramFactory(organization=tenant.cbo),
        requested_service=Concept(display="Rides"),
    )
    assert words.requested.display == "Rides" and words.requested.code == ""
    assert send(p, program=ProgramFactory(organization=tenant.cbo)).requested_service is None


@pytest.mark.parametrize(
    ("concept", "problem"),
    [
        (Concept(code="467771000124109"), "needs the code system"),
        (Concept(system=SNOMED), "needs the code"),
        (Concept(system=SNOMED, code="1" * 201), "Too long"),
    ],
)
def test_a_malformed_requested_service_is_refused_and_nothing_is_sent(tenant, concept, problem):
    p = parties(tenant)
    with pytest.raises(ValidationError) as refused:
        send(p, requested_service=concept)
    assert problem in refused.value.message_dict["requested_service"][0]
    assert not Referral.objects.exists()


def test_completion_records_the_resulting_activity(tenant):
    p = parties(tenant)
    referral = send(p)
    move = {"actor": p.receiver, "organization": tenant.cbo}
    referral_transition(referral_id=referral.pk, move="accept", **move)
    with pytest.raises(ValidationError) as early:
        referral_transition(
            referral_id=referral.pk,
            move="start",
            resulting_activity=Activity(display="Groceries"),
            **move,
        )
    assert "resulting_activity" in early.value.message_dict
    with pytest.raises(ValidationError):
        referral_transition(
            referral_id=referral.pk,
            move="complete",
            outcome="need-met",
            resulting_activity=Activity(
                system=SNOMED,
                code="1",
                performed=datetime(2030, 1, 2, 9),  # no time zone
            ),
            **move,
        )
    done = referral_transition(
        referral_id=referral.pk,
        move="complete",
        outcome="need-met",
        outcome_note="Two boxes",
        resulting_activity=Activity(
            system=SNOMED,
            code="467771000124109",
            display="Food pantry application",
            performed=date(2030, 1, 2),
        ),
        **move,
    )
    assert fresh(done).resulting_activity == {
        "system": SNOMED,
        "code": "467771000124109",
        "display": "Food pantry application",
        "performed": "2030-01-02",
    }
    assert fresh(done).activity.performed == date(2030, 1, 2)
    assert fresh(done).outcome_note == "Two boxes"


def test_a_routed_referral_carries_the_service_and_hands_back_the_activity(tenant):
    h = hub(tenant)
    service = Concept(system=SNOMED, code="467771000124109", display="Food pantry application")
    whole = send_to_hub(h, requested_service=service)
    part = route(h, whole)
    # Routed in the browser: the source's requested service goes with it.
    assert fresh(part).requested_service == fresh(whole).requested_service
    move = {"actor": h.cbo_user, "organization": tenant.cbo}
    referral_transition(referral_id=part.pk, move="accept", **move)
    when = datetime(2030, 1, 2, 15, 30, tzinfo=UTC)
    referral_transition(
        referral_id=part.pk,
        move="complete",
        outcome="need-met",
        resulting_activity=Activity(display="Enrolled in weekly pickup", performed=when),
        **move,
    )
    whole = fresh(whole)
    assert whole.status == "completed"
    assert whole.resulting_activity == fresh(part).resulting_activity
    assert whole.activity.performed == when


def test_a_routed_referral_declined_with_a_code_tells_the_source_why(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    referral_transition(
        referral_id=part.pk,
        move="reject",
        actor=h.cbo_user,
        organization=tenant.cbo,
        decline_reason="not-eligible",
        reason="Over the income limit",
    )
    whole = fresh(whole)
    assert (whole.status, whole.business_status, whole.decline_reason) == (
        "accepted",
        "rerouting",
        "",
    )
    relay = whole.events.filter(kind="transition").latest("pk")
    assert relay.reason == (
        f"The program it was routed to declined it (referral #{part.pk}): not eligible. "
        "The backbone routes it again."
    )
    # The explanation stays with the routed referral's parties.
    assert "income" not in relay.reason


def test_the_page_shows_the_requested_service_and_what_was_done(client, login, tenant):
    p = parties(tenant)
    referral = send(
        p,
        requested_service=Concept(
            system=SNOMED, code="467771000124109", display="Food pantry application"
        ),
    )
    move = {"actor": p.receiver, "organization": tenant.cbo}
    referral_transition(referral_id=referral.pk, move="accept", **move)
    referral_transition(
        referral_id=referral.pk,
        move="complete",
        outcome="need-met",
        resulting_activity=Activity(
            display="Enrolled in weekly pickup", performed=date(2030, 1, 2)
        ),
        **move,
    )
    login(tenant.hco_navigator)
    body = client.get(f"/referrals/{referral.pk}/").content.decode()
    service = re.search(r'data-testid="requested-service">(.*?)</dd>', body, re.S).group(1)
    assert "Food pantry application" in service and "467771000124109" in service
    done = re.search(r'data-testid="resulting-activity">(.*?)</p>', body, re.S).group(1)
    assert "Enrolled in weekly pickup" in done and "Jan 2, 2030" in done
