"""Background delivery for referrals. Tasks take ids only (never client data); each calls
one service, and every one of them may run twice (acks_late): the work is claimed in the
database (referrals/reminders/delivery.py)."""

from __future__ import annotations

from celery import shared_task

from .reminders import delivery, sweep


@shared_task(acks_late=True, ignore_result=True)
def deliver_notification_email(notification_id: int) -> bool:
    """Email one notification, once (or leave it for the person's daily digest)."""
    return delivery.notification_email_send(notification_id=notification_id)


@shared_task(acks_late=True, ignore_result=True)
def deliver_reminder(reminder_id: int) -> int:
    """Deliver one reminder (in-app notifications, then immediate emails), once."""
    return len(delivery.reminder_deliver(reminder_id=reminder_id))


@shared_task(acks_late=True, ignore_result=True)
def sweep_reminders() -> None:
    """Beat, every REMINDER_SWEEP_SECONDS: create the reminders due, queue undelivered ones."""
    sweep.reminders_sweep()


@shared_task(acks_late=True, ignore_result=True)
def send_daily_digests() -> int:
    """Beat, daily at REMINDER_DIGEST_HOUR: one digest email per person who chose it."""
    return delivery.digests_send()
