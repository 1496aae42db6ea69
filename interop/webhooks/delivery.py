"""Sending one delivery: claim it, post it, record the attempt, then retry, finish or give
up — and disable a target that has failed for too long.

The claim is a compare-and-set in the database (UPDATE ... WHERE state = 'pending' AND the
attempt is due, or WHERE its sender's lease ran out): exactly one worker wins it, with a
token only it knows; a task that runs twice, or a second worker, finds nothing to claim.
No database transaction is held while the request is in flight (a slow receiver must
not hold row locks, nor SQLite's write lock). The result is written back only by the
token's holder. A worker that dies mid-request leaves the delivery `sending` until its
lease ends; the sweep then queues it again (at least once: receivers recognise a repeat
by the event id and X-Linkage-Delivery).

Transient failures — connection errors, timeouts, HTTP 5xx and 429 — are retried with
exponential backoff for about a day (WEBHOOK_RETRY_*); anything else (a 4xx answer, a
redirect, a refused target) fails the delivery at once.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audit.services import audit_record

from . import signing, targets
from .models import Delivery, DeliveryAttempt, WebhookEndpoint
from .queue import publish

logger = logging.getLogger(__name__)

USER_AGENT = "Linkage-Webhooks/1"
# How long a claim holds without an answer: both timeouts, and a margin for the rest.
LEASE_MARGIN_SECONDS = 30
# A task may arrive a little before the moment it was queued for (clocks of several
# machines): it still claims the delivery.
EARLY_TOLERANCE = timedelta(seconds=2)
# Retries due within this are queued with an ETA; later ones are left to the sweep, so no
# message waits in a worker for hours (Redis would hand an unacknowledged message to
# another worker after its visibility timeout, an hour by default).
ETA_LIMIT = timedelta(minutes=15)
SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    kind: str  # DeliveryAttempt.Outcome
    status_code: int | None = None
    duration_ms: int | None = None
    error: str = ""
    retry_after: float | None = None


def lease_seconds() -> float:
    return (
        settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS
        + settings.WEBHOOK_READ_TIMEOUT_SECONDS
        + LEASE_MARGIN_SECONDS
    )


def body_bytes(delivery: Delivery) -> bytes:
    """The body exactly as posted (and signed): compact JSON, keys in a fixed order."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def delivery_send(*, delivery_id: int) -> str:
    """Make one attempt at a delivery if it is due and nobody else is making one.
    Returns the attempt's outcome, or "skipped" when there was nothing to claim."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(
            Q(state=Delivery.State.PENDING, next_attempt_at__lte=now + EARLY_TOLERANCE)
            | Q(state=Delivery.State.SENDING, lease_until__lt=now)
        )
        .update(
            state=Delivery.State.SENDING,
            claim_token=token,
            lease_until=now + timedelta(seconds=lease_seconds()),
            attempt_count=F("attempt_count") + 1,
            last_attempt_at=now,
        )
    )
    if not claimed:
        return SKIPPED
    delivery = Delivery.objects.select_related("endpoint", "subscription").get(pk=delivery_id)
    target = delivery.target
    if not target.accepts_deliveries:
        _finish_cancelled(delivery, token, reason=_why_not_accepting(target))
        return Delivery.State.CANCELLED
    outcome = _attempt(delivery, target)
    _record(delivery, token, outcome, started_at=now)
    return outcome.kind


def _attempt(delivery: Delivery, target) -> Outcome:
    body = body_bytes(delivery)
    try:
        checked = targets.check_url(target.url)
        response = targets.post(checked, body, request_headers(delivery, body))
    except targets.TargetRefused as error:
        return Outcome(DeliveryAttempt.Outcome.FAILED, error=f"Refused: {error}"[:300])
    except targets.TransientError as error:
        return Outcome(DeliveryAttempt.Outcome.RETRY, error=str(error)[:300])
    status = response.status
    if 200 <= status < 300:
        return Outcome(DeliveryAttempt.Outcome.SUCCEEDED, status, response.duration_ms)
    if status == 429 or status >= 500:
        return Outcome(
            DeliveryAttempt.Outcome.RETRY,
            status,
            response.duration_ms,
            error=f"HTTP {status} from the receiver.",
            retry_after=response.retry_after,
        )
    if 300 <= status < 400:
        error = f"HTTP {status}: a redirect, which Linkage does not follow. Register the final URL."
    else:
        error = f"HTTP {status}: the receiver refused the event."
    return Outcome(DeliveryAttempt.Outcome.FAILED, status, response.duration_ms, error=error)


def request_headers(delivery: Delivery, body: bytes) -> dict[str, str]:
    """The headers of a webhook request (signed) or of a FHIR notification (with the
    subscriber's own headers)."""
    common = {"User-Agent": USER_AGENT, "X-Linkage-Delivery": str(delivery.pk)}
    if delivery.endpoint_id:
        endpoint = delivery.endpoint
        timestamp = int(timezone.now().timestamp())
        return {
            **common,
            "Content-Type": "application/json",
            "X-Linkage-Event": delivery.event_type,
            "X-Linkage-Event-Id": delivery.event_key,
            signing.HEADER: signing.signature_header(secrets_in_force(endpoint), timestamp, body),
        }
    subscription = delivery.subscription
    headers = {}
    for line in subscription.headers:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return {**headers, **common, "Content-Type": f"{subscription.payload_type}; charset=utf-8"}


def secrets_in_force(endpoint: WebhookEndpoint) -> list[str]:
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > timezone.now():
        found.append(endpoint.previous_secret)
    return found


def retry_delay(attempt_number: int, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt `attempt_number` (1, 2, ...): doubling from
    WEBHOOK_RETRY_BASE_SECONDS, at most WEBHOOK_RETRY_MAX_DELAY_SECONDS; longer if the
    receiver asked for it (Retry-After), within the same bound."""
    cap = settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS
    delay = min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt_number - 1), cap)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay


def _retry_at(delivery: Delivery, outcome: Outcome, now: datetime) -> datetime | None:
    """When to try again, or None when the retries are used up."""
    if delivery.attempt_count >= settings.WEBHOOK_MAX_ATTEMPTS:
        return None
    at = now + timedelta(seconds=retry_delay(delivery.attempt_count, outcome.retry_after))
    window_end = delivery.created_at + timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
    return at if at <= window_end else None


def _record(delivery: Delivery, token: str, outcome: Outcome, *, started_at: datetime) -> None:
    now = timezone.now()
    retry_at = None
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if locked is None or locked.claim_token != token or locked.state != Delivery.State.SENDING:
            # The lease ran out and another worker took the delivery over: it records.
            logger.warning("Delivery %s: claim lost before the result was recorded.", delivery.pk)
            return
        kind = outcome.kind
        error = outcome.error
        if kind == DeliveryAttempt.Outcome.RETRY:
            retry_at = _retry_at(locked, outcome, now)
            if retry_at is None:
                kind = DeliveryAttempt.Outcome.FAILED
                error = f"{error} Gave up after {locked.attempt_count} attempts."[:300]
        DeliveryAttempt.objects.create(
            delivery=locked,
            number=locked.attempt_count,
            started_at=started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            outcome=kind,
            error=error,
        )
        locked.last_status_code = outcome.status_code
        locked.last_error = error
        locked.claim_token = ""
        locked.lease_until = None
        fields = ["last_status_code", "last_error", "claim_token", "lease_until", "state"]
        if kind == DeliveryAttempt.Outcome.SUCCEEDED:
            locked.state = Delivery.State.SUCCEEDED
            locked.finished_at = now
            fields.append("finished_at")
        elif kind == DeliveryAttempt.Outcome.RETRY:
            locked.state = Delivery.State.PENDING
            locked.next_attempt_at = retry_at
            fields.append("next_attempt_at")
        else:
            locked.state = Delivery.State.FAILED
            locked.finished_at = now
            fields.append("finished_at")
        locked.save(update_fields=fields)
        if kind == DeliveryAttempt.Outcome.SUCCEEDED:
            _target_succeeded(locked, now)
            _audit_export(locked)
        else:
            _target_failed(locked, error, started_at=started_at, now=now)
        if retry_at is not None and retry_at - now <= ETA_LIMIT:
            transaction.on_commit(lambda: publish([locked.pk], eta=retry_at))
    logger.info(
        "Delivery %s attempt %s: %s (status %s).",
        delivery.pk,
        locked.attempt_count,
        kind,
        outcome.status_code,
    )


def _finish_cancelled(delivery: Delivery, token: str, *, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        state=Delivery.State.CANCELLED,
        claim_token="",
        lease_until=None,
        finished_at=timezone.now(),
        last_error=reason,
        attempt_count=F("attempt_count") - 1,  # nothing was attempted
    )


def _why_not_accepting(target) -> str:
    if isinstance(target, WebhookEndpoint):
        return "The endpoint was disabled before the event went out."
    return "The subscription was off before the event went out."


def _target_model(delivery: Delivery):
    if delivery.endpoint_id:
        return WebhookEndpoint, delivery.endpoint_id
    from interop.subscriptions.models import Subscription

    return Subscription, delivery.subscription_id


def _target_succeeded(delivery: Delivery, now: datetime) -> None:
    model, pk = _target_model(delivery)
    changes = {"consecutive_failures": 0, "failing_since": None, "last_success_at": now}
    if model is not WebhookEndpoint:
        model.objects.filter(pk=pk, status=model.Status.ERROR).update(
            status=model.Status.ACTIVE, error=""
        )
    model.objects.filter(pk=pk).update(**changes)


def _target_failed(delivery: Delivery, error: str, *, started_at: datetime, now: datetime):
    """Count the failure in the target's streak; disable it when the streak is long
    enough in both attempts and time."""
    model, pk = _target_model(delivery)
    target = model.objects.select_for_update().get(pk=pk)
    target.consecutive_failures += 1
    target.failing_since = target.failing_since or started_at
    fields = ["consecutive_failures", "failing_since"]
    if model is not WebhookEndpoint:
        if target.status == model.Status.ACTIVE:
            target.status = model.Status.ERROR
            fields.append("status")
        target.error = error[:300]
        fields.append("error")
    target.save(update_fields=fields)
    streak = now - target.failing_since
    if (
        target.accepts_deliveries
        and target.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
        and streak >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    ):
        from .services import target_disable_after_failures

        target_disable_after_failures(target=target, now=now, last_error=error)


def _audit_export(delivery: Delivery) -> None:
    """The referral's data left Linkage for the organization's own system."""
    client_id = delivery.payload.get("referral", {}).get("client") if delivery.endpoint_id else None
    if delivery.referral_id and client_id is None:
        client_id = delivery.referral.client_id
    audit_record(
        action="export",
        object_type="referral",
        object_ids=[delivery.referral_id] if delivery.referral_id else [],
        client_ids=[client_id] if client_id else [],
        organization=delivery.organization,
        detail={
            "channel": "webhook" if delivery.endpoint_id else "fhir-subscription",
            "delivery": delivery.pk,
        },
    )
