"""The sweep: what is due, found through indexes, becomes reminder rows; undelivered
reminders (new, or whose queue message was lost) are queued for delivery by id.

Its cost follows the number due, not the number of referrals: every read is a range scan
of an index on a due moment (`Referral.reminder_due_at`, `Release.expires_at`,
`Assessment.rescreen_due_at`, the undelivered-reminder and pending-email partial indexes),
bounded by a batch size, and a batch costs the same few queries whatever its size.

Safe to run twice at once (two beats, a slow sweep overlapping the next): a batch of
referrals is taken with row locks that the other sweep skips, and the reminder rows'
unique key (object, kind, due moment) turns any repeat into nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from assessments.models import Assessment
from config.broker import publish as broker_publish
from consent.models import Release

from ..models import (
    OVERDUE_DEADLINES,
    Notification,
    NotificationPreference,
    Referral,
    Reminder,
    ReminderRules,
)
from .calendar import add_business_days, holidays_by_network
from .recipients import People, lead_navigator
from .rules import DEFAULT_RULES, Rules, rules_for_many
from .schedule import ACK_STAGE, FOLLOW_UP_STAGE, UPDATE_STAGE

# The deadline each overdue stage owes (the one overdue rule's table), by status.
_DEADLINE_FIELD = {status: field for statuses, field in OVERDUE_DEADLINES for status in statuses}

# Batches per sweep and kind: a backlog (after an outage) drains over a few sweeps
# instead of holding one transaction for minutes.
MAX_BATCHES = 20
# A referral overdue for many periods (the sweep did not run for weeks) counts each
# missed period, up to this many per sweep.
CATCH_UP_LIMIT = 100
# Rescreens fall due months after the screening; a sweep looks this far back for ones it
# has not reminded yet (in case sweeps stopped for a while).
RESCREEN_LOOKBACK = timedelta(days=60)
# Expiries are applied within a sweep or two; this bounds the index range a sweep reads.
EXPIRY_LOOKBACK = timedelta(days=60)
# Emails a lost message left unsent are queued again for this long; after that the
# notification stays in the app only.
EMAIL_RETRY_WINDOW = timedelta(days=3)

Publish = Callable[[object, list[int]], list[int]]


@dataclass
class SweepResult:
    referrals: int = 0  # referrals found due (each gets a reminder, maybe an escalation)
    releases: int = 0
    expired_releases: int = 0  # expiries applied (their open referrals put on hold)
    assessments: int = 0
    queued: int = 0  # reminders handed to the broker
    emails_queued: int = 0  # unsent notification emails handed to the broker again


def reminders_sweep(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    publish: Publish | None = None,
) -> SweepResult:
    """Create the reminders that are due at `now` and queue every undelivered one.

    `publish(task, ids)` hands ids to the broker and returns those queued (default:
    Celery, tolerating an unreachable broker); the benchmark passes its own."""
    now = now or timezone.now()
    batch_size = batch_size or settings.REMINDER_BATCH_SIZE
    publish = publish or broker_publish
    result = SweepResult()
    result.referrals = _drain(_referral_batch, now, batch_size)
    result.releases = _drain(_release_batch, now, batch_size)
    result.expired_releases = _drain(_expired_release_batch, now, batch_size)
    result.assessments = _drain(_rescreen_batch, now, batch_size)
    result.queued = _queue_undelivered(now, batch_size, publish)
    result.emails_queued = _queue_unsent_emails(now, batch_size, publish)
    return result


def _drain(batch: Callable[[datetime, int], int], now: datetime, size: int) -> int:
    total = 0
    for _ in range(MAX_BATCHES):
        done = batch(now, size)
        total += done
        if done < size:
            break
    return total


def _requeue_after() -> timedelta:
    """A message queued less than one sweep interval ago is not queued again yet."""
    return timedelta(seconds=max(settings.REMINDER_SWEEP_SECONDS, 60))


# --- referrals: acknowledge, update, follow up, escalate ----------------------------------


def _referral_batch(now: datetime, limit: int) -> int:
    with transaction.atomic():
        # SKIP LOCKED: a second sweep running now takes other rows (or none), never these.
        due = list(
            Referral.objects.select_for_update(skip_locked=True)
            .filter(reminder_due_at__lte=now)
            .only(
                "network_id",
                "status",
                "ack_due_at",
                "update_due_at",
                "reminder_due_at",
                "overdue_count",
                "escalated_at",
                "sender_organization_id",
                "sender_user_id",
                "receiver_organization_id",
                "assigned_to_id",
            )
            .order_by("reminder_due_at", "id")[:limit]
        )
        if not due:
            return 0
        networks = {r.network_id for r in due}
        first_day = timezone.localtime(min(r.reminder_due_at for r in due)).date()
        holidays = holidays_by_network(networks, first_day)
        people = People(
            [o for r in due for o in (r.receiver_organization_id, r.sender_organization_id)],
            networks,
        )
        reminders: list[Reminder] = []
        for referral, rules in zip(due, rules_for_many(due), strict=True):
            reminders += _advance(referral, rules, holidays[referral.network_id], people, now)
        Reminder.objects.bulk_create(reminders, ignore_conflicts=True)
        _save_clocks(due)
    return len(due)


def _save_clocks(referrals: list[Referral]) -> None:
    """Write the batch's moved reminder clocks in one UPDATE ... FROM (VALUES ...).

    Django's bulk_update builds a CASE expression per row and field: for a batch of
    hundreds that Python work costs more than the rest of the sweep together."""
    fields = ["reminder_due_at", "overdue_count", "escalated_at"]
    if connection.vendor not in ("postgresql", "sqlite") or (
        connection.vendor == "sqlite" and sqlite3.sqlite_version_info < (3, 33)
    ):
        Referral.objects.bulk_update(referrals, fields)
        return
    ops = connection.ops
    table = ops.quote_name(Referral._meta.db_table)
    for start in range(0, len(referrals), 1000):
        chunk = referrals[start : start + 1000]
        params = []
        for r in chunk:
            params += [
                r.pk,
                ops.adapt_datetimefield_value(r.reminder_due_at),
                r.overdue_count,
                ops.adapt_datetimefield_value(r.escalated_at),
            ]
        rows = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
        # The text holds the table's name and placeholders only; the values are parameters.
        if connection.vendor == "postgresql":
            sql = (
                f"UPDATE {table} AS r SET reminder_due_at = v.due::timestamptz, "  # noqa: S608
                "overdue_count = v.n::smallint, escalated_at = v.esc::timestamptz "
                f"FROM (VALUES {rows}) AS v(id, due, n, esc) WHERE r.id = v.id::bigint"
            )
        else:
            sql = (
                f"UPDATE {table} SET reminder_due_at = v.column2, overdue_count = v.column3, "  # noqa: S608
                f"escalated_at = v.column4 FROM (VALUES {rows}) AS v "
                f"WHERE {table}.id = v.column1"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _advance(
    referral: Referral, rules: Rules, holidays: frozenset[date], people: People, now: datetime
) -> list[Reminder]:
    """The reminders `referral` is due for, and its reminder clock moved on."""
    due = referral.reminder_due_at
    if referral.status in _DEADLINE_FIELD and not referral.overdue_at(now):
        # The clock ran ahead of the stage's deadline (the deadline was moved later, or
        # none is owed): by the one overdue rule the referral is not overdue, so it gets no
        # "overdue" reminder and the clock waits for the deadline itself.
        referral.reminder_due_at = getattr(referral, _DEADLINE_FIELD[referral.status])
        return []
    receiver = people.person_or_team(referral.assigned_to_id, referral.receiver_organization_id)
    if referral.status in ACK_STAGE:
        kind = Reminder.Kind.ACK_OVERDUE

        def step(t):
            return add_business_days(t, rules.ack_business_days, holidays)

    elif referral.status in UPDATE_STAGE:
        kind = Reminder.Kind.UPDATE_OVERDUE

        def step(t):
            return t + timedelta(days=rules.update_every_days)

    elif referral.status in FOLLOW_UP_STAGE and referral.sender_organization_id:
        referral.reminder_due_at = None  # one follow-up, then nothing more is owed
        sender = people.person_or_team(referral.sender_user_id, referral.sender_organization_id)
        return [_reminder(referral, Reminder.Kind.FOLLOW_UP_DUE, due, sender)]
    else:
        # Moved on without the clock being reset (it should not happen): stop it.
        referral.reminder_due_at = None
        return []
    missed, following = 1, step(due)
    while following <= now and missed < CATCH_UP_LIMIT:
        missed, following = missed + 1, step(following)
    before = referral.overdue_count
    referral.overdue_count = min(before + missed, 32767)
    referral.reminder_due_at = following
    out = [_reminder(referral, kind, due, receiver)]
    threshold = rules.escalate_after_overdue_count
    if before < threshold <= referral.overdue_count:
        referral.escalated_at = now
        admins = people.backbone_admins(referral.network_id)
        out.append(_reminder(referral, Reminder.Kind.ESCALATION, due, admins))
    return out


def _reminder(referral: Referral, kind: str, due: datetime, to: list[int]) -> Reminder:
    return Reminder(
        network_id=referral.network_id,
        kind=kind,
        object_type=Reminder.ObjectType.REFERRAL,
        object_id=referral.pk,
        due_at=due,
        recipient_ids=sorted(set(to)),
    )


# --- releases expiring ---------------------------------------------------------------------


def _release_windows() -> tuple[dict[int, int], int]:
    """Each network's warning period where it set one, and the longest of all."""
    windows = dict(
        ReminderRules.objects.filter(
            partnership__isnull=True, release_expiry_warning_days__isnull=False
        ).values_list("network_id", "release_expiry_warning_days")
    )
    longest = max([DEFAULT_RULES.release_expiry_warning_days, *windows.values()])
    return windows, longest


def _release_batch(now: datetime, limit: int) -> int:
    """Releases in force that expire within their network's warning period, not warned of
    yet, and not renewed (a later release by the same organization runs past this one).
    The reminder's due moment is the expiry it warns of, so a change of the warning
    period never warns twice."""
    windows, longest = _release_windows()
    warned = Reminder.objects.filter(
        object_type=Reminder.ObjectType.RELEASE,
        kind=Reminder.Kind.RELEASE_EXPIRING,
        object_id=OuterRef("pk"),
        due_at=OuterRef("expires_at"),
    )
    renewed = Release.objects.filter(
        client_id=OuterRef("client_id"),
        organization_id=OuterRef("organization_id"),
        revoked_at__isnull=True,
        effective_at__lte=OuterRef("expires_at"),
        expires_at__gt=OuterRef("expires_at"),
    )
    candidates = list(
        # In force now (the release's own rule, Release.objects.active_at), expiring soon.
        Release.objects.active_at(now)
        .filter(expires_at__lte=now + timedelta(days=longest))
        .exclude(Exists(warned))
        .exclude(Exists(renewed))
        .select_related("client__lead_navigator")
        .only(
            "expires_at",
            "organization_id",
            "captured_by_id",
            "client__network_id",
            "client__lead_navigator__user_id",
            "client__lead_navigator__is_active",
        )
        .order_by("expires_at", "id")[:limit]
    )
    if not candidates:
        return 0
    default_days = DEFAULT_RULES.release_expiry_warning_days
    due = [
        r
        for r in candidates
        if r.expires_at - timedelta(days=windows.get(r.client.network_id, default_days)) <= now
    ]
    people = People([r.organization_id for r in due], ())
    Reminder.objects.bulk_create(
        [
            Reminder(
                network_id=r.client.network_id,
                kind=Reminder.Kind.RELEASE_EXPIRING,
                object_type=Reminder.ObjectType.RELEASE,
                object_id=r.pk,
                due_at=r.expires_at,
                recipient_ids=sorted(
                    {
                        *people.person_or_team(r.captured_by_id, r.organization_id),
                        *lead_navigator(r.client),
                    }
                ),
            )
            for r in due
        ],
        ignore_conflicts=True,
    )
    # Candidates whose own network's period has not begun stay candidates: report only
    # what was created, so the drain stops instead of reading them again.
    return len(due)


def _expired_release_batch(now: datetime, limit: int) -> int:
    """Releases whose expiry has come (and that were not revoked first): from that moment the
    policy already refuses what they covered; here the open referrals that depended on them
    go on hold and both sides are told, as a revocation does. A reminder row (unique per
    release and expiry) marks each expiry applied, in the same transaction as the holds, so
    two sweeps apply it once and a crash applies it on the next sweep."""
    from ..services import RELEASE_EXPIRED, referrals_hold_for_release

    applied = Reminder.objects.filter(
        object_type=Reminder.ObjectType.RELEASE,
        kind=Reminder.Kind.RELEASE_EXPIRED,
        object_id=OuterRef("pk"),
        due_at=OuterRef("expires_at"),
    )
    due = list(
        Release.objects.filter(
            expires_at__lte=now,
            expires_at__gt=now - EXPIRY_LOOKBACK,
            revoked_at__isnull=True,
        )
        .exclude(Exists(applied))
        .select_related("client")
        .only("expires_at", "client__network_id")
        .order_by("expires_at", "id")[:limit]
    )
    for release in due:
        with transaction.atomic():
            _marker, created = Reminder.objects.get_or_create(
                object_type=Reminder.ObjectType.RELEASE,
                object_id=release.pk,
                kind=Reminder.Kind.RELEASE_EXPIRED,
                due_at=release.expires_at,
                defaults={
                    "network_id": release.client.network_id,
                    "state": Reminder.State.DELIVERED,
                    "delivered_at": now,
                },
            )
            if created:
                referrals_hold_for_release(release.pk, reason=RELEASE_EXPIRED)
    return len(due)


# --- rescreening due -----------------------------------------------------------------------


def _rescreen_batch(now: datetime, limit: int) -> int:
    """Completed assessments whose rescreen date has come, not reminded yet, and not
    superseded by a later completed assessment of the client with the same instrument."""
    reminded = Reminder.objects.filter(
        object_type=Reminder.ObjectType.ASSESSMENT,
        kind=Reminder.Kind.RESCREEN_DUE,
        object_id=OuterRef("pk"),
        due_at=OuterRef("rescreen_due_at"),
    )
    rescreened = Assessment.objects.filter(
        client_id=OuterRef("client_id"),
        instrument__key=OuterRef("instrument__key"),
        status=Assessment.Status.COMPLETED,
        completed_at__gt=OuterRef("completed_at"),
    )
    due = list(
        Assessment.objects.filter(
            rescreen_due_at__lte=now,
            rescreen_due_at__gt=now - RESCREEN_LOOKBACK,
            status=Assessment.Status.COMPLETED,
        )
        .exclude(Exists(reminded))
        .exclude(Exists(rescreened))
        .select_related("client__lead_navigator")
        .only(
            "rescreen_due_at",
            "organization_id",
            "administered_by_id",
            "client__network_id",
            "client__lead_navigator__user_id",
            "client__lead_navigator__is_active",
        )
        .order_by("rescreen_due_at", "id")[:limit]
    )
    if not due:
        return 0
    people = People([a.organization_id for a in due], ())
    Reminder.objects.bulk_create(
        [
            Reminder(
                network_id=a.client.network_id,
                kind=Reminder.Kind.RESCREEN_DUE,
                object_type=Reminder.ObjectType.ASSESSMENT,
                object_id=a.pk,
                due_at=a.rescreen_due_at,
                recipient_ids=sorted(
                    {
                        *people.person_or_team(a.administered_by_id, a.organization_id),
                        *lead_navigator(a.client),
                    }
                ),
            )
            for a in due
        ],
        ignore_conflicts=True,
    )
    return len(due)


# --- queueing ------------------------------------------------------------------------------


def _queue_undelivered(now: datetime, limit: int, publish: Publish) -> int:
    """Every undelivered reminder not queued within the last interval — new ones, and old
    ones whose message a broker outage or a killed worker lost — oldest first, a batch at
    a time (each batch marked queued), until none is left or the broker refuses."""
    from ..tasks import deliver_reminder

    stale = now - _requeue_after()
    total = 0
    for _ in range(MAX_BATCHES):
        ids = list(
            Reminder.objects.filter(delivered_at__isnull=True)
            .exclude(queued_at__gt=stale)
            .order_by("due_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            break
        queued = publish(deliver_reminder, ids)
        if queued:
            Reminder.objects.filter(pk__in=queued, delivered_at__isnull=True).update(queued_at=now)
        total += len(queued)
        if len(queued) < limit:
            break
    return total


def _queue_unsent_emails(now: datetime, limit: int, publish: Publish) -> int:
    """Notification emails still unsent a while after the notification was made (their
    message was lost, or sending failed): queued again, for people who want each email
    as it happens (the digest collects the others)."""
    from ..tasks import deliver_notification_email

    ids = list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__lte=now - _requeue_after(),
            created_at__gt=now - EMAIL_RETRY_WINDOW,
        )
        .exclude(user__notification_preference__email_mode=NotificationPreference.EmailMode.DIGEST)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    return len(publish(deliver_notification_email, ids))
