"""Background sending of client messages. Tasks take message ids only (never numbers,
bodies or links): the message is read from the database and claimed there
(outreach/delivery.py), so every task may run twice (acks_late)."""

from __future__ import annotations

from celery import shared_task

from . import delivery


@shared_task(acks_late=True, ignore_result=True)
def send_message(message_id: int) -> bool:
    """Send one queued message, once."""
    return delivery.message_send(message_id=message_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_messages() -> int:
    """Beat, every REMINDER_SWEEP_SECONDS: queue what is due and unsent."""
    return delivery.messages_sweep()
