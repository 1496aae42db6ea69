"""Subscription notification Bundles, in the backport's R4 shape.

An event notification is a `history` Bundle whose first entry is the SubscriptionStatus
(a Parameters resource: subscription, topic, status, type, events-since-subscription-start
and the notification-event with its number, time and — for id-only — focus, the Task);
for id-only, a second entry names the Task by its fullUrl, without the resource.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from .topic import NOTIFICATION_PROFILE, STATUS_PROFILE


def fhir_base() -> str:
    return f"{settings.SITE_URL}/fhir/r4"


def subscription_url(subscription) -> str:
    return f"{fhir_base()}/Subscription/{subscription.pk}"


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def status_parameters(subscription, *, kind: str, events: int, event: dict | None) -> dict:
    """The SubscriptionStatus of the backport for R4 (a Parameters resource)."""
    parameters = [
        {"name": "subscription", "valueReference": {"reference": subscription_url(subscription)}},
        {"name": "topic", "valueCanonical": subscription.topic},
        {"name": "status", "valueCode": subscription.current_status()},
        {"name": "type", "valueCode": kind},
        # The backport writes the 64-bit counts as strings on R4 (no integer64 there).
        {"name": "events-since-subscription-start", "valueString": str(events)},
    ]
    if subscription.status == subscription.Status.ERROR and subscription.error:
        parameters.append({"name": "error", "valueCodeableConcept": {"text": subscription.error}})
    if event is not None:
        parts = [
            {"name": "event-number", "valueString": str(event["number"])},
            {"name": "timestamp", "valueInstant": instant(event["occurred_at"])},
        ]
        if event.get("focus"):
            parts.append({"name": "focus", "valueReference": {"reference": event["focus"]}})
        parameters.append({"name": "notification-event", "part": parts})
    return {
        "resourceType": "Parameters",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": parameters,
    }


def event_notification(
    subscription, *, number: int, occurred_at: datetime, task_id: int, created: bool
) -> dict:
    """The Bundle announcing event `number`: the Task `task_id` was created or changed."""
    id_only = subscription.content == subscription.Content.ID_ONLY
    task_url = f"{fhir_base()}/Task/{task_id}"
    event = {"number": number, "occurred_at": occurred_at, "focus": task_url if id_only else ""}
    status = status_parameters(subscription, kind="event-notification", events=number, event=event)
    entries = [
        {
            "fullUrl": f"urn:uuid:{status['id']}",
            "resource": status,
            "request": {"method": "GET", "url": f"{subscription_url(subscription)}/$status"},
            "response": {"status": "200"},
        }
    ]
    if id_only:
        entries.append(
            {
                "fullUrl": task_url,
                "request": {
                    "method": "POST" if created else "PUT",
                    "url": "Task" if created else f"Task/{task_id}",
                },
                "response": {"status": "201" if created else "200"},
            }
        )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"profile": [NOTIFICATION_PROFILE]},
        "type": "history",
        "timestamp": instant(timezone.now()),
        "entry": entries,
    }


def status_bundle(subscription) -> dict:
    """The answer to `$status`: a searchset with the subscription's current status."""
    status = status_parameters(
        subscription, kind="query-status", events=subscription.events_since_start, event=None
    )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": 1,
        "timestamp": instant(timezone.now()),
        "entry": [
            {
                "fullUrl": f"urn:uuid:{status['id']}",
                "resource": status,
                "search": {"mode": "match"},
            }
        ],
    }
