"""The sweep: each kind of reminder created at the right moment for the right people,
repeats harmless, the second overdue escalated to the backbone, and a query count that
does not grow with the number of referrals (nor with the number due, within a batch)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from consent.services import release_revoke
from directory.models import Program
from organizations.models import Membership
from referrals.models import Referral, Reminder, ReminderRules
from referrals.reminders.sweep import reminders_sweep
from referrals.services import referral_assign, referral_record_contact
from tests.factories import ClientFactory, assessment_for, release_for

from .support import Queue, at, move, reminders, send

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]


def sweep(clock=None, when: str | None = None) -> Queue:
    if clock is not None and when is not None:
        clock.move_to(when)
    queue = Queue()
    reminders_sweep(publish=queue)
    return queue


# --- acknowledge ---------------------------------------------------------------------------


def test_nothing_is_due_before_the_receiver_had_two_business_days(world, clock):
    send(world)  # Monday 9:00: due Wednesday 9:00
    sweep(clock, "2031-05-07 08:59:00-05:00")
    assert reminders() == []


def test_an_unanswered_referral_reminds_the_receiving_team_when_due(world, clock):
    referral = send(world)
    queue = sweep(clock, "2031-05-07 09:00:00-05:00")
    assert reminders() == [("ack_overdue", referral.pk, sorted(world.receiving_team))]
    [reminder] = referral_reminders(referral)
    assert reminder.due_at == at("2031-05-07 09:00")
    assert ("deliver_reminder", reminder.pk) in queue.sent
    referral.refresh_from_db()
    # The deadline people see stays; the reminder clock moves on two business days.
    assert referral.ack_due_at == at("2031-05-07 09:00")
    assert referral.reminder_due_at == at("2031-05-09 09:00")
    assert referral.overdue_count == 1 and referral.escalated_at is None


def test_an_assigned_referral_reminds_the_assignee_only(world, clock):
    referral = send(world)
    referral_assign(
        referral=referral,
        assignee=world.receiver_colleague,
        actor=world.receiver,
        organization=world.tenant.cbo,
    )
    sweep(clock, "2031-05-07 10:00:00-05:00")
    assert reminders() == [("ack_overdue", referral.pk, [world.receiver_colleague.pk])]


def test_an_assignee_who_left_is_not_reminded_the_team_is(world, clock):
    referral = send(world)
    referral_assign(
        referral=referral,
        assignee=world.receiver_colleague,
        actor=world.receiver,
        organization=world.tenant.cbo,
    )
    Membership.objects.filter(user=world.receiver_colleague).update(is_active=False)
    sweep(clock, "2031-05-07 10:00:00-05:00")
    assert reminders() == [("ack_overdue", referral.pk, [world.receiver.pk])]


def test_repeated_and_overlapping_sweeps_create_nothing_new(world, clock):
    referral = send(world)
    sweep(clock, "2031-05-07 09:30:00-05:00")
    before = referral_state(referral)
    for _ in range(3):
        sweep()
    assert len(reminders()) == 1
    assert referral_state(referral) == before


def test_the_second_overdue_escalates_to_the_backbone_admins_once(world, clock):
    referral = send(world)
    sweep(clock, "2031-05-07 09:00:00-05:00")  # first overdue
    sweep(clock, "2031-05-08 12:00:00-05:00")  # nothing new yet
    assert [k for k, _, _ in reminders()] == ["ack_overdue"]
    sweep(clock, "2031-05-09 09:00:00-05:00")  # two business days later: the second
    admins = sorted([world.backbone_admin.pk, world.second_backbone_admin.pk])
    assert reminders() == [
        ("ack_overdue", referral.pk, sorted(world.receiving_team)),
        ("ack_overdue", referral.pk, sorted(world.receiving_team)),
        ("escalation", referral.pk, admins),
    ]
    referral.refresh_from_db()
    assert referral.overdue_count == 2
    assert referral.escalated_at == at("2031-05-09 09:00")
    # The third overdue nudges the receiver again; the backbone knows already.
    sweep(clock, "2031-05-13 09:00:00-05:00")
    assert [k for k, _, _ in reminders()] == [
        "ack_overdue",
        "ack_overdue",
        "escalation",
        "ack_overdue",
    ]


def test_the_network_decides_after_how_many_overdues_to_escalate(world, clock):
    ReminderRules.objects.create(network=world.tenant.network, escalate_after_overdue_count=1)
    referral = send(world)
    sweep(clock, "2031-05-07 09:00:00-05:00")
    assert [k for k, _, _ in reminders()] == ["ack_overdue", "escalation"]
    assert Referral.objects.get(pk=referral.pk).escalated_at is not None


def test_acting_on_a_stalled_referral_clears_the_stall(world, clock):
    referral = send(world)
    sweep(clock, "2031-05-07 09:00:00-05:00")
    sweep(clock, "2031-05-09 09:00:00-05:00")
    clock.move_to("2031-05-09 10:00:00-05:00")
    referral = move(world, referral, "accept")
    assert (referral.overdue_count, referral.escalated_at) == (0, None)
    assert referral.reminder_due_at == referral.update_due_at == at("2031-05-16 10:00")
    assert referral.waiting_since == at("2031-05-09 10:00")


def test_a_sweep_long_after_counts_every_missed_period(world, clock):
    # The sweep did not run for three weeks: the referral has been overdue many times.
    referral = send(world)
    sweep(clock, "2031-05-26 09:30:00-05:00")
    assert [k for k, _, _ in reminders()] == ["ack_overdue", "escalation"]
    referral.refresh_from_db()
    assert referral.overdue_count == 7  # May 7, 9, 13, 15, 19, 21 and 23
    assert referral.reminder_due_at == at("2031-05-27 09:00")


# --- updates -------------------------------------------------------------------------------


def test_an_accepted_referral_without_update_for_seven_days_reminds_the_receiver(world, clock):
    referral = send(world)
    clock.move_to("2031-05-06 09:00:00-05:00")
    referral = move(world, referral, "accept")
    sweep(clock, "2031-05-13 08:59:00-05:00")
    assert reminders() == []
    sweep(clock, "2031-05-13 09:00:00-05:00")
    assert reminders() == [("update_overdue", referral.pk, sorted(world.receiving_team))]


def test_recording_a_contact_is_an_update(world, clock):
    referral = send(world)
    clock.move_to("2031-05-06 09:00:00-05:00")
    referral = move(world, referral, "accept")
    clock.move_to("2031-05-12 09:00:00-05:00")
    referral_record_contact(
        referral=referral,
        actor=world.receiver,
        organization=world.tenant.cbo,
        contact_type="phone",
        successful=False,
    )
    sweep(clock, "2031-05-13 09:00:00-05:00")
    assert reminders() == []
    sweep(clock, "2031-05-19 09:00:00-05:00")
    assert [k for k, _, _ in reminders()] == ["update_overdue"]


def test_a_referral_on_hold_is_not_nagged(world, clock):
    referral = send(world)
    clock.move_to("2031-05-06 09:00:00-05:00")
    referral = move(world, referral, "waitlist")
    sweep(clock, "2031-06-30 09:00:00-05:00")
    assert reminders() == []


@pytest.mark.parametrize("closing", ["reject", "cancel"])
def test_a_closed_referral_is_not_reminded(world, clock, closing):
    referral = send(world)
    move(world, referral, closing, reason="Not needed")
    sweep(clock, "2031-06-30 09:00:00-05:00")
    assert reminders() == []


# --- follow up -----------------------------------------------------------------------------


def test_the_sender_follows_up_fourteen_days_after_completion_once(world, clock):
    referral = send(world)
    clock.move_to("2031-05-06 09:00:00-05:00")
    referral = move(world, referral, "accept")
    clock.move_to("2031-05-08 09:00:00-05:00")
    referral = move(world, referral, "complete", outcome="need-met")
    sweep(clock, "2031-05-22 08:00:00-05:00")
    assert reminders() == []
    sweep(clock, "2031-05-22 09:00:00-05:00")
    assert reminders() == [("follow_up_due", referral.pk, [world.sender.pk])]
    assert Referral.objects.get(pk=referral.pk).reminder_due_at is None
    sweep(clock, "2031-07-01 09:00:00-05:00")
    assert len(reminders()) == 1


# --- releases ------------------------------------------------------------------------------


def release_expiring(world, expires: str, **fields):
    client = ClientFactory(created_by_organization=world.tenant.hco, created_by=world.sender)
    lead = Membership.objects.get(user=world.tenant.hco_admin)
    client.lead_navigator = lead
    client.save(update_fields=["lead_navigator"])
    return release_for(
        client,
        organization=world.tenant.hco,
        recipients=[world.tenant.cbo],
        captured_by=world.sender,
        effective_at=at("2030-01-01 09:00"),
        expires_at=at(expires),
        **fields,
    )


def test_a_release_expiring_in_thirty_days_tells_its_capturer_and_the_lead_navigator(world, clock):
    release = release_expiring(world, "2031-06-20 12:00")
    sweep(clock, "2031-05-21 11:59:00-05:00")
    assert reminders() == []
    sweep(clock, "2031-05-21 12:00:00-05:00")
    expected = sorted([world.sender.pk, world.tenant.hco_admin.pk])
    assert reminders() == [("release_expiring", release.pk, expected)]
    # Keyed by the expiry it warns of: later sweeps add nothing.
    sweep(clock, "2031-06-01 12:00:00-05:00")
    assert len(reminders()) == 1


def test_the_networks_warning_period_applies(world, clock):
    ReminderRules.objects.create(network=world.tenant.network, release_expiry_warning_days=10)
    release = release_expiring(world, "2031-06-20 12:00")
    sweep(clock, "2031-05-25 12:00:00-05:00")
    assert reminders() == []
    sweep(clock, "2031-06-10 12:00:00-05:00")
    assert [(k, o) for k, o, _ in reminders()] == [("release_expiring", release.pk)]


def test_a_revoked_or_renewed_release_gives_no_warning(world, clock):
    revoked = release_expiring(world, "2031-06-20 12:00")
    release_revoke(release=revoked, actor=world.sender, organization=world.tenant.hco, reason="x")
    old = release_expiring(world, "2031-06-21 12:00")
    release_for(
        old.client,
        organization=world.tenant.hco,
        recipients=[world.tenant.cbo],
        captured_by=world.sender,
        effective_at=at("2031-05-01 09:00"),
        expires_at=at("2032-05-01 09:00"),
    )
    sweep(clock, "2031-06-01 12:00:00-05:00")
    assert reminders() == []


def test_an_expired_release_puts_the_referrals_it_covered_on_hold_once(world, clock):
    from referrals.models import Notification, ReferralEvent

    release = world.tenant.release
    release.expires_at = at("2031-06-20 12:00")
    release.save(update_fields=["expires_at"])
    referral = send(world)
    sweep(clock, "2031-06-20 11:59:00-05:00")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REQUESTED
    sweep(clock, "2031-06-20 12:05:00-05:00")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ON_HOLD
    assert referral.status_reason == "The client's release of information expired."
    # Both sides are told, as with a revocation.
    told = set(
        Notification.objects.filter(
            referral=referral, kind="referral_status", message__icontains="hold"
        ).values_list("user_id", flat=True)
    )
    assert {world.sender.pk, world.receiver.pk} <= told
    holds = ReferralEvent.objects.filter(referral=referral, to_status="on-hold").count()
    assert holds == 1
    # Applied once: later sweeps (or a second one running at once) hold nothing again.
    sweep(clock, "2031-06-20 12:10:00-05:00")
    sweep(clock, "2031-06-21 12:10:00-05:00")
    assert ReferralEvent.objects.filter(referral=referral, to_status="on-hold").count() == 1
    assert Reminder.objects.filter(kind="release_expired", object_id=release.pk).count() == 1


def test_an_expiry_leaves_referrals_another_release_still_covers(world, clock):
    release = world.tenant.release
    release.expires_at = at("2031-06-20 12:00")
    release.save(update_fields=["expires_at"])
    referral = send(world)
    release_for(
        world.client,
        organization=world.tenant.hco,
        recipients=[world.tenant.cbo],
        captured_by=world.sender,
        categories=("demographics", "social_needs", "referrals"),
        effective_at=at("2031-06-01 09:00"),
        expires_at=at("2032-06-01 09:00"),
    )
    sweep(clock, "2031-06-20 12:05:00-05:00")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REQUESTED


# --- rescreening ---------------------------------------------------------------------------


def test_rescreening_due_tells_who_screened_and_the_lead_navigator_once(world, clock):
    lead = Membership.objects.get(user=world.tenant.hco_admin)
    world.client.lead_navigator = lead
    world.client.save(update_fields=["lead_navigator"])
    assessment = assessment_for(world.client, organization=world.tenant.hco, actor=world.sender)
    assert assessment.rescreen_due_at == at("2032-05-05 09:00")  # twelve months
    sweep(clock, "2032-05-05 08:00:00-05:00")
    assert reminders() == []
    sweep(clock, "2032-05-05 09:00:00-05:00")
    expected = sorted([world.sender.pk, world.tenant.hco_admin.pk])
    assert reminders() == [("rescreen_due", assessment.pk, expected)]
    sweep(clock, "2032-05-20 09:00:00-05:00")
    assert len(reminders()) == 1


def test_a_client_screened_again_is_not_due_for_the_old_screening(world, clock):
    assessment_for(world.client, organization=world.tenant.hco, actor=world.sender)
    clock.move_to("2031-11-05 09:00:00-05:00")
    assessment_for(world.client, organization=world.tenant.hco, actor=world.sender)
    sweep(clock, "2032-05-10 09:00:00-05:00")
    assert reminders() == []


# --- cost ----------------------------------------------------------------------------------


def due_referrals(world, count: int) -> None:
    """`count` open referrals whose acknowledgement is overdue at START + 3 days, each to
    its own program (one open referral per client and program)."""
    programs = Program.objects.bulk_create(
        [Program(organization=world.tenant.cbo, name=f"Program {i}") for i in range(count)]
    )
    Referral.objects.bulk_create(
        [
            due_referral(
                world,
                p,
                status="requested",
                # The deadline and the reminder clock on it, as referral_send sets them.
                ack_due_at=at("2031-05-06 09:00"),
                reminder_due_at=at("2031-05-06 09:00"),
            )
            for p in programs
        ]
    )


def filler(world, count: int) -> None:
    """Closed referrals and referrals not due yet: the bulk of any real table."""
    rows = []
    for i in range(count):
        if i % 2:
            rows.append(due_referral(world, world.program, status="completed", outcome="need-met"))
        else:
            rows.append(
                due_referral(
                    world,
                    world.program,
                    status="completed",
                    outcome="need-met",
                    reminder_due_at=at("2031-09-01 09:00"),
                )
            )
    Referral.objects.bulk_create(rows)


def due_referral(world, program, **fields) -> Referral:
    t = world.tenant
    return Referral(
        network=t.network,
        client=world.client,
        sender_organization=t.hco,
        sender_user=world.sender,
        receiver_organization=t.cbo,
        program=program,
        created_at=timezone.now(),
        updated_at=timezone.now(),
        **fields,
    )


def count_queries(django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(60) as captured:
        reminders_sweep(publish=Queue())
    return len(captured.captured_queries)


def test_the_sweep_costs_the_same_queries_for_10_or_200_referrals(
    world, clock, django_assert_max_num_queries
):
    due_referrals(world, 5)
    filler(world, 5)
    clock.move_to("2031-05-08 09:00:00-05:00")
    few = count_queries(django_assert_max_num_queries)
    assert len(reminders(kind="ack_overdue")) == 5
    # The same five due again, among 200 referrals.
    Reminder.objects.all().delete()
    Referral.objects.filter(status="requested").update(
        reminder_due_at=at("2031-05-06 09:00"), overdue_count=0
    )
    filler(world, 190)
    assert Referral.objects.count() == 200
    many = count_queries(django_assert_max_num_queries)
    assert len(reminders(kind="ack_overdue")) == 5
    assert few == many


def test_the_sweep_costs_the_same_queries_for_5_or_60_due(
    world, clock, django_assert_max_num_queries
):
    # Overdue once each (no escalations): 5, then 60 reminders. Within a batch the count
    # is fixed; SQLite splits an INSERT past 999 parameters (99 reminders), PostgreSQL never.
    due_referrals(world, 5)
    clock.move_to("2031-05-07 12:00:00-05:00")
    few = count_queries(django_assert_max_num_queries)
    assert len(reminders()) == 5
    Referral.objects.all().delete()
    Reminder.objects.all().delete()
    due_referrals(world, 60)
    many = count_queries(django_assert_max_num_queries)
    assert len(reminders(kind="ack_overdue")) == 60
    # Referrals due (one locked batch), network rules, overrides, holidays, people,
    # reminders inserted, clocks updated; releases and rescreens (one read each);
    # undelivered reminders read and marked queued; unsent emails read.
    assert few == many


# --- helpers -------------------------------------------------------------------------------


def referral_reminders(referral):
    return list(Reminder.objects.filter(object_type="referral", object_id=referral.pk))


def referral_state(referral) -> tuple:
    referral.refresh_from_db()
    return (referral.reminder_due_at, referral.overdue_count, referral.escalated_at)
