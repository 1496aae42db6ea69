"""The periodic sweep (beat, every WEBHOOK_SWEEP_SECONDS): the database is the truth, the
broker only a means of being quick.

1. Deliveries due for a while whose message seems lost (a broker outage, a restart) are
   queued again; a duplicate message is harmless, the claim takes one.
2. Deliveries whose sender's lease ran out (a worker died mid-request) are queued again.
3. The changes of the last minutes are announced again, for the case of a crash between
   a referral's commit and its announcement; existing deliveries make that a no-op.
4. Finished deliveries older than WEBHOOK_LOG_RETENTION_DAYS are deleted with their
   attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from referrals import events as referral_events
from referrals.models import Referral, ReferralEvent, ReferralNote

from . import queue
from .fanout import deliveries_for_change
from .models import Delivery, WebhookEndpoint

BATCH = 500
# Changes re-announced: those of the last few sweeps (at least ten minutes).
MIN_LOOKBACK = timedelta(minutes=10)


@dataclass
class SweepResult:
    requeued: int = 0
    reclaimed: int = 0
    announced: int = 0
    pruned: int = 0


def deliveries_sweep(*, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    grace = timedelta(seconds=max(settings.WEBHOOK_SWEEP_SECONDS, 30.0))
    lost = (
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now - grace)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=now - grace))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    result.requeued = len(queue.publish(list(lost)))
    expired = (
        Delivery.objects.filter(state=Delivery.State.SENDING, lease_until__lt=now)
        .order_by("lease_until")
        .values_list("pk", flat=True)[:BATCH]
    )
    result.reclaimed = len(queue.publish(list(expired)))
    result.announced = _announce_recent(now - max(MIN_LOOKBACK, grace * 3))
    cutoff = now - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    old = Delivery.objects.filter(finished_at__lt=cutoff).values_list("pk", flat=True)[:BATCH]
    result.pruned, _ = Delivery.objects.filter(pk__in=list(old)).delete()
    return result


def _announce_recent(since: datetime) -> int:
    from interop.subscriptions.models import Subscription

    org_ids = set(
        WebhookEndpoint.objects.filter(is_active=True).values_list("organization_id", flat=True)
    ) | set(
        Subscription.objects.filter(
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.ERROR]
        ).values_list("organization_id", flat=True)
    )
    if not org_ids:
        return 0
    # Through Referral.updated_at (indexed; every status change and note sets it), then
    # each referral's own events by the (referral, occurred_at) index.
    referral_ids = list(
        Referral.objects.filter(updated_at__gte=since)
        .filter(Q(sender_organization_id__in=org_ids) | Q(receiver_organization_id__in=org_ids))
        .values_list("pk", flat=True)[:BATCH]
    )
    made = 0
    status_events = ReferralEvent.objects.filter(
        referral_id__in=referral_ids,
        occurred_at__gte=since,
        kind__in=referral_events.STATUS_EVENT_KINDS,
    ).values_list("pk", flat=True)
    for pk in status_events.order_by("pk"):
        made += len(deliveries_for_change(change=referral_events.STATUS, object_id=pk))
    notes = ReferralNote.objects.filter(
        referral_id__in=referral_ids, created_at__gte=since
    ).values_list("pk", flat=True)
    for pk in notes.order_by("pk"):
        made += len(deliveries_for_change(change=referral_events.NOTE, object_id=pk))
    return made
