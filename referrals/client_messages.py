"""The messages a referral's steps send to the client (outreach/): sent, accepted, the
appointment (its date now, a reminder the day before), and "did you get the help you
needed?" on completion.

Listens to `referral_changed` (referrals/events.py), which is sent after the change has
committed and may be sent again for the same change: each message's key (one of each kind
per referral, outreach.services.message_queue) makes a repeat nothing. What the message may
say — whether the receiver is named, whether the service is sensitive, whether the client
may be contacted at all (their preferences, the referral's own do-not-contact) — is
decided by outreach, not here.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext

from outreach.models import Message
from outreach.services import message_queue, messages_withdraw

from .events import STATUS, STATUS_EVENT_KINDS, referral_changed
from .models import Referral, ReferralEvent
from .reminders.rules import rules_for
from .workflow import WORKING, Status

KIND_FOR_STATUS = {
    Status.REQUESTED: Message.Kind.REFERRAL_SENT,
    Status.ACCEPTED: Message.Kind.REFERRAL_ACCEPTED,
    Status.COMPLETED: Message.Kind.COMPLETED_ASK,
}
NOT_YET_WORKED = frozenset({Status.DRAFT, Status.REQUESTED})
APPOINTMENT_KINDS = (Message.Kind.NEXT_STEP, Message.Kind.REMINDER)
# The reminder goes this long before the appointment; when that is too close to now (the
# next-step text has just gone), there is none.
REMINDER_BEFORE = timedelta(days=1)
REMINDER_MIN_LEAD = timedelta(hours=2)


def connect() -> None:
    referral_changed.connect(on_referral_changed, dispatch_uid="referrals_client_messages")


def on_referral_changed(sender, referral_id: int, change: str, object_id: int, **kwargs) -> None:
    """A referral was created, moved or scheduled: queue the client's message for the new
    status or appointment; once it is no longer worked, its appointment texts still waiting
    are withdrawn."""
    if change != STATUS:
        return
    event = (
        ReferralEvent.objects.filter(pk=object_id, kind__in=STATUS_EVENT_KINDS)
        .only("kind", "to_status", "actor_id", "appointment_at")
        .first()
    )
    if event is None:
        return
    if event.kind == ReferralEvent.Kind.SCHEDULED:
        _appointment(referral_id, event)
        return
    if event.to_status not in WORKING | NOT_YET_WORKED:
        _withdraw_appointment_texts(referral_id, gettext("The referral is no longer being worked."))
    if event.to_status not in KIND_FOR_STATUS:
        return
    referral = _referral(referral_id)
    if referral is None:
        return
    kind = KIND_FOR_STATUS[event.to_status]
    context: dict = {}
    if kind == Message.Kind.REFERRAL_SENT:
        if referral.program_id and referral.program.phone:
            context["phone"] = referral.program.phone
        # The network's (or the partnership's) promise: an answer within N business days.
        context["days"] = rules_for(referral).ack_business_days
    message_queue(
        client=referral.client,
        organization=referral.receiver_organization,
        kind=kind,
        referral=referral,
        context=context,
        user=event.actor if event.actor_id else None,
    )


def _referral(referral_id: int) -> Referral | None:
    return (
        Referral.objects.select_related("client", "program", "receiver_organization", "network")
        .filter(pk=referral_id)
        .first()
    )


def _withdraw_appointment_texts(referral_id: int, reason: str, keep_keys=()) -> None:
    messages_withdraw(
        referral_id=referral_id,
        kinds=APPOINTMENT_KINDS,
        reason=reason,
        keep_keys=keep_keys,
    )


def _appointment(referral_id: int, event: ReferralEvent) -> None:
    """The next-step text with the appointment's date, and its reminder the day before;
    the texts of an earlier appointment still waiting are withdrawn. An announcement of an
    appointment since moved (or of a referral no longer worked) queues nothing."""
    referral = _referral(referral_id)
    if (
        referral is None
        or referral.status not in WORKING
        or event.appointment_at is None
        or referral.appointment_at != event.appointment_at
    ):
        return
    context = {"when": event.appointment_at, "key": f"appointment-{event.pk}"}
    keep = tuple(f"{kind}:{context['key']}" for kind in APPOINTMENT_KINDS)
    _withdraw_appointment_texts(referral_id, gettext("The appointment was changed."), keep)
    user = event.actor if event.actor_id else None
    common = {
        "client": referral.client,
        "organization": referral.receiver_organization,
        "referral": referral,
        "context": context,
        "user": user,
    }
    message_queue(kind=Message.Kind.NEXT_STEP, **common)
    remind_at = event.appointment_at - REMINDER_BEFORE
    if remind_at - timezone.now() >= REMINDER_MIN_LEAD:
        message_queue(kind=Message.Kind.REMINDER, not_before=remind_at, **common)
