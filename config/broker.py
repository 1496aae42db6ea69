"""Handing work to the broker without letting a broker outage fail the caller (reminders,
notifications' emails, webhooks, messages to clients).

The database is the truth: whatever could not be queued is still there, undelivered, and
the next sweep of its kind queues it again. So a failed publish is logged (ids and counts
only, never client data) and the request or sweep goes on."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def publish(task, ids: Iterable[int]) -> list[int]:
    """`task.delay(id)` for each id, in order; returns the ids queued. Stops at the first
    refusal: the broker is unreachable, and every further try would wait as long again."""
    ids = list(ids)
    queued: list[int] = []
    for pk in ids:
        try:
            task.delay(pk)
        except OperationalError as error:
            logger.warning(
                "Broker unavailable (%s): %d of %d %s messages not queued; the next "
                "sweep queues them again.",
                type(error).__name__,
                len(ids) - len(queued),
                len(ids),
                task.name,
            )
            break
        queued.append(pk)
    return queued
