"""Writes of the outreach app: queueing a message to a client, saving how the client wants
to be reached, and what an inbound text does (STOP, HELP, START, an answer).

`message_queue` is the one way a message to a client starts; other apps call it with
keywords (referrals/client_messages.py, the release-link receiver). It decides, in this
order, whether the message may go at all (do-not-contact, the referral's own do-not-contact
flag, a channel, an opt-in to texts), what it says (the client's language, whether the
organization may be named, whether the service is sensitive) and when (quiet hours); then
it stores the message under its key, so queueing the same message again is a no-op, and
hands the id to the broker once the transaction commits.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from config.broker import publish

from .disclosure import is_sensitive, may_name
from .models import ClientReport, ContactPreference, InboundMessage, Message
from .quiet import quiet_until
from .texts import KEYWORD_KINDS, message_language, render

Kind = Message.Kind
Channel = ContactPreference.Channel

# Kinds about one referral: one message of each kind per referral, whatever the context.
ONCE_PER_REFERRAL = frozenset({Kind.REFERRAL_SENT, Kind.REFERRAL_ACCEPTED, Kind.COMPLETED_ASK})

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
HELP_WORDS = frozenset({"HELP", "INFO"})
START_WORDS = frozenset({"START", "UNSTOP"})
ANSWERS = {
    "1": ClientReport.Answer.YES,
    "2": ClientReport.Answer.PARTLY,
    "3": ClientReport.Answer.NO,
}
# An answer counts for the last "did you get the help you needed?" sent within this long.
ANSWER_WINDOW_DAYS = 30


# --- queueing ------------------------------------------------------------------------------


def _key(kind: str, client, organization, referral, context: dict) -> str:
    """The logical message: one per referral for the referral's own steps; otherwise the
    kind, the people it is about and what it says (a hash of the context)."""
    if context.get("key"):
        return f"{kind}:{context['key']}"[:200]
    if kind in ONCE_PER_REFERRAL and referral is not None:
        return f"{kind}:referral-{referral.pk}"
    payload = json.dumps(
        {k: v for k, v in context.items() if k != "key"}, sort_keys=True, default=str
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()[:24]
    org = organization.pk if organization is not None else 0
    ref = referral.pk if referral is not None else 0
    return f"{kind}:client-{client.pk}:org-{org}:referral-{ref}:{digest}"


def message_refusal(
    kind: str,
    preference: ContactPreference | None,
    referral,
    channel: str = "",
    client=None,
) -> str:
    """Why this message may not go (in words staff read), or "" when it may. `channel`
    ("sms" or "email") when the sender chose one (a release link); otherwise the client's.
    With a chosen channel, the client's record gives the address the preference lacks."""
    if preference is not None and preference.do_not_contact:
        return "Do not contact (safety): no messages of any kind."
    if referral is not None and referral.do_not_contact:
        return "The referral says not to contact the client."
    if kind in KEYWORD_KINDS:
        # The answer to a text the client just sent from this number.
        return "" if preference is not None and preference.phone else "No phone number for texts."
    if preference is None and not channel:
        return "No contact preference is recorded for the client."
    if preference is not None and preference.channel == Channel.NONE:
        return "The client chose not to get messages."
    wanted = channel or _CHANNEL_FOR.get(preference.channel, "")
    if wanted == Message.Channel.SMS:
        if not _address(preference, client, wanted):
            return "No phone number for texts."
        if preference is not None and preference.text_opt_out_at is not None:
            return "The client opted out of texts (STOP)."
        if preference is None or preference.text_opt_in_at is None:
            return "No opt-in to texts is recorded."
        return ""
    if wanted == Message.Channel.EMAIL:
        return "" if _address(preference, client, wanted) else "No email address."
    return "The client prefers phone calls: nothing is sent automatically."


_CHANNEL_FOR = {Channel.TEXT: Message.Channel.SMS, Channel.EMAIL: Message.Channel.EMAIL}


def _address(preference: ContactPreference | None, client, channel: str) -> str:
    """The number or address for `channel`: the preference's, else the client record's."""
    sms = channel == Message.Channel.SMS
    mine = (preference.phone if sms else preference.email) if preference is not None else ""
    if mine or client is None:
        return mine
    if not sms:
        return client.email
    from .forms import e164

    try:
        return e164(client.phone.split(" ext. ")[0])
    except ValidationError:
        return ""


def _destination(kind: str, preference, client, channel: str) -> tuple[str, str]:
    if kind in KEYWORD_KINDS:
        return Message.Channel.SMS, preference.phone
    wanted = channel or _CHANNEL_FOR[preference.channel]
    return wanted, _address(preference, client, wanted)


def message_queue(
    *,
    client,
    organization,
    kind: str,
    referral=None,
    context: dict | None = None,
    user=None,
    not_before: datetime | None = None,
) -> Message | None:
    """Queue one message to `client` about `organization` (and `referral`). Returns the
    message, or None when it may not be sent (do-not-contact, no channel, no opt-in to
    texts, opted out...): then a skipped row records why, under the same key. Queueing the
    same logical message again returns what the first call stored (None if skipped).

    `context` holds the template's values: `phone` and `days` (referral sent), `when` (an
    appointment), `url` (a link: kept in the stored body only), `sensitive` (never name the
    service), `key` (what makes this message one of its kind, e.g. the appointment's id),
    `channel` ("sms" or "email": the sender's choice instead of the client's usual one).
    `not_before`: a later moment to send it (an appointment's reminder); the client's quiet
    hours around that moment still hold it."""
    if kind not in Kind.values:
        raise ValueError(f"Unknown message kind {kind!r}.")
    context = dict(context or {})
    key = _key(kind, client, organization, referral, context)
    existing = Message.objects.filter(key=key).first()
    if existing is not None:
        return None if existing.status == Message.Status.SKIPPED else existing

    now = timezone.now()
    due = max(not_before, now) if not_before is not None else now
    preference = ContactPreference.objects.filter(client_id=client.pk).first()
    fields = {
        "client": client,
        "organization": organization,
        "referral": referral,
        "kind": kind,
        "created_by": user,
        "created_at": now,
        "scheduled_at": due,
    }
    wanted = context.get("channel", "")
    if wanted not in ("", *Message.Channel.values):
        raise ValueError(f"Unknown channel {wanted!r}.")
    # The client's record stands in for a missing address only when the sender chose the
    # channel (a release link); otherwise the preference is the one source.
    fallback = client if wanted else None
    refusal = message_refusal(kind, preference, referral, wanted, fallback)
    if refusal:
        _store(key, status=Message.Status.SKIPPED, reason=refusal, **fields)
        return None

    channel, destination = _destination(kind, preference, fallback, wanted)
    language = message_language(
        (preference.language if preference is not None else "") or client.preferred_language
    )
    rendered = render(
        kind,
        {**context, "organization": organization.name if organization is not None else ""},
        language=language,
        channel=channel,
        named=may_name(organization, client, referral=referral, at=now),
        sensitive=is_sensitive(referral, context),
    )
    if kind not in KEYWORD_KINDS and preference is not None:
        fields["scheduled_at"] = (
            quiet_until(preference.quiet_start, preference.quiet_end, due) or due
        )
    message = _store(
        key,
        status=Message.Status.QUEUED,
        channel=channel,
        destination=destination,
        language=language,
        subject=rendered.subject,
        body=rendered.body,
        **fields,
    )
    if message.status == Message.Status.QUEUED and message.scheduled_at <= now:
        pk = message.pk
        transaction.on_commit(lambda: _hand_over([pk], now))
    return None if message.status == Message.Status.SKIPPED else message


def messages_withdraw(
    *, referral_id: int, kinds: tuple[str, ...], reason: str, keep_keys: tuple[str, ...] = ()
) -> int:
    """Take back the messages of `kinds` about the referral that are still waiting to go (an
    appointment moved or the referral closed): they are recorded as not sent, with
    `reason`. A message being sent right now holds its row lock, so this waits for it and
    then leaves it as sent. Returns how many were withdrawn."""
    waiting = Message.objects.filter(
        referral_id=referral_id, kind__in=kinds, status=Message.Status.QUEUED
    )
    if keep_keys:
        waiting = waiting.exclude(key__in=keep_keys)
    return waiting.update(status=Message.Status.SKIPPED, reason=reason[:300])


def _store(key: str, **fields) -> Message:
    """Insert the message under its key; a concurrent insert of the same key wins and its
    row is returned (the savepoint keeps the caller's transaction usable)."""
    try:
        with transaction.atomic():
            return Message.objects.create(key=key, **fields)
    except IntegrityError:
        return Message.objects.get(key=key)


def _hand_over(ids: list[int], now: datetime) -> None:
    from .tasks import send_message

    queued = publish(send_message, ids)
    if queued:
        Message.objects.filter(pk__in=queued, status=Message.Status.QUEUED).update(queued_at=now)


# --- contact preferences -------------------------------------------------------------------

PREFERENCE_FIELDS = ("channel", "phone", "email", "language", "quiet_start", "quiet_end")


def contact_preference_save(
    *, client, data: dict, actor, organization, request=None
) -> ContactPreference:
    """Save how `client` wants to be reached. `data`: the PREFERENCE_FIELDS, `texts_opt_in`
    (bool) with `opt_in_method`, and `do_not_contact` (bool). A new opt-in to texts is
    recorded with who, when and how; taking it away records an opt-out. Audited (field
    names only)."""
    client.ensure_current()
    now = timezone.now()
    with transaction.atomic():
        preference, _created = ContactPreference.objects.select_for_update().get_or_create(
            client=client
        )
        changed = [f for f in PREFERENCE_FIELDS if getattr(preference, f) != data.get(f)]
        for name in changed:
            setattr(preference, name, data.get(name))
        wants_texts = bool(data.get("texts_opt_in"))
        if wants_texts and not preference.texts_allowed:
            method = data.get("opt_in_method") or ""
            if method not in ContactPreference.OptInMethod.values:
                raise ValidationError("Say how the client agreed to texts.")
            preference.text_opt_in_at = now
            preference.text_opt_in_method = method
            preference.text_opt_in_by = actor
            preference.text_opt_in_organization = organization
            preference.text_opt_out_at = None
            changed.append("text_opt_in")
        elif not wants_texts and preference.texts_allowed:
            preference.text_opt_out_at = now
            changed.append("text_opt_out")
        dnc = bool(data.get("do_not_contact"))
        if dnc != preference.do_not_contact:
            preference.do_not_contact = dnc
            preference.do_not_contact_at = now if dnc else None
            changed.append("do_not_contact")
        preference.updated_at = now
        preference.updated_by = actor
        preference.updated_by_organization = organization
        preference.save()
        if dnc:
            # Safety first: nothing already queued goes out either.
            Message.objects.filter(client_id=client.pk, status=Message.Status.QUEUED).update(
                status=Message.Status.SKIPPED,
                reason="Do not contact (safety): no messages of any kind.",
            )
        audit_record(
            action=AuditEvent.Action.UPDATE,
            object_type="contact_preference",
            object_ids=[preference.pk],
            client_ids=[client.pk],
            actor=actor,
            organization=organization,
            request=request,
            detail={"fields": sorted(changed)},
        )
    return preference


# --- inbound texts -------------------------------------------------------------------------


def meaning_of(body: str) -> str:
    """What an inbound text asks for: a keyword (its first word, any case), an answer
    (1, 2 or 3), or nothing we act on."""
    words = (body or "").strip().upper().split()
    first = words[0].strip(".!") if words else ""
    if first in STOP_WORDS:
        return InboundMessage.Meaning.STOP
    if first in HELP_WORDS:
        return InboundMessage.Meaning.HELP
    if first in START_WORDS:
        return InboundMessage.Meaning.START
    if first in ANSWERS:
        return InboundMessage.Meaning.ANSWER
    return InboundMessage.Meaning.OTHER


def inbound_receive(*, provider_id: str, from_number: str, body: str) -> InboundMessage:
    """Record a text the client sent and act on it: STOP ends texts to that number at once
    (every client who uses it) and says so; START resumes them (recorded as an opt-in by
    keyword); HELP answers; 1/2/3 after "did you get the help you needed?" is recorded as
    the client's own report on that referral. A webhook delivered twice acts once."""
    now = timezone.now()
    meaning = meaning_of(body)
    with transaction.atomic():
        inbound, created = InboundMessage.objects.get_or_create(
            provider_id=provider_id,
            defaults={
                "from_number": from_number,
                "body": body[:1600],
                "meaning": meaning,
                "received_at": now,
            },
        )
        if not created:
            return inbound
        # Every client who gave this number (a family may share one phone), locked: a STOP
        # and a START racing end in the order they arrived.
        preferences = list(
            ContactPreference.objects.select_for_update()
            .filter(phone=from_number)
            .select_related("client")
            .order_by("pk")
        )
        first = preferences[0] if preferences else None
        inbound.client = first.client if first else None
        reply = None
        if meaning == InboundMessage.Meaning.STOP:
            for preference in preferences:
                if preference.text_opt_out_at is None:
                    preference.text_opt_out_at = now
                    preference.save(update_fields=["text_opt_out_at"])
            reply = Kind.STOP_CONFIRMATION
        elif meaning == InboundMessage.Meaning.START:
            for preference in preferences:
                preference.text_opt_in_at = now
                preference.text_opt_in_method = ContactPreference.OptInMethod.KEYWORD
                preference.text_opt_in_by = None
                preference.text_opt_in_organization = None
                preference.text_opt_out_at = None
                preference.save(
                    update_fields=[
                        "text_opt_in_at",
                        "text_opt_in_method",
                        "text_opt_in_by",
                        "text_opt_in_organization",
                        "text_opt_out_at",
                    ]
                )
            reply = Kind.START_CONFIRMATION
        elif meaning == InboundMessage.Meaning.HELP:
            reply = Kind.HELP_ANSWER
        elif meaning == InboundMessage.Meaning.ANSWER:
            _record_answer(inbound, body, now)
        inbound.save(update_fields=["client", "meaning", "in_reply_to"])
        if reply is not None and first is not None:
            message_queue(
                client=first.client,
                organization=None,
                kind=reply,
                context={"key": f"inbound-{inbound.pk}"},
            )
    return inbound


def _record_answer(inbound: InboundMessage, body: str, now: datetime) -> None:
    asked = (
        Message.objects.filter(
            destination=inbound.from_number,
            kind=Kind.COMPLETED_ASK,
            status=Message.Status.SENT,
            sent_at__gte=now - timedelta(days=ANSWER_WINDOW_DAYS),
            referral__isnull=False,
        )
        .order_by("-sent_at", "-id")
        .first()
    )
    if asked is None:
        inbound.meaning = InboundMessage.Meaning.OTHER
        return
    inbound.in_reply_to = asked
    inbound.client_id = asked.client_id
    ClientReport.objects.create(
        referral_id=asked.referral_id,
        client_id=asked.client_id,
        answer=ANSWERS[body.strip().split()[0].strip(".!")],
        received_at=now,
        inbound=inbound,
    )
