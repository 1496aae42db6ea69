"""Sending, logging inbound referrals, referring onward, the duplicate guard, corrections
and the audit trail."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from organizations.models import Organization
from organizations.roles import Role
from referrals import services
from referrals.models import Referral, ReferralEvent
from referrals.services import (
    DuplicateReferral,
    add_business_days,
    referral_assign,
    referral_log_inbound,
    referral_note_add,
    referral_record_contact,
    referral_transition,
)
from tests.factories import OrganizationFactory, ProgramFactory, member, release_for

from .workflow_support import NEEDS, at_status, parties, send, transitions

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]


def long_ago(release):
    """The tenant's release, in force since long before any travelled-to moment."""
    release.effective_at = timezone.make_aware(timezone.datetime(2020, 1, 1))
    release.save(update_fields=["effective_at"])


@pytest.fixture
def traveller(tenant):
    long_ago(tenant.release)
    with time_machine.travel("2025-03-03 09:00:00-06:00", tick=False) as traveller:
        yield traveller


# --- sending ---------------------------------------------------------------------------


def test_a_sent_referral_starts_with_its_needs_event_audit_and_due_date(tenant, traveller):
    p = parties(tenant)
    traveller.move_to("2025-03-07 15:00:00-06:00")  # a Friday afternoon
    referral = send(
        p,
        needs=["food-insecurity", "transportation-insecurity", "food-insecurity"],
        reason="Needs groceries this week",
        urgency="urgent",
        do_not_contact=True,
    )
    assert referral.status == "requested"
    assert referral.sender_organization == tenant.hco and referral.sender_user == p.sender
    assert referral.receiver_organization == tenant.cbo
    assert referral.release == tenant.release
    assert referral.urgency == "urgent" and referral.do_not_contact
    assert list(referral.needs.values_list("code", flat=True)) == [
        "food-insecurity",
        "transportation-insecurity",
    ]
    # Respond within 2 business days: Friday -> Tuesday.
    assert timezone.localtime(referral.ack_due_at).date().isoformat() == "2025-03-11"
    [created] = referral.events.all()
    assert created.kind == ReferralEvent.Kind.CREATED and created.to_status == "requested"
    assert (created.actor, created.organization) == (p.sender, tenant.hco)
    audit = AuditEvent.objects.get(object_type="referral", action="create")
    assert audit.object_ids == [referral.pk]
    assert audit.detail == {
        "source": "platform",
        "needs": ["food-insecurity", "transportation-insecurity"],
    }


def test_add_business_days_skips_weekends():
    friday = timezone.make_aware(timezone.datetime(2025, 3, 7, 9))
    assert add_business_days(friday, 1).weekday() == 0
    assert add_business_days(friday, 2) == friday + timedelta(days=4)


@pytest.mark.parametrize("urgency", ["", "stat", "URGENT", "emergency"])
def test_urgency_must_be_routine_or_urgent(tenant, urgency):
    p = parties(tenant)
    with pytest.raises(ValidationError) as refused:
        send(p, urgency=urgency)
    assert "urgency" in refused.value.message_dict
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(
    ("needs", "message"),
    [
        (["food"], "Unknown need code(s): food."),
        (["food-insecurity", "Z59.4"], "Unknown need code(s): Z59.4."),
        ([], "Choose at least one need."),
    ],
)
def test_needs_must_be_sdoh_category_codes(tenant, needs, message):
    p = parties(tenant)
    with pytest.raises(ValidationError) as refused:
        send(p, needs=needs)
    assert refused.value.message_dict == {"needs": [message]}
    assert Referral.objects.count() == 0


def test_a_program_of_another_network_is_refused(tenant, foreign_tenant):
    p = parties(tenant)
    elsewhere = ProgramFactory(organization=foreign_tenant.cbo)
    with pytest.raises(ValidationError) as refused:
        send(p, program=elsewhere)
    assert "program" in refused.value.message_dict
    assert Referral.objects.count() == 0


def test_an_inactive_receiver_takes_no_referrals(tenant):
    p = parties(tenant)
    Organization.objects.filter(pk=tenant.cbo.pk).update(is_active=False)
    p.program.organization.refresh_from_db()
    with pytest.raises(ValidationError, match="not accepting referrals"):
        send(p)


# --- duplicates and corrections --------------------------------------------------------


def test_a_second_open_referral_to_the_same_program_is_refused_with_the_first(tenant):
    p = parties(tenant)
    first = send(p)
    with pytest.raises(DuplicateReferral) as refused:
        send(p, sender_user=tenant.hco_staff)
    assert refused.value.existing == first
    assert f"#{first.pk}" in refused.value.messages[0]
    assert Referral.objects.count() == 1
    # A logged inbound referral of the same client to the same program is a duplicate too.
    with pytest.raises(DuplicateReferral):
        referral_log_inbound(
            client=tenant.client,
            program=p.program,
            actor=p.receiver,
            organization=tenant.cbo,
            source="phone",
            needs=NEEDS,
        )
    # Other programs, and the same program once the first is closed, are fine.
    send(p, program=ProgramFactory(organization=tenant.cbo))
    referral_transition(
        referral_id=first.pk,
        move="reject",
        actor=p.receiver,
        organization=tenant.cbo,
        reason="Not eligible",
    )
    again = send(p)
    assert again.pk != first.pk


def test_a_send_racing_past_the_check_meets_the_database_constraint(tenant, monkeypatch):
    """Two sends both find no open referral, then both insert: the unique constraint
    stops the second inside a savepoint, and it is answered with the first."""
    p = parties(tenant)
    first = send(p)
    real = services._open_duplicate
    calls = []

    def raced(client, program):
        calls.append(1)
        return None if len(calls) == 1 else real(client, program)  # the check misses it

    monkeypatch.setattr(services, "_open_duplicate", raced)
    with pytest.raises(DuplicateReferral) as refused:
        send(p, sender_user=tenant.hco_staff)
    assert refused.value.existing == first
    assert len(calls) == 2
    assert Referral.objects.count() == 1


def test_a_referral_sent_in_error_is_kept_and_needs_a_note(tenant):
    p = parties(tenant)
    referral = send(p)
    with pytest.raises(ValidationError) as refused:
        referral_transition(
            referral_id=referral.pk, move="mark_error", actor=p.sender, organization=tenant.hco
        )
    assert "reason" in refused.value.message_dict
    referral_transition(
        referral_id=referral.pk,
        move="mark_error",
        actor=p.sender,
        organization=tenant.hco,
        reason="Wrong client chosen.",
    )
    kept = Referral.objects.get(pk=referral.pk)
    assert kept.status == "entered-in-error"
    assert kept.status_reason == "Wrong client chosen."
    assert kept.closed_at is not None
    assert [e.kind for e in kept.events.all()] == ["created", "transition"]
    assert kept.needs.count() == 1
    # The receiver cannot erase the sender's record.
    other = send(p)
    with pytest.raises(PermissionDenied):
        referral_transition(
            referral_id=other.pk,
            move="mark_error",
            actor=p.receiver,
            organization=tenant.cbo,
            reason="Not ours",
        )


# --- inbound referrals and referring onward --------------------------------------------


@pytest.mark.parametrize("source", ["fax", "phone", "walk-in", "self", "email", "other"])
def test_logging_an_inbound_referral(tenant, source):
    p = parties(tenant)
    with time_machine.travel("2025-03-10 10:00:00-05:00", tick=False):
        long_ago(tenant.release)
        referral = referral_log_inbound(
            client=tenant.client,
            program=p.program,
            actor=p.receiver,
            organization=tenant.cbo,
            source=source,
            external_sender="  Eastside Pediatrics ",
            needs=NEEDS,
            urgency="urgent",
            received_at=timezone.now() - timedelta(days=1),
        )
    # A walk-in is being served as it is logged: accepted, assigned to whoever logged it.
    walk_in = source == "walk-in"
    assert referral.status == ("accepted" if walk_in else "requested")
    assert referral.assigned_to == (p.receiver if walk_in else None)
    assert (referral.ack_due_at is None, referral.update_due_at is not None) == (walk_in, walk_in)
    assert referral.source == source
    assert referral.sender_organization is None and referral.sender_user is None
    assert referral.external_sender == "Eastside Pediatrics"
    assert referral.sender_name == "Eastside Pediatrics"
    assert referral.receiver_organization == tenant.cbo
    assert referral.opened_at is not None and referral.business_status == "opened"
    assert referral.sent_at < referral.created_at
    [created] = referral.events.all()
    assert created.kind == "created" and (created.actor, created.organization) == (
        p.receiver,
        tenant.cbo,
    )
    audit = AuditEvent.objects.get(object_type="referral", action="create")
    assert audit.detail["source"] == source
    # It is worked like any other.
    referral_transition(
        referral_id=referral.pk,
        move="start" if walk_in else "accept",
        actor=p.receiver,
        organization=tenant.cbo,
    )


def test_inbound_logging_refusals(tenant):
    p = parties(tenant)
    base = {
        "client": tenant.client,
        "program": p.program,
        "actor": p.receiver,
        "organization": tenant.cbo,
        "source": "fax",
        "needs": NEEDS,
    }
    for bad, field in [
        ({"source": "platform"}, "source"),
        ({"source": "pigeon"}, "source"),
        ({"urgency": "asap"}, "urgency"),
        ({"needs": ["hunger"]}, "needs"),
        ({"received_at": timezone.now() + timedelta(hours=1)}, "received_at"),
        ({"program": ProgramFactory(organization=p.third_org)}, "program"),
    ]:
        with pytest.raises(ValidationError) as refused:
            referral_log_inbound(**{**base, **bad})
        assert field in refused.value.message_dict, bad
    # An organization that may not see the client cannot log a referral for it.
    own = ProgramFactory(organization=p.third_org)
    with pytest.raises(PermissionDenied):
        referral_log_inbound(**{**base, "program": own, "organization": p.third_org})
    assert Referral.objects.count() == 0


def test_referring_onward_keeps_the_chain(tenant):
    p = parties(tenant)
    first = at_status(p, "in-progress")
    shelter = OrganizationFactory(
        network=tenant.network, name="Harbor Shelter", kind=Organization.Kind.CBO
    )
    beds = ProgramFactory(organization=shelter, categories=["homelessness"])
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[shelter],
        categories=("demographics", "social_needs", "referrals"),
    )
    onward = services.referral_send(
        client=tenant.client,
        program=beds,
        sender_organization=tenant.cbo,
        sender_user=p.receiver,
        needs=["homelessness"],
        referred_from=first,
    )
    assert onward.referred_from == first
    assert list(first.onward_referrals.all()) == [onward]
    assert onward.sender_organization == tenant.cbo and onward.receiver_organization == shelter
    # The first referral closes as referred elsewhere; the chain stays.
    referral_transition(
        referral_id=first.pk,
        move="complete",
        actor=p.receiver,
        organization=tenant.cbo,
        outcome=Referral.Outcome.REFERRED_ELSEWHERE,
    )
    onward.refresh_from_db()
    assert onward.referred_from.status == "completed"
    assert onward.referred_from.outcome == "referred-elsewhere"


def test_only_the_receiver_refers_onward_and_only_for_the_same_client(tenant):
    p = parties(tenant)
    first = send(p)
    clinic_program = ProgramFactory(organization=tenant.hco, name="Clinic pantry")
    # The sender did not receive it: it cannot claim to pass it on.
    with pytest.raises(ValidationError) as refused:
        send(p, program=clinic_program, referred_from=first)
    assert "referred_from" in refused.value.message_dict
    # Another client's referral is not a link in this client's chain.
    from tests.factories import ClientFactory

    stranger = ClientFactory(created_by_organization=tenant.cbo, created_by=p.receiver)
    cbo_program = ProgramFactory(organization=tenant.cbo, name="Other")
    with pytest.raises(ValidationError) as refused:
        services.referral_send(
            client=stranger,
            program=cbo_program,
            sender_organization=tenant.cbo,
            sender_user=p.receiver,
            needs=NEEDS,
            referred_from=first,
        )
    assert "referred_from" in refused.value.message_dict
    assert Referral.objects.count() == 1


# --- contacts --------------------------------------------------------------------------


def test_recording_contacts(tenant):
    p = parties(tenant)
    referral = at_status(p, "accepted")
    event = referral_record_contact(
        referral=referral,
        actor=p.receiver,
        organization=tenant.cbo,
        contact_type="phone",
        successful=True,
        note="Left the pantry hours.",
    )
    assert event.kind == "contact" and event.contact_successful is True
    referral.refresh_from_db()
    assert referral.business_status == "contacted"
    assert referral.status == "accepted"  # a contact is not a status change
    with pytest.raises(ValidationError):
        referral_record_contact(
            referral=referral,
            actor=p.receiver,
            organization=tenant.cbo,
            contact_type="carrier-pigeon",
            successful=True,
        )
    with pytest.raises(PermissionDenied):
        referral_record_contact(
            referral=referral,
            actor=p.sender,
            organization=tenant.hco,
            contact_type="phone",
            successful=False,
        )
    assert referral.events.filter(kind="contact").count() == 1


def test_do_not_contact_refuses_recording_a_contact(tenant):
    p = parties(tenant)
    referral = send(p, do_not_contact=True)
    with pytest.raises(ValidationError, match="Do not contact"):
        referral_record_contact(
            referral=referral,
            actor=p.receiver,
            organization=tenant.cbo,
            contact_type="phone",
            successful=True,
        )
    assert not referral.events.filter(kind="contact").exists()


# --- audit -----------------------------------------------------------------------------


def test_every_change_is_audited_without_phi(tenant):
    p = parties(tenant)
    c = tenant.client
    phi = [c.given_name, c.family_name, c.phone, c.email, str(c.date_of_birth)]
    free_text = f"{c.given_name} moved away, call {c.phone}"
    referral = send(p, reason=free_text)
    steps = [
        ("accept", {}),
        ("start", {}),
        ("hold", {"reason": free_text}),
        ("resume", {}),
        ("complete", {"outcome": "need-met", "outcome_note": free_text}),
    ]
    for move, extra in steps:
        referral_transition(
            referral_id=referral.pk,
            move=move,
            actor=p.receiver,
            organization=tenant.cbo,
            **extra,
        )
    referral_note_add(referral=referral, author=p.sender, organization=tenant.hco, body=free_text)
    other = send(p, program=ProgramFactory(organization=tenant.cbo))
    referral_record_contact(
        referral=other,
        actor=p.receiver,
        organization=tenant.cbo,
        contact_type="phone",
        successful=False,
        note=free_text,
    )
    referral_assign(
        referral=other,
        assignee=member(tenant.cbo, Role.STAFF, email="assignee@test.test"),
        actor=p.receiver,
        organization=tenant.cbo,
    )
    events = AuditEvent.objects.filter(object_type="referral").order_by("id")
    moves = [e for e in events if "from" in e.detail]
    assert [(e.detail["from"], e.detail["to"]) for e in moves] == [
        ("requested", "accepted"),
        ("accepted", "in-progress"),
        ("in-progress", "on-hold"),
        ("on-hold", "in-progress"),
        ("in-progress", "completed"),
    ]
    assert moves[-1].detail["outcome"] == "need-met"
    assert all(e.actor == p.receiver and e.organization == tenant.cbo for e in moves)
    assert all(e.object_ids == [referral.pk] for e in moves)
    assert all(list(e.clients.values_list("client_id", flat=True)) == [c.pk] for e in moves)
    # send x2, 5 moves, note, contact, assignment
    assert events.count() == 10
    for event in events:
        dumped = json.dumps(event.detail)
        assert not any(value in dumped for value in phi), event.detail
        assert "moved away" not in dumped


def test_a_refused_transition_audits_nothing(tenant):
    p = parties(tenant)
    referral = send(p)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        referral_transition(
            referral_id=referral.pk, move="reject", actor=p.receiver, organization=tenant.cbo
        )
    assert AuditEvent.objects.count() == before
    assert transitions(referral) == []
