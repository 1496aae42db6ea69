"""The referral state machine: every move from every status by every persona.

Allowed ⇔ the status is one the move starts from (workflow.MOVES) and the persona's
organization is the side the move belongs to. Refused moves raise and write nothing.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from referrals.models import Notification, Referral, ReferralEvent
from referrals.services import (
    TransitionConflict,
    allowed_moves,
    referral_assign,
    referral_log_inbound,
    referral_mark_opened,
    referral_note_add,
    referral_record_contact,
    referral_transition,
)
from referrals.workflow import MOVES, OPEN, TERMINAL, Status

from .workflow_support import NEEDS, at_status, parties, send, transitions

pytestmark = pytest.mark.django_db

# Who may make each move (ARCHITECTURE.md, Referral state machine), written out here rather
# than read from the code under test. consent_hold is Linkage's own: no organization.
SIDES = {
    "send": {"sender"},
    "accept": {"receiver"},
    "reject": {"receiver"},
    "waitlist": {"receiver"},
    "start": {"receiver"},
    "hold": {"receiver"},
    "resume": {"receiver"},
    "complete": {"receiver"},
    "fail": {"receiver"},
    "cancel": {"sender", "receiver"},
    "consent_hold": set(),
    "mark_error": {"sender"},
}
PERSONAS = ["sender", "receiver", "third", "backbone"]
REASON_REQUIRED = {"reject", "hold", "fail", "cancel", "mark_error", "consent_hold"}


def test_the_statuses_are_the_igs_referral_task_statuses():
    # SDOHCC-ValueSetReferralTaskStatus: FHIR TaskStatus without ready and received.
    assert set(Status.values) == {
        "draft",
        "requested",
        "accepted",
        "rejected",
        "in-progress",
        "on-hold",
        "completed",
        "failed",
        "cancelled",
        "entered-in-error",
    }
    assert set(TERMINAL) == {"rejected", "completed", "failed", "cancelled", "entered-in-error"}


def test_the_moves_are_the_documented_state_machine():
    assert set(SIDES) == set(MOVES)
    table = {name: (set(m.sources), m.target) for name, m in MOVES.items()}
    everything_but_error = set(Status.values) - {"entered-in-error"}
    assert table == {
        "send": ({"draft"}, "requested"),
        "accept": ({"requested"}, "accepted"),
        "reject": ({"requested"}, "rejected"),
        "waitlist": ({"requested", "accepted"}, "on-hold"),
        "start": ({"accepted"}, "in-progress"),
        "hold": ({"accepted", "in-progress"}, "on-hold"),
        "resume": ({"on-hold"}, "in-progress"),
        "complete": ({"accepted", "in-progress"}, "completed"),
        "fail": ({"accepted", "in-progress"}, "failed"),
        "cancel": (set(OPEN), "cancelled"),
        "consent_hold": ({"requested", "accepted", "in-progress"}, "on-hold"),
        "mark_error": (everything_but_error, "entered-in-error"),
    }
    assert {n for n, m in MOVES.items() if m.reason_required} == REASON_REQUIRED
    assert {n for n, m in MOVES.items() if m.outcome_required} == {"complete"}


def _expected(status: str, move: str, persona: str):
    if persona not in SIDES[move]:
        return PermissionDenied
    if status not in MOVES[move].sources:
        return TransitionConflict
    return None


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("move", sorted(MOVES))
@pytest.mark.parametrize("status", Status.values)
def test_every_move_from_every_status_by_every_persona(tenant, status, move, persona):
    p = parties(tenant)
    referral = at_status(p, status)
    user, org = p.actor(persona)
    notifications_before = Notification.objects.count()
    audits_before = AuditEvent.objects.filter(action="update").count()
    expected = _expected(status, move, persona)

    def act():
        return referral_transition(
            referral_id=referral.pk,
            move=move,
            actor=user,
            organization=org,
            reason="Reason given",
            outcome=Referral.Outcome.NEED_MET,
        )

    if expected is None:
        moved = act()
        assert moved.status == MOVES[move].target
        assert Referral.objects.get(pk=referral.pk).status == MOVES[move].target
        [event] = transitions(referral)
        assert (event.actor, event.organization) == (user, org)
        assert (event.from_status, event.to_status) == (status, MOVES[move].target)
        assert event.occurred_at is not None
        if MOVES[move].reason_required:
            assert event.reason == "Reason given"
        assert AuditEvent.objects.filter(action="update").count() == audits_before + 1
    else:
        with pytest.raises(expected) as refused:
            act()
        if expected is TransitionConflict:
            # The message says what the referral is now.
            assert Referral(status=status).get_status_display() in str(refused.value)
        assert Referral.objects.get(pk=referral.pk).status == status
        assert transitions(referral) == []
        assert Notification.objects.count() == notifications_before
        assert AuditEvent.objects.filter(action="update").count() == audits_before


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("status", Status.values)
def test_the_action_buttons_offer_exactly_the_allowed_moves(tenant, status, persona):
    p = parties(tenant)
    referral = at_status(p, status)
    _, org = p.actor(persona)
    offered = {m.name for m in allowed_moves(referral, org)}
    assert offered == {m for m in MOVES if _expected(status, m, persona) is None}


@pytest.mark.parametrize(
    ("move", "status", "persona"),
    [
        ("reject", "requested", "receiver"),
        ("hold", "in-progress", "receiver"),
        ("fail", "accepted", "receiver"),
        ("cancel", "requested", "sender"),
        ("cancel", "in-progress", "receiver"),
        ("mark_error", "requested", "sender"),
    ],
)
@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_reason_is_required(tenant, move, status, persona, reason):
    p = parties(tenant)
    referral = at_status(p, status)
    user, org = p.actor(persona)
    with pytest.raises(ValidationError) as refused:
        referral_transition(
            referral_id=referral.pk, move=move, actor=user, organization=org, reason=reason
        )
    assert not isinstance(refused.value, TransitionConflict)
    assert "reason" in refused.value.message_dict
    assert Referral.objects.get(pk=referral.pk).status == status
    assert transitions(referral) == []


@pytest.mark.parametrize("outcome", ["", "great-success"])
def test_completing_requires_a_known_outcome(tenant, outcome):
    p = parties(tenant)
    referral = at_status(p, "in-progress")
    with pytest.raises(ValidationError) as refused:
        referral_transition(
            referral_id=referral.pk,
            move="complete",
            actor=p.receiver,
            organization=tenant.cbo,
            outcome=outcome,
        )
    assert "outcome" in refused.value.message_dict
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("in-progress", "")
    assert transitions(referral) == []


def test_completion_records_the_outcome_the_sender_sees(tenant):
    p = parties(tenant)
    referral = at_status(p, "in-progress")
    referral_transition(
        referral_id=referral.pk,
        move="complete",
        actor=p.receiver,
        organization=tenant.cbo,
        outcome=Referral.Outcome.NEED_PARTLY_MET,
        outcome_note="Two of three bills paid.",
    )
    referral.refresh_from_db()
    assert referral.status == "completed"
    assert referral.outcome == "need-partly-met"
    assert referral.outcome_note == "Two of three bills paid."
    assert referral.closed_at is not None and referral.follow_up_due_at is not None
    assert referral.update_due_at is None and referral.ack_due_at is None


def test_unknown_move_is_refused(tenant):
    p = parties(tenant)
    referral = send(p)
    with pytest.raises(ValidationError, match="Unknown action"):
        referral_transition(
            referral_id=referral.pk, move="teleport", actor=p.receiver, organization=tenant.cbo
        )


def test_only_linkage_puts_a_referral_on_consent_hold(tenant):
    p = parties(tenant)
    referral = send(p)
    with pytest.raises(PermissionDenied):
        referral_transition(referral_id=referral.pk, move="accept", actor=None, organization=None)
    moved = referral_transition(
        referral_id=referral.pk,
        move="consent_hold",
        actor=None,
        organization=None,
        reason="The client's release of information was revoked.",
    )
    assert moved.status == "on-hold"
    [event] = transitions(referral)
    assert event.actor is None and event.organization is None
    # Linkage holding it is not the receiver accepting it.
    assert moved.accepted_at is None


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_terminal_referrals_are_read_only_except_notes(tenant, status):
    p = parties(tenant)
    referral = at_status(p, status)
    before = referral.events.count()
    for move, (user, org) in [
        ("cancel", p.actor("sender")),
        ("accept", p.actor("receiver")),
        ("resume", p.actor("receiver")),
        ("complete", p.actor("receiver")),
    ]:
        with pytest.raises(TransitionConflict, match="only notes can be added"):
            referral_transition(
                referral_id=referral.pk,
                move=move,
                actor=user,
                organization=org,
                reason="x",
                outcome="need-met",
            )
    with pytest.raises(ValidationError, match="only notes can be added"):
        referral_record_contact(
            referral=referral,
            actor=p.receiver,
            organization=tenant.cbo,
            contact_type="phone",
            successful=True,
        )
    with pytest.raises(ValidationError, match="only notes can be added"):
        referral_assign(
            referral=referral,
            assignee=p.receiver_colleague,
            actor=p.receiver,
            organization=tenant.cbo,
        )
    assert referral_mark_opened(referral=referral, actor=p.receiver, organization=tenant.cbo) is (
        False
    )
    after = Referral.objects.get(pk=referral.pk)
    assert (after.status, after.assigned_to_id, after.opened_at) == (status, None, None)
    assert referral.events.count() == before
    # Notes still work, from either side.
    referral_note_add(referral=referral, author=p.sender, organization=tenant.hco, body="Thanks!")
    referral_note_add(referral=referral, author=p.receiver, organization=tenant.cbo, body="Sure.")
    assert referral.notes.count() == 2


def test_notes_only_between_the_two_sides(tenant):
    p = parties(tenant)
    referral = send(p)
    for user, org in [p.actor("third"), p.actor("backbone")]:
        with pytest.raises(PermissionDenied):
            referral_note_add(referral=referral, author=user, organization=org, body="Hi")
    with pytest.raises(ValidationError):
        referral_note_add(referral=referral, author=p.sender, organization=tenant.hco, body=" ")
    assert referral.notes.count() == 0


def test_a_double_click_moves_once(tenant):
    p = parties(tenant)
    referral = send(p)
    for _ in range(2):
        moved = referral_transition(
            referral_id=referral.pk,
            move="accept",
            actor=p.receiver,
            organization=tenant.cbo,
            expected_status="requested",
        )
        assert moved.status == "accepted"
    assert len(transitions(referral)) == 1
    # Without the status the page showed, the repeat is recognised too.
    referral_transition(
        referral_id=referral.pk, move="accept", actor=p.receiver, organization=tenant.cbo
    )
    assert len(transitions(referral)) == 1


def test_someone_elses_move_is_a_conflict_that_names_them(tenant):
    p = parties(tenant)
    referral = send(p)
    referral_transition(
        referral_id=referral.pk, move="accept", actor=p.receiver, organization=tenant.cbo
    )
    with pytest.raises(TransitionConflict) as conflict:
        referral_transition(
            referral_id=referral.pk,
            move="reject",
            actor=p.receiver_colleague,
            organization=tenant.cbo,
            reason="No capacity",
            expected_status="requested",
        )
    message = str(conflict.value)
    assert str(p.receiver) in message and tenant.cbo.name in message
    assert "Accepted" in message and "was not made" in message
    # The same move by a colleague is not a double click: they are told too.
    with pytest.raises(TransitionConflict, match=str(p.receiver)):
        referral_transition(
            referral_id=referral.pk,
            move="accept",
            actor=p.receiver_colleague,
            organization=tenant.cbo,
        )
    assert len(transitions(referral)) == 1


def test_a_stale_page_is_a_conflict_even_when_the_move_is_still_possible(tenant):
    p = parties(tenant)
    referral = send(p)
    referral_transition(
        referral_id=referral.pk, move="accept", actor=p.receiver, organization=tenant.cbo
    )
    # The sender's page still says "Sent"; cancelling an accepted referral is allowed, but
    # the sender decided without knowing it had been accepted.
    with pytest.raises(TransitionConflict, match="Accepted"):
        referral_transition(
            referral_id=referral.pk,
            move="cancel",
            actor=p.sender,
            organization=tenant.hco,
            reason="Found another program",
            expected_status="requested",
        )
    assert Referral.objects.get(pk=referral.pk).status == "accepted"


def test_every_move_writes_who_when_from_to_and_why(tenant):
    p = parties(tenant)
    referral = send(p)
    steps = [
        ("accept", p.receiver, tenant.cbo, ""),
        ("start", p.receiver, tenant.cbo, ""),
        ("hold", p.receiver_colleague, tenant.cbo, "Client in hospital"),
        ("resume", p.receiver, tenant.cbo, ""),
        ("fail", p.receiver, tenant.cbo, "Unable to contact after three attempts"),
    ]
    for move, user, org, reason in steps:
        referral_transition(
            referral_id=referral.pk, move=move, actor=user, organization=org, reason=reason
        )
    events = transitions(referral)
    assert [(e.from_status, e.to_status) for e in events] == [
        ("requested", "accepted"),
        ("accepted", "in-progress"),
        ("in-progress", "on-hold"),
        ("on-hold", "in-progress"),
        ("in-progress", "failed"),
    ]
    assert [(e.actor, e.organization, e.reason) for e in events] == [
        (u, o, r) for _, u, o, r in steps
    ]
    assert all(e.occurred_at for e in events)
    referral.refresh_from_db()
    assert referral.status_reason == "Unable to contact after three attempts"
    assert referral.closed_at is not None and referral.accepted_at is not None


def test_sending_a_draft_starts_the_receivers_clock(tenant):
    p = parties(tenant)
    referral = at_status(p, "draft")
    Referral.objects.filter(pk=referral.pk).update(sent_at=None, ack_due_at=None, release=None)
    moved = referral_transition(
        referral_id=referral.pk, move="send", actor=p.sender, organization=tenant.hco
    )
    assert moved.status == "requested"
    assert moved.sent_at is not None and moved.ack_due_at > moved.sent_at
    assert moved.release == tenant.release


def test_sending_a_draft_needs_the_release(tenant):
    p = parties(tenant)
    referral = at_status(p, "draft")
    tenant.release.recipients.clear()
    with pytest.raises(ValidationError, match=tenant.cbo.name):
        referral_transition(
            referral_id=referral.pk, move="send", actor=p.sender, organization=tenant.hco
        )
    assert Referral.objects.get(pk=referral.pk).status == "draft"


def test_the_receiver_answers_for_a_logged_inbound_referral(tenant):
    p = parties(tenant)
    referral = referral_log_inbound(
        client=tenant.client,
        program=p.program,
        actor=p.receiver,
        organization=tenant.cbo,
        source="fax",
        external_sender="Eastside Pediatrics",
        needs=NEEDS,
    )
    assert "mark_error" in {m.name for m in allowed_moves(referral, tenant.cbo)}
    referral_transition(
        referral_id=referral.pk,
        move="mark_error",
        actor=p.receiver,
        organization=tenant.cbo,
        reason="The same fax was logged twice.",
    )
    assert Referral.objects.get(pk=referral.pk).status == "entered-in-error"
    # Nobody else gains a say over it.
    user, org = p.actor("sender")
    with pytest.raises(PermissionDenied):
        referral_transition(
            referral_id=referral.pk, move="cancel", actor=user, organization=org, reason="x"
        )


def test_events_record_contacts_and_assignment_without_status_changes(tenant):
    p = parties(tenant)
    referral = send(p)
    referral_assign(
        referral=referral, assignee=p.receiver_colleague, actor=p.receiver, organization=tenant.cbo
    )
    with pytest.raises(ValidationError):
        referral_assign(
            referral=referral, assignee=p.sender, actor=p.receiver, organization=tenant.cbo
        )
    with pytest.raises(PermissionDenied):
        referral_assign(
            referral=referral, assignee=p.sender, actor=p.sender, organization=tenant.hco
        )
    kinds = list(referral.events.values_list("kind", flat=True))
    assert kinds == [ReferralEvent.Kind.CREATED, ReferralEvent.Kind.ASSIGNED]
    assert Referral.objects.get(pk=referral.pk).assigned_to == p.receiver_colleague


def test_waitlisting_after_a_hold_is_not_taken_for_a_double_click(tenant):
    p = parties(tenant)
    referral = at_status(p, "accepted")
    referral_transition(
        referral_id=referral.pk,
        move="hold",
        actor=p.receiver,
        organization=tenant.cbo,
        reason="Client travelling",
    )
    with pytest.raises(TransitionConflict, match="On hold"):
        referral_transition(
            referral_id=referral.pk, move="waitlist", actor=p.receiver, organization=tenant.cbo
        )
    assert Referral.objects.get(pk=referral.pk).business_status == ""
    assert len(transitions(referral)) == 1
