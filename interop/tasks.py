"""Background delivery of webhooks and FHIR subscription notifications. Tasks take ids
only; each calls one service. Every task may run twice (acks_late): the work is claimed
in the database (interop/webhooks/delivery.py). Retries of a failed delivery are
scheduled in the database too (bounded, for named transient failures only), and queued
with an ETA; a message lost on the way is queued again by the sweep."""

from __future__ import annotations

from celery import shared_task

from .webhooks import delivery, sweep


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at one delivery, if it is due and nobody else is making one."""
    return delivery.delivery_send(delivery_id=delivery_id)


@shared_task(acks_late=True, ignore_result=True)
def sweep_deliveries() -> None:
    """Beat, every WEBHOOK_SWEEP_SECONDS: queue what a lost message or a dead worker left."""
    sweep.deliveries_sweep()
