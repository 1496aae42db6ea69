"""Reads of the outreach app for pages: a client's contact preference, the delivery log,
and the client's own reports on a referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consent import policy
from consent.categories import Category

from .models import ClientReport, ContactPreference, InboundMessage, Message

LOG_LIMIT = 200


def contact_preference_for(client) -> ContactPreference | None:
    """The client's contact preference, or None when none is recorded."""
    return (
        ContactPreference.objects.filter(client_id=client.pk)
        .select_related("text_opt_in_by", "text_opt_in_organization")
        .first()
    )


@dataclass(frozen=True)
class LogEntry:
    """One line of the delivery log: a message sent (or not) to the client, or a text the
    client sent. `text` is None when the viewer may not read it (it names another
    organization's referral the viewer may not see)."""

    at: datetime
    direction: str  # "out" or "in"
    kind: str
    status: str
    channel: str
    text: str | None
    reason: str
    object: Message | InboundMessage


def delivery_log(org, client, *, limit: int = LOG_LIMIT) -> list[LogEntry]:
    """Every message to `client` and every text from them, newest first (up to `limit` of
    each). A message's words are shown to the organization it is about, to a party of its
    referral, and to an organization the client's release lets see referral details;
    keyword answers and the client's replies to everyone who may see this page."""
    sees_referrals = policy.may_see(org, Category.REFERRALS, client)
    out = [
        LogEntry(
            at=m.sent_at or m.created_at,
            direction="out",
            kind=m.get_kind_display(),
            status=m.get_status_display(),
            channel=m.get_channel_display(),
            text=m.body if _may_read(org, m, sees_referrals) else None,
            reason=m.reason,
            object=m,
        )
        for m in Message.objects.filter(client_id=client.pk)
        .select_related("referral")
        .order_by("-created_at", "-id")[:limit]
    ]
    inbound = [
        LogEntry(
            at=i.received_at,
            direction="in",
            kind=i.get_meaning_display(),
            status="",
            channel=Message.Channel.SMS.label,
            text=i.body if sees_referrals or i.meaning != InboundMessage.Meaning.OTHER else None,
            reason="",
            object=i,
        )
        for i in InboundMessage.objects.filter(client_id=client.pk).order_by("-received_at", "-id")[
            :limit
        ]
    ]
    return sorted(out + inbound, key=lambda e: (e.at, e.object.pk), reverse=True)


def _may_read(org, message: Message, sees_referrals: bool) -> bool:
    if message.organization_id is None and message.referral_id is None:
        return True
    if sees_referrals or message.organization_id == org.pk:
        return True
    referral = message.referral
    return referral is not None and org.pk in (
        referral.sender_organization_id,
        referral.receiver_organization_id,
    )


def client_reports_for(referral_id: int) -> list[ClientReport]:
    """What the client answered about a referral ("did you get the help you needed?"),
    newest first. The referral page shows it to those who see the referral's outcome."""
    return list(ClientReport.objects.filter(referral_id=referral_id).order_by("-received_at"))
