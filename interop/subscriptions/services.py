"""Writes for FHIR subscriptions (the API's create and delete, the admin's delete)."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from interop.webhooks.services import target_url_check
from organizations.models import Organization, User

from .models import Subscription
from .resources import SubscriptionInput


@transaction.atomic
def subscription_create(
    *, organization: Organization, actor: User, data: SubscriptionInput
) -> Subscription:
    """A rest-hook subscription of `organization` to the Task topic, active at once (no
    handshake). The endpoint is checked as a webhook URL is (ValidationError)."""
    subscription = Subscription.objects.create(
        organization=organization,
        created_by=actor,
        status=Subscription.Status.ACTIVE,
        topic=data.topic,
        filter_criteria=data.filter_criteria,
        match_owner=data.filters.match_owner,
        match_requester=data.filters.match_requester,
        statuses=data.filters.statuses,
        endpoint=target_url_check(data.endpoint),
        headers=data.headers,
        content=data.content,
        end=data.end,
        reason=data.reason,
    )
    _audit("create", subscription, actor)
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription, actor: User) -> None:
    """End the subscription: no more notifications; its delivery log goes with it."""
    _audit("update", subscription, actor, fields=["deleted"])
    Subscription.objects.filter(pk=subscription.pk).delete()


def _audit(action: str, subscription: Subscription, actor: User, fields=None) -> None:
    audit_record(
        action=action,
        object_type="fhir_subscription",
        object_ids=[subscription.pk],
        actor=actor,
        organization=subscription.organization,
        detail={"fields": fields} if fields else None,
    )
