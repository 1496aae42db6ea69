"""Delivery, exactly once: a reminder becomes in-app notifications, and a notification
becomes an email (or a line in the day's digest).

Each step is claimed in the database, never assumed:
- a reminder is delivered in one transaction holding its row lock (SELECT ... FOR UPDATE
  SKIP LOCKED): a second delivery running at the same time skips it, a later one finds
  it delivered, and the notifications' unique key (reminder, person) backs this up;
- an email is sent while its notification's row lock is held and recorded before the
  lock is let go. A worker killed mid-send holds nothing any more (its connection, and
  so its lock and transaction, died with it): the notification is still unsent, and the
  next sweep queues it again. Only a kill between the mail server's acceptance and the
  commit could send twice; the message's fixed Message-ID lets mail systems drop that
  copy.
- a digest inserts the person's row for the day (unique) in the transaction that sends.

On SQLite (development) transactions take the write lock when they begin, which
serializes these claims the same way.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import date, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from organizations.models import User

from ..models import EmailDigest, Notification, NotificationPreference, Reminder
from .messages import path_for, subject_for

logger = logging.getLogger(__name__)

# Transient sending failures: the notification stays unsent and is retried by the sweep.
SEND_ERRORS = (smtplib.SMTPException, OSError)
DIGEST_LINES = 50


def reminder_deliver(*, reminder_id: int) -> list[int]:
    """Deliver one reminder: a notification in the app for each recipient still active,
    then the emails of those who want each at once. Returns the notifications made (none
    when the reminder was delivered before, is being delivered right now, or no longer
    applies — then it is marked skipped)."""
    now = timezone.now()
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(pk=reminder_id, delivered_at__isnull=True)
            .first()
        )
        if reminder is None:
            return []
        subject = subject_for(reminder, now)
        if subject is None:
            reminder.state = Reminder.State.SKIPPED
            reminder.delivered_at = now
            reminder.save(update_fields=["state", "delivered_at"])
            return []
        users = User.objects.filter(pk__in=reminder.recipient_ids, is_active=True)
        languages = dict(users.values_list("pk", "language"))
        # Each person's row (and email) in the language they picked.
        messages = {"": subject.message}
        for language in set(languages.values()) - {""}:
            with translation.override(language):
                localized = subject_for(reminder, now)
            messages[language] = localized.message if localized else subject.message
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    user_id=user_id,
                    referral_id=subject.referral_id,
                    reminder=reminder,
                    kind=f"reminder_{reminder.kind}",
                    message=messages[languages[user_id]],
                    created_at=now,
                )
                for user_id in sorted(languages)
            ]
        )
        reminder.state = Reminder.State.DELIVERED
        reminder.delivered_at = now
        reminder.save(update_fields=["state", "delivered_at"])
    ids = [n.pk for n in rows]
    for pk in ids:
        try:
            notification_email_send(notification_id=pk)
        except SEND_ERRORS as error:
            # In the app already; the email is retried by the sweep.
            logger.warning(
                "Notification %s: email not sent (%s); will retry.", pk, type(error).__name__
            )
    return ids


def wants_digest(user: User) -> bool:
    preference = getattr(user, "notification_preference", None)
    return (
        preference is not None and preference.email_mode == NotificationPreference.EmailMode.DIGEST
    )


def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification, at most once: sent while its row lock is held, recorded
    before the lock is let go. Returns False when there is nothing to send: sent already
    (or being sent now), the person is inactive or has no address (recorded as handled),
    or they chose the daily digest (left for it)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user", "user__notification_preference", "reminder")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        user = notification.user
        if not user.is_active or not user.email:
            _mark_emailed([notification.pk])
            return False
        if wants_digest(user):
            return False
        link = _link(notification)
        with translation.override(user.language or settings.LANGUAGE_CODE):
            message = EmailMessage(
                subject=f"Linkage: {notification.message}"[:150],
                body=(
                    f"{notification.message}{link}\n\n"
                    + gettext("Sign in to Linkage to see the details.")
                    + "\n\n"
                    + gettext("To get one email a day instead: %(url)s")
                    % {"url": _absolute(reverse("notification_preferences"))}
                ),
                to=[user.email],
                headers=_headers(f"notification-{notification.pk}", notification.pk),
            )
        message.send()
        _mark_emailed([notification.pk])
    return True


def digests_send(*, now: datetime | None = None) -> int:
    """The daily digest: one email per person who chose it, with what they have not been
    emailed yet. Returns how many digests were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    user_ids = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            user__notification_preference__email_mode=NotificationPreference.EmailMode.DIGEST,
        )
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    sent = 0
    for user_id in list(user_ids):
        try:
            sent += digest_send(user_id=user_id, day=today)
        except SEND_ERRORS as error:
            logger.warning(
                "Digest for user %s not sent (%s); will retry.", user_id, type(error).__name__
            )
    return sent


def digest_send(*, user_id: int, day: date) -> int:
    """One person's digest of `day`, at most once: the (person, day) row is the claim,
    inserted in the transaction that sends and marks the notifications emailed. Returns 1
    when sent."""
    with transaction.atomic():
        user = User.objects.filter(pk=user_id).first()
        pending = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("reminder")
            .filter(user_id=user_id, emailed_at__isnull=True)
            .order_by("created_at", "id")
        )
        if user is None or not pending:
            return 0
        if not user.is_active or not user.email:
            _mark_emailed([n.pk for n in pending])
            return 0
        try:
            with transaction.atomic():
                EmailDigest.objects.create(
                    user_id=user_id, day=day, notification_count=len(pending)
                )
        except IntegrityError:
            return 0  # today's digest went out already; these wait for tomorrow's
        with translation.override(user.language or settings.LANGUAGE_CODE):
            email = _digest_email(user, pending, key=f"digest-{user_id}-{day.isoformat()}")
        email.send()
        _mark_emailed([n.pk for n in pending])
    return 1


def _digest_email(user: User, pending: list[Notification], *, key: str) -> EmailMessage:
    """The digest, in the active language (the recipient's)."""
    lines = [f"- {n.message}{_link(n, indent=True)}" for n in pending[:DIGEST_LINES]]
    if len(pending) > DIGEST_LINES:
        lines.append(
            gettext("... and %(count)s more in Linkage.") % {"count": len(pending) - DIGEST_LINES}
        )
    count = len(pending)
    subject = ngettext(
        "Linkage: your daily summary (%(count)s notification)",
        "Linkage: your daily summary (%(count)s notifications)",
        count,
    ) % {"count": count}
    return EmailMessage(
        subject=subject,
        body=(
            gettext("What happened in Linkage since your last summary:")
            + "\n\n"
            + "\n".join(lines)
            + "\n\n"
            + gettext("All notifications: %(url)s")
            % {"url": _absolute(reverse("notification_list"))}
            + "\n"
            + gettext("Email preferences: %(url)s")
            % {"url": _absolute(reverse("notification_preferences"))}
        ),
        to=[user.email],
        headers=_headers(key, None),
    )


def _mark_emailed(ids: list[int]) -> None:
    Notification.objects.filter(pk__in=ids).update(emailed_at=timezone.now())


def _link(notification: Notification, *, indent: bool = False) -> str:
    if notification.reminder_id:
        reminder = notification.reminder
        path = path_for(reminder.kind, reminder.object_type, reminder.object_id)
    elif notification.referral_id:
        path = reverse("referral_detail", args=[notification.referral_id])
    else:
        return ""
    return f"\n  {_absolute(path)}" if indent else f"\n\n{_absolute(path)}"


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _headers(key: str, notification_id: int | None) -> dict[str, str]:
    """A Message-ID fixed per notification (or digest), so the copy a crash between the
    mail server's acceptance and our commit could cause is recognisably the same mail."""
    host = urlsplit(settings.SITE_URL).hostname or "linkage.invalid"
    headers = {"Message-ID": f"<{key}@{host}>"}
    if notification_id is not None:
        headers["X-Linkage-Notification"] = str(notification_id)
    return headers
