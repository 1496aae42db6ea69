"""Delivery: a reminder becomes one notification per person and one email each (or a line
in their daily digest), exactly once however often delivery runs; messages never name the
client; a broker outage fails nobody and loses nothing."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from kombu.exceptions import OperationalError

from config.broker import publish
from organizations.models import User
from referrals import tasks
from referrals.models import EmailDigest, Notification, NotificationPreference, Reminder
from referrals.reminders import delivery
from referrals.reminders.services import notification_preference_set
from referrals.reminders.sweep import reminders_sweep
from tests.factories import assessment_for

from .support import Queue, move, send
from .test_sweep import release_expiring

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]


def reminder_notifications(**filters) -> list[tuple[int, str]]:
    rows = Notification.objects.filter(reminder__isnull=False, **filters).order_by("user_id")
    return [(n.user_id, n.kind) for n in rows]


def emails_to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def overdue(world, clock):
    """A referral whose acknowledgement is overdue, its reminder created (not delivered)."""
    referral = send(world)
    clock.move_to("2031-05-07 09:00:00-05:00")
    reminders_sweep(publish=Queue())
    mail.outbox.clear()
    return referral, Reminder.objects.get(kind="ack_overdue")


def test_a_reminder_is_delivered_once_in_the_app_and_by_email(world, clock):
    referral, reminder = overdue(world, clock)
    made = tasks.deliver_reminder(reminder.pk)
    assert made == 2
    assert reminder_notifications() == sorted(
        (u, "reminder_ack_overdue") for u in world.receiving_team
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.receiver.email, world.receiver_colleague.email]
    )
    [email] = emails_to(world.receiver)
    assert f"/referrals/{referral.pk}/" in email.body
    assert email.extra_headers["Message-ID"].startswith("<notification-")
    # Again, and once more through the sweep: nothing new.
    assert tasks.deliver_reminder(reminder.pk) == 0
    reminders_sweep()
    assert len(reminder_notifications()) == 2
    assert len([m for m in mail.outbox if m.subject.startswith("Linkage: Overdue")]) == 2
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.DELIVERED and reminder.delivered_at is not None


def test_the_sweep_delivers_what_it_creates(world, clock):
    send(world)
    clock.move_to("2031-05-07 09:00:00-05:00")
    reminders_sweep()  # Celery runs eagerly in these tests
    assert len(reminder_notifications()) == 2
    assert Reminder.objects.get().state == Reminder.State.DELIVERED


def test_a_reminder_overtaken_before_delivery_is_skipped(world, clock):
    referral, reminder = overdue(world, clock)
    move(world, referral, "accept")
    mail.outbox.clear()
    assert tasks.deliver_reminder(reminder.pk) == 0
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.SKIPPED
    assert reminder_notifications() == []
    assert mail.outbox == []


def test_a_recipient_who_left_is_not_told(world, clock):
    _, reminder = overdue(world, clock)
    User.objects.filter(pk=world.receiver_colleague.pk).update(is_active=False)
    tasks.deliver_reminder(reminder.pk)
    assert reminder_notifications() == [(world.receiver.pk, "reminder_ack_overdue")]


def test_messages_name_numbers_programs_and_organizations_never_the_client(world, clock):
    client = world.client
    referral = send(world, reason=f"{client.given_name} needs food")
    release = release_expiring(world, "2031-06-20 12:00")
    assessment_for(client, organization=world.tenant.hco, actor=world.sender)
    clock.move_to("2031-05-07 09:00:00-05:00")
    reminders_sweep()
    clock.move_to("2031-05-09 09:00:00-05:00")
    reminders_sweep()  # the second overdue: escalated
    clock.move_to("2031-05-22 09:00:00-05:00")
    reminders_sweep()  # the release expires within 30 days
    clock.move_to("2032-05-06 09:00:00-05:00")
    reminders_sweep()  # rescreening due
    kinds = {n.kind for n in Notification.objects.filter(reminder__isnull=False)}
    assert kinds >= {
        "reminder_ack_overdue",
        "reminder_escalation",
        "reminder_release_expiring",
        "reminder_rescreen_due",
    }
    escalation = Notification.objects.filter(kind="reminder_escalation").first()
    assert escalation.message.startswith(f"Stalled: referral #{referral.pk} to Weekly Groceries")
    assert world.tenant.cbo.name in escalation.message
    assert Reminder.objects.filter(kind="release_expiring", object_id=release.pk).exists()
    secrets = [client.given_name, client.family_name, client.phone, client.email]
    secrets += [release.client.given_name, release.client.family_name]
    for n in Notification.objects.all():
        assert not [s for s in secrets if s and s in n.message], n.message
    for m in mail.outbox:
        assert not [s for s in secrets if s and (s in m.subject or s in m.body)], m.subject


def test_an_escalation_points_the_backbone_to_its_stalled_list_not_the_referral(world, clock):
    referral = send(world)
    for when in ("2031-05-07 09:00:00-05:00", "2031-05-09 09:00:00-05:00"):
        clock.move_to(when)
        reminders_sweep()
    told = Notification.objects.filter(kind="reminder_escalation")
    assert sorted(told.values_list("user_id", flat=True)) == sorted(
        [world.backbone_admin.pk, world.second_backbone_admin.pk]
    )
    # The backbone is no party to the referral: no "open referral" in its list.
    assert set(told.values_list("referral_id", flat=True)) == {None}
    [email] = emails_to(world.backbone_admin)
    assert "/referrals/stalled/" in email.body
    assert f"/referrals/{referral.pk}/" not in email.body
    assert emails_to(world.backbone_staff) == []


def test_a_release_expiring_message_points_to_the_release(world, clock):
    release = release_expiring(world, "2031-06-20 12:00")
    clock.move_to("2031-05-22 09:00:00-05:00")
    reminders_sweep()
    [n] = Notification.objects.filter(kind="reminder_release_expiring", user=world.sender)
    assert n.message.startswith(f"Release of information #{release.pk}")
    assert "expires on Jun 20, 2031" in n.message
    [email] = emails_to(world.sender)
    assert f"/releases/{release.pk}/" in email.body


# --- immediate or daily digest -------------------------------------------------------------


def test_digest_users_get_no_immediate_email_and_one_digest_a_day(world, clock):
    notification_preference_set(user=world.receiver, email_mode="digest")
    _, reminder = overdue(world, clock)
    tasks.deliver_reminder(reminder.pk)
    # In the app for both; by email now only for the colleague who wants it at once.
    assert len(reminder_notifications()) == 2
    assert emails_to(world.receiver) == []
    assert len(emails_to(world.receiver_colleague)) == 1
    clock.move_to("2031-05-08 07:00:00-05:00")
    assert delivery.digests_send() == 1
    [digest] = emails_to(world.receiver)
    assert "daily summary" in digest.subject
    assert "Overdue: referral #" in digest.body
    # New referral notifications from before (sent on Monday) are in it too.
    assert "New referral #" in digest.body
    assert not Notification.objects.filter(user=world.receiver, emailed_at__isnull=True).exists()
    # Twice the same day (two beats): one digest.
    assert delivery.digests_send() == 0
    assert len(emails_to(world.receiver)) == 1
    assert EmailDigest.objects.get(user=world.receiver).notification_count >= 2


def test_a_digest_claimed_today_sends_no_second_one_even_with_new_items(world, clock):
    notification_preference_set(user=world.receiver, email_mode="digest")
    send(world)
    clock.move_to("2031-05-06 07:00:00-05:00")
    assert delivery.digests_send() == 1
    clock.move_to("2031-05-07 09:00:00-05:00")
    reminders_sweep()  # a reminder arrives after today's digest
    clock.move_to("2031-05-07 10:00:00-05:00")
    assert delivery.digests_send() == 1  # a new day: its own digest
    assert delivery.digests_send() == 0
    assert len(emails_to(world.receiver)) == 2


def test_digest_notifications_are_not_emailed_one_by_one(world, clock):
    notification_preference_set(user=world.receiver, email_mode="digest")
    send(world)  # on_commit never runs in these tests: the emails are not queued
    n = Notification.objects.get(user=world.receiver)
    assert tasks.deliver_notification_email(n.pk) is False
    n.refresh_from_db()
    assert n.emailed_at is None  # left for the digest
    clock.move_to("2031-05-06 09:00:00-05:00")
    queue = Queue()
    reminders_sweep(publish=queue)
    # The sweep re-queues the lost emails of the others, not of the digest user.
    requeued = {pk for task, pk in queue.sent if task == "deliver_notification_email"}
    assert n.pk not in requeued
    assert requeued == set(
        Notification.objects.exclude(user=world.receiver).values_list("pk", flat=True)
    )


def test_a_notification_email_whose_message_was_lost_is_sent_by_the_next_sweep(world, clock):
    send(world)  # the queueing after commit never happens here: as if the broker lost it
    assert mail.outbox == []
    clock.move_to("2031-05-05 09:03:00-05:00")
    reminders_sweep()  # too soon: the message may still be on its way
    assert mail.outbox == []
    clock.move_to("2031-05-05 09:06:00-05:00")
    reminders_sweep()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.receiver.email, world.receiver_colleague.email]
    )
    reminders_sweep()
    assert len(mail.outbox) == 2


def test_preference_defaults_to_immediate(world):
    assert not delivery.wants_digest(world.receiver)
    notification_preference_set(user=world.receiver, email_mode="digest")
    world.receiver.refresh_from_db()
    assert NotificationPreference.objects.get(user=world.receiver).email_mode == "digest"


# --- the broker down ------------------------------------------------------------------------


class DownBroker:
    name = "referrals.tasks.deliver_reminder"

    def __init__(self):
        self.tries = 0

    def delay(self, pk):
        self.tries += 1
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_an_unreachable_broker_is_logged_and_the_rest_not_tried(caplog):
    broker = DownBroker()
    with caplog.at_level(logging.WARNING, logger="config.broker"):
        assert publish(broker, [1, 2, 3]) == []
    assert broker.tries == 1
    assert "3 of 3" in caplog.text and "queues them again" in caplog.text


def test_a_referral_sent_while_the_broker_is_down_saves_and_raises_nothing(
    world, clock, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    monkeypatch.setattr(tasks.deliver_notification_email, "delay", DownBroker().delay)
    with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.WARNING):
        referral = send(world)
    assert referral.pk and Notification.objects.filter(referral=referral).count() == 2
    assert "not queued" in caplog.text
    assert world.client.given_name not in caplog.text
    # The broker is back: the next sweep sends what was not queued.
    monkeypatch.undo()
    clock.move_to("2031-05-05 09:10:00-05:00")
    reminders_sweep()
    assert len(mail.outbox) == 2


def test_a_reminder_whose_queue_message_was_lost_is_queued_again(world, clock):
    send(world)
    clock.move_to("2031-05-07 09:00:00-05:00")
    lost = Queue()
    reminders_sweep(publish=lambda task, ids: lost(task, ids) and [])  # nothing arrives
    reminder = Reminder.objects.get()
    assert reminder.queued_at is None and reminder.delivered_at is None
    reminders_sweep()
    reminder.refresh_from_db()
    assert reminder.state == Reminder.State.DELIVERED
    assert len(reminder_notifications()) == 2
