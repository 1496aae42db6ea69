"""Handing deliveries to the broker without letting a broker outage fail the caller: the
database is the truth, and the sweep queues whatever a failed publish left behind."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def publish(ids: Iterable[int], *, eta: datetime | None = None) -> list[int]:
    """Queue `deliver_webhook(id)` for each id (at `eta`, if given); returns the ids
    queued and records when. Stops at the first refusal (the broker is unreachable)."""
    from interop.models import Delivery
    from interop.tasks import deliver_webhook

    ids = list(ids)
    queued: list[int] = []
    for pk in ids:
        try:
            if eta is None:
                deliver_webhook.delay(pk)
            else:
                deliver_webhook.apply_async((pk,), eta=eta)
        except OperationalError as error:
            logger.warning(
                "Broker unavailable (%s): %d of %d deliveries not queued; the webhook "
                "sweep queues them again.",
                type(error).__name__,
                len(ids) - len(queued),
                len(ids),
            )
            break
        queued.append(pk)
    if queued:
        Delivery.objects.filter(pk__in=queued).update(queued_at=timezone.now())
    return queued
