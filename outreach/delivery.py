"""Sending a queued message, exactly once, as the reminders' delivery does
(referrals/reminders/delivery.py):

- the message is claimed with SELECT ... FOR UPDATE SKIP LOCKED on its row, in a
  transaction that sends it and records the provider's answer before the lock is let go. A
  second delivery running at the same time skips the row; a later one finds it sent.
- A worker killed mid-send holds nothing any more (its connection, and so its lock and its
  transaction, died with it): the message is still queued, and the next sweep queues it
  again. Only a kill between the provider's acceptance and our commit could send twice.
- Whether it may go is asked again at sending time (a STOP or a do-not-contact may have
  come since it was queued), and quiet hours that began since hold it until they end.

The sweep queues what is due and unsent: new messages whose broker message was lost, ones
held by quiet hours, ones a failed attempt left queued.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from config.broker import publish as broker_publish

from .models import ContactPreference, Message
from .quiet import quiet_until
from .services import message_refusal
from .sms import SMSError, get_backend
from .texts import KEYWORD_KINDS

logger = logging.getLogger(__name__)

EMAIL_ERRORS = (smtplib.SMTPException, OSError)
# Failed tries before a message is given up (each sweep tries again until then).
MAX_ATTEMPTS = 5
BATCH = 500


def message_send(*, message_id: int) -> bool:
    """Send one queued message, at most once. Returns True when it went out now; False
    when it was sent before (or is being sent right now), is not due yet, may no longer be
    sent (recorded as skipped), or the provider refused (recorded; retried by the sweep
    when the error is transient)."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("referral", "client")
            .filter(pk=message_id, status=Message.Status.QUEUED)
            .first()
        )
        if message is None or message.scheduled_at > now:
            return False
        preference = ContactPreference.objects.filter(client_id=message.client_id).first()
        refusal = message_refusal(
            message.kind, preference, message.referral, message.channel, message.client
        )
        if not refusal and message.kind not in KEYWORD_KINDS and preference is not None:
            held = quiet_until(preference.quiet_start, preference.quiet_end, now)
            if held is not None:
                message.scheduled_at = held
                message.queued_at = None
                message.save(update_fields=["scheduled_at", "queued_at"])
                return False
        if refusal:
            message.status = Message.Status.SKIPPED
            message.reason = refusal
            message.save(update_fields=["status", "reason"])
            return False
        message.attempts += 1
        try:
            provider_id = _send(message)
        except SMSError as error:
            _failed(message, error.reason, transient=error.transient)
            return False
        except EMAIL_ERRORS as error:
            _failed(message, f"The mail server refused ({type(error).__name__}).", transient=True)
            return False
        message.status = Message.Status.SENT
        message.provider_id = provider_id
        message.sent_at = timezone.now()
        message.reason = ""
        message.save(update_fields=["status", "provider_id", "sent_at", "reason", "attempts"])
    return True


def _send(message: Message) -> str:
    if message.channel == Message.Channel.SMS:
        return (
            get_backend()
            .send(to=message.destination, body=message.body, reference=f"message-{message.pk}")
            .provider_id
        )
    host = urlsplit(settings.SITE_URL).hostname or "linkage.invalid"
    EmailMessage(
        subject=message.subject,
        body=message.body,
        to=[message.destination],
        # Fixed per message: the copy a crash after the server's acceptance could cause is
        # recognisably the same mail.
        headers={"Message-ID": f"<outreach-{message.pk}@{host}>"},
    ).send()
    return f"email-{message.pk}"


def _failed(message: Message, reason: str, *, transient: bool) -> None:
    give_up = not transient or message.attempts >= MAX_ATTEMPTS
    message.reason = reason
    message.queued_at = None
    if give_up:
        message.status = Message.Status.FAILED
    message.save(update_fields=["status", "reason", "attempts", "queued_at"])
    # Ids and reasons only: the reason never holds the number or the body.
    logger.warning("Outreach message %s not sent: %s", message.pk, reason)


def messages_sweep(*, now: datetime | None = None, publish=None) -> int:
    """Queue every message that is due and unsent and was not queued within the last
    interval (its broker message lost, a worker killed, quiet hours over, a transient
    failure). Returns how many were handed to the broker."""
    from .tasks import send_message

    now = now or timezone.now()
    publish = publish or broker_publish
    stale = now - timedelta(seconds=max(settings.REMINDER_SWEEP_SECONDS, 60))
    ids = list(
        Message.objects.filter(status=Message.Status.QUEUED, scheduled_at__lte=now)
        .exclude(queued_at__gt=stale)
        .order_by("scheduled_at", "id")
        .values_list("pk", flat=True)[:BATCH]
    )
    if not ids:
        return 0
    queued = publish(send_message, ids)
    if queued:
        Message.objects.filter(pk__in=queued, status=Message.Status.QUEUED).update(queued_at=now)
    return len(queued)
