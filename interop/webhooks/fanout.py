"""From an announced referral change to deliveries: one per matching webhook endpoint and
FHIR subscription of the organizations party to the referral (its sender and receiver).

Each delivery is keyed by (target, event), so a change announced twice — the sweep
re-announces the last minutes' changes in case a crash lost an announcement — makes no
second delivery. Deliveries are queued by id once their transaction has committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from referrals import events as referral_events
from referrals.models import ReferralEvent, ReferralNote
from referrals.workflow import Status

from .models import Delivery, WebhookEndpoint
from .payloads import Event, webhook_payload
from .queue import publish

logger = logging.getLogger(__name__)


def on_referral_changed(sender, *, referral_id: int, change: str, object_id: int, **kwargs):
    """The receiver of referrals.events.referral_changed (connected in InteropConfig)."""
    deliveries_for_change(change=change, object_id=object_id)


def event_for(change: str, object_id: int) -> Event | None:
    """The change as the database has it (None if it is not one that notifies)."""
    if change == referral_events.STATUS:
        row = (
            ReferralEvent.objects.filter(pk=object_id, kind__in=referral_events.STATUS_EVENT_KINDS)
            .select_related("referral__client")
            .first()
        )
        if row is None or row.to_status == Status.DRAFT:
            return None
        return Event(
            key=f"status-{row.pk}",
            type=Delivery.EventType.STATUS_CHANGED,
            occurred_at=row.occurred_at,
            referral=row.referral,
            status=row.to_status,
            previous_status=row.from_status,
            business_status=row.business_status,
        )
    if change == referral_events.NOTE:
        note = ReferralNote.objects.filter(pk=object_id).select_related("referral__client").first()
        if note is None:
            return None
        return Event(
            key=f"note-{note.pk}",
            type=Delivery.EventType.NOTE_ADDED,
            occurred_at=note.created_at,
            referral=note.referral,
            status=note.referral.status,
            business_status=note.referral.business_status,
            note_id=note.pk,
            note_organization_id=note.organization_id,
        )
    return None


def deliveries_for_change(*, change: str, object_id: int) -> list[int]:
    """Create the deliveries of one announced change and queue them after the commit.
    Returns the ids of the deliveries made now (none when they existed already)."""
    event = event_for(change, object_id)
    if event is None:
        return []
    referral = event.referral
    parties = {referral.sender_organization_id, referral.receiver_organization_id} - {None}
    made: list[int] = []
    with transaction.atomic():
        endpoints = (
            WebhookEndpoint.objects.filter(
                organization_id__in=parties, is_active=True, created_at__lte=event.occurred_at
            )
            .select_related("organization")
            .order_by("pk")
        )
        for endpoint in endpoints:
            if event.type in endpoint.event_types():
                made += _endpoint_delivery(endpoint, event)
        if event.type == Delivery.EventType.STATUS_CHANGED:
            made += _subscription_deliveries(event, parties)
        if made:
            transaction.on_commit(lambda: publish(made))
    return made


def _endpoint_delivery(endpoint: WebhookEndpoint, event: Event) -> list[int]:
    if Delivery.objects.filter(endpoint=endpoint, event_key=event.key).exists():
        return []
    payload = webhook_payload(
        event, organization=endpoint.organization, include_task=endpoint.include_fhir_task
    )
    return _insert(
        Delivery(
            organization_id=endpoint.organization_id,
            endpoint=endpoint,
            referral=event.referral,
            event_key=event.key,
            event_type=event.type,
            occurred_at=event.occurred_at,
            payload=payload,
        )
    )


def _subscription_deliveries(event: Event, parties: Iterable[int]) -> list[int]:
    from interop.subscriptions import topic
    from interop.subscriptions.models import Subscription
    from interop.subscriptions.notifications import event_notification

    made: list[int] = []
    candidates = Subscription.objects.filter(
        organization_id__in=list(parties),
        status__in=[Subscription.Status.ACTIVE, Subscription.Status.ERROR],
        created_at__lte=event.occurred_at,
    ).values_list("pk", flat=True)
    for pk in sorted(candidates):
        # The row lock numbers the subscription's events one after another, and makes the
        # existence check and the insert one step against a concurrent announcement.
        subscription = Subscription.objects.select_for_update().get(pk=pk)
        if not subscription.accepts_deliveries:
            continue
        if not topic.matches(subscription, event.referral, event.status):
            continue
        if Delivery.objects.filter(subscription=subscription, event_key=event.key).exists():
            continue
        number = subscription.events_since_start + 1
        bundle = event_notification(
            subscription,
            number=number,
            occurred_at=event.occurred_at,
            task_id=event.referral.pk,
            created=not event.previous_status,
        )
        ids = _insert(
            Delivery(
                organization_id=subscription.organization_id,
                subscription=subscription,
                referral=event.referral,
                event_key=event.key,
                event_type=event.type,
                occurred_at=event.occurred_at,
                payload=bundle,
            )
        )
        if ids:
            Subscription.objects.filter(pk=pk).update(events_since_start=number)
        made += ids
    return made


def _insert(delivery: Delivery) -> list[int]:
    try:
        # A savepoint: two announcements of one change racing make one delivery.
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        return []
    return [delivery.pk]
