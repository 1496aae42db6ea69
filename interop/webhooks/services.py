"""Writes for webhook endpoints (the org admin's pages) and for what happens to a target
that keeps failing. Every change is audited."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from organizations.models import Membership, Organization, User
from organizations.roles import Role

from . import signing, targets
from .models import Delivery, WebhookEndpoint

logger = logging.getLogger(__name__)

# How long a replaced secret still signs alongside the new one.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)
EDITABLE = ("name", "url", "sends_status_changes", "sends_notes", "include_fhir_task")


def target_url_check(url: str) -> str:
    """The URL, if Linkage may post to it now; ValidationError({"url": why}) otherwise."""
    try:
        targets.check_url(url)
    except targets.TargetRefused as error:
        raise ValidationError({"url": str(error)}) from None
    except targets.TransientError as error:
        raise ValidationError({"url": f"{error} Check the address."}) from None
    return url.strip()


def _require_events(sends_status_changes: bool, sends_notes: bool) -> None:
    if not (sends_status_changes or sends_notes):
        raise ValidationError("Choose at least one event to send.")


@transaction.atomic
def webhook_endpoint_create(
    *,
    organization: Organization,
    actor: User,
    name: str,
    url: str,
    sends_status_changes: bool = True,
    sends_notes: bool = True,
    include_fhir_task: bool = False,
) -> WebhookEndpoint:
    """Register an endpoint of `organization` with a new secret (the caller shows it
    once). Refused (ValidationError) for a URL Linkage may not post to, or no events."""
    _require_events(sends_status_changes, sends_notes)
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        name=name.strip(),
        url=target_url_check(url),
        secret=signing.new_secret(),
        sends_status_changes=sends_status_changes,
        sends_notes=sends_notes,
        include_fhir_task=include_fhir_task,
        created_by=actor,
    )
    _audit("create", endpoint, actor, fields=list(EDITABLE))
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, actor: User, **changes
) -> WebhookEndpoint:
    """Change the label, URL or events of an endpoint (the URL is checked again)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if "url" in changes and changes["url"].strip() != locked.url:
        changes["url"] = target_url_check(changes["url"])
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    _require_events(
        changes.get("sends_status_changes", locked.sends_status_changes),
        changes.get("sends_notes", locked.sends_notes),
    )
    changed = [k for k, v in changes.items() if getattr(locked, k) != v]
    if not changed:
        return locked
    for key in changed:
        setattr(locked, key, changes[key])
    locked.updated_at = timezone.now()
    locked.save(update_fields=[*changed, "updated_at"])
    _audit("update", locked, actor, fields=changed)
    return locked


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: User) -> WebhookEndpoint:
    """A new secret (shown once by the caller); the old one signs alongside it for a day."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.previous_secret = locked.secret
    locked.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_GRACE
    locked.secret = signing.new_secret()
    locked.updated_at = timezone.now()
    locked.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    _audit("update", locked, actor, fields=["secret"])
    return locked


@transaction.atomic
def webhook_endpoint_set_enabled(
    *, endpoint: WebhookEndpoint, actor: User, enabled: bool
) -> WebhookEndpoint:
    """Enable or disable by hand. Disabling cancels what was waiting to go out;
    enabling starts a fresh failure count (the events it missed are not sent)."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if locked.is_active == enabled:
        return locked
    now = timezone.now()
    locked.is_active = enabled
    locked.updated_at = now
    if enabled:
        locked.disabled_at = None
        locked.disabled_reason = ""
        locked.consecutive_failures = 0
        locked.failing_since = None
    else:
        locked.disabled_at = now
        locked.disabled_reason = f"Disabled by {actor}."[:300]
        _cancel_open(Delivery.objects.filter(endpoint=locked), "The endpoint was disabled.")
    locked.save(
        update_fields=[
            "is_active",
            "updated_at",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "failing_since",
        ]
    )
    _audit("update", locked, actor, fields=["is_active"])
    return locked


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor: User) -> None:
    """Delete the endpoint and its delivery log."""
    _audit("update", endpoint, actor, fields=["deleted"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


def target_disable_after_failures(*, target, now: datetime, last_error: str) -> None:
    """Called under the target's row lock when its failure streak is long enough: switch
    it off, cancel what was waiting, and tell the organization's admins (in the app and
    by email). Events after this are not kept for it."""
    hours = (now - target.failing_since).total_seconds() / 3600
    reason = (
        f"Disabled after {target.consecutive_failures} failed attempts in a row over "
        f"{hours:.0f} hours. Last error: {last_error}"
    )
    if isinstance(target, WebhookEndpoint):
        target.is_active = False
        fields = ["is_active"]
        waiting = Delivery.objects.filter(endpoint=target)
        path = reverse("webhook_deliveries", args=[target.pk])
        what = f"Webhook “{target.name}”"
    else:
        target.status = target.Status.OFF
        fields = ["status"]
        waiting = Delivery.objects.filter(subscription=target)
        path = reverse("webhook_subscription_deliveries", args=[target.pk])
        what = f"FHIR subscription {target.pk}"
    target.disabled_at = now
    target.disabled_reason = reason[:300]
    target.save(update_fields=[*fields, "disabled_at", "disabled_reason"])
    _cancel_open(waiting, "The target was disabled after failing for too long.")
    logger.warning(
        "%s %s disabled after %s failed attempts.",
        type(target).__name__,
        target.pk,
        target.consecutive_failures,
    )
    audit_record(
        action="update",
        object_type=_object_type(target),
        object_ids=[target.pk],
        organization=target.organization,
        detail={"fields": ["disabled"], "failures": target.consecutive_failures},
    )
    _tell_admins(
        target.organization_id,
        message=(
            f"{what} was switched off: {target.consecutive_failures} deliveries in a row "
            f"failed over {hours:.0f} hours. Fix the receiver, then turn it on again: {path}"
        )[:300],
    )


def _tell_admins(organization_id: int, *, message: str) -> list[int]:
    """An in-app notification for each of the organization's admins (people, not API
    keys), emailed through the notification machinery once the transaction commits."""
    from config.broker import publish
    from referrals.models import Notification
    from referrals.tasks import deliver_notification_email

    admins = (
        Membership.objects.filter(
            organization_id=organization_id,
            role=Role.ORG_ADMIN,
            is_active=True,
            user__is_active=True,
            user__api_key__isnull=True,
        )
        .values_list("user_id", flat=True)
        .order_by("user_id")
    )
    rows = Notification.objects.bulk_create(
        [Notification(user_id=u, kind="webhook_disabled", message=message) for u in admins]
    )
    ids = [n.pk for n in rows]
    if ids:
        transaction.on_commit(lambda: publish(deliver_notification_email, ids))
    return ids


def _cancel_open(deliveries, reason: str) -> int:
    """Deliveries still waiting are cancelled; one being sent right now finishes."""
    return deliveries.filter(state=Delivery.State.PENDING).update(
        state=Delivery.State.CANCELLED, finished_at=timezone.now(), last_error=reason
    )


def _object_type(target) -> str:
    return "webhook_endpoint" if isinstance(target, WebhookEndpoint) else "fhir_subscription"


def _audit(action: str, endpoint: WebhookEndpoint, actor: User, *, fields: list[str]) -> None:
    audit_record(
        action=action,
        object_type="webhook_endpoint",
        object_ids=[endpoint.pk],
        actor=actor,
        organization=endpoint.organization,
        detail={"fields": sorted(fields)},
    )
