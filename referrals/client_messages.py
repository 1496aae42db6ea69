"""The messages a referral's steps send to the client (outreach/): sent, accepted, and
"did you get the help you needed?" on completion.

Listens to `referral_changed` (referrals/events.py), which is sent after the change has
committed and may be sent again for the same change: each message's key (one of each kind
per referral, outreach.services.message_queue) makes a repeat nothing. What the message may
say — whether the receiver is named, whether the service is sensitive, whether the client
may be contacted at all (their preferences, the referral's own do-not-contact) — is
decided by outreach, not here.
"""

from __future__ import annotations

from outreach.models import Message
from outreach.services import message_queue

from .events import STATUS, STATUS_EVENT_KINDS, referral_changed
from .models import Referral, ReferralEvent
from .reminders.rules import rules_for
from .workflow import Status

KIND_FOR_STATUS = {
    Status.REQUESTED: Message.Kind.REFERRAL_SENT,
    Status.ACCEPTED: Message.Kind.REFERRAL_ACCEPTED,
    Status.COMPLETED: Message.Kind.COMPLETED_ASK,
}


def connect() -> None:
    referral_changed.connect(on_referral_changed, dispatch_uid="referrals_client_messages")


def on_referral_changed(sender, referral_id: int, change: str, object_id: int, **kwargs) -> None:
    """A referral was created or moved: queue the client's message for the new status."""
    if change != STATUS:
        return
    event = (
        ReferralEvent.objects.filter(pk=object_id, kind__in=STATUS_EVENT_KINDS)
        .only("to_status", "actor_id")
        .first()
    )
    if event is None or event.to_status not in KIND_FOR_STATUS:
        return
    referral = (
        Referral.objects.select_related("client", "program", "receiver_organization", "network")
        .filter(pk=referral_id)
        .first()
    )
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
