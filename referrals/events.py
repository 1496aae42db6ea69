"""What the referral domain announces to the apps below it (interop's webhooks and FHIR
subscriptions listen; ARCHITECTURE.md: the domain apps never import them).

The services call `status_changed` and `note_added` inside their transaction; the signal
is sent once that transaction has committed, so a listener never acts on a change that
was rolled back. Listeners get ids only (never client data), and a listener that fails
cannot fail the change, which has already committed: its error is logged (type only) and
the others still run. Listeners must be idempotent: a change may be announced again (the
interop sweep re-derives what a crash between the commit and the announcement lost).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

from .models import Referral, ReferralEvent, ReferralNote

logger = logging.getLogger(__name__)

# kwargs: referral_id (int), change (STATUS or NOTE), object_id (int: the ReferralEvent
# that recorded the status change — its creation or a transition — or the ReferralNote).
referral_changed = Signal()

STATUS = "status"
NOTE = "note"
# A routing or a scheduled appointment changes no status but the business status ("routed",
# "scheduled"), which the sender's system shows like any other step.
STATUS_EVENT_KINDS = (
    ReferralEvent.Kind.CREATED,
    ReferralEvent.Kind.TRANSITION,
    ReferralEvent.Kind.ROUTED,
    ReferralEvent.Kind.SCHEDULED,
)


def status_changed(referral: Referral) -> None:
    """The referral was created, moved, routed or scheduled in the current transaction:
    announce its newest status event after the commit. (The caller holds the referral's
    row lock, or has just inserted it, so the newest event is the one it wrote.)"""
    event_id = (
        ReferralEvent.objects.filter(referral_id=referral.pk, kind__in=STATUS_EVENT_KINDS)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    if event_id is not None:
        _announce(referral.pk, STATUS, event_id)


def note_added(note: ReferralNote) -> None:
    """A note was added to the thread in the current transaction."""
    _announce(note.referral_id, NOTE, note.pk)


def _announce(referral_id: int, change: str, object_id: int) -> None:
    def send() -> None:
        for receiver, result in referral_changed.send_robust(
            sender=Referral, referral_id=referral_id, change=change, object_id=object_id
        ):
            if isinstance(result, Exception):
                logger.error(
                    "Listener %s failed on referral %s (%s %s): %s",
                    getattr(receiver, "__qualname__", receiver),
                    referral_id,
                    change,
                    object_id,
                    type(result).__name__,
                )

    transaction.on_commit(send)
