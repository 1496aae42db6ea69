"""FHIR Subscriptions (the R5 Subscriptions backport on R4): an organization's system asks
to be told when its referral Tasks change."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from interop.webhooks.models import DeliveryTarget


class SubscriptionQuerySet(models.QuerySet):
    def visible_to(self, org) -> SubscriptionQuerySet:
        """An organization sees (and ends) its own subscriptions only."""
        return self.filter(organization_id=org.pk)


class Subscription(DeliveryTarget):
    """One rest-hook subscription to the Task topic, owned by the organization whose API
    key (or person) created it. Notifications are `id-only` (or `empty`) history Bundles:
    the subscriber reads the Task it is told about, under the usual consent rules."""

    class Status(models.TextChoices):
        # R4 Subscription.status. Linkage sends no handshake: a new subscription is
        # active at once; it shows `error` while notifications fail and `off` once
        # disabled (after sustained failure, or its `end` passed).
        REQUESTED = "requested", "Requested"
        ACTIVE = "active", "Active"
        ERROR = "error", "Error"
        OFF = "off", "Off"

    class Content(models.TextChoices):
        ID_ONLY = "id-only", "id-only"
        EMPTY = "empty", "empty"

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="fhir_subscriptions"
    )
    created_by = models.ForeignKey(
        "organizations.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    topic = models.CharField(max_length=200)
    # The filters as sent (backport-filter-criteria), and what they mean: Tasks the
    # organization owns (receives), requested (sent), or either; optionally some statuses.
    filter_criteria = models.JSONField(default=list, blank=True)
    match_owner = models.BooleanField(default=True)
    match_requester = models.BooleanField(default=True)
    statuses = models.JSONField(default=list, blank=True)
    endpoint = models.URLField(max_length=500)
    # "Name: value" lines sent with every notification (the subscriber's own credentials,
    # typically an Authorization header): kept to be sent, never shown back in full.
    headers = models.JSONField(default=list, blank=True)
    payload_type = models.CharField(max_length=40, default="application/fhir+json")
    content = models.CharField(max_length=20, choices=Content.choices, default=Content.ID_ONLY)
    end = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # eventsSinceSubscriptionStart: numbered as events are matched to the subscription.
    events_since_start = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "status"], name="subscription_org_status")]

    def __str__(self) -> str:
        return f"subscription {self.pk} ({self.status})"

    @property
    def url(self) -> str:
        return self.endpoint

    @property
    def name(self) -> str:
        return f"FHIR Subscription/{self.pk}"

    @property
    def accepts_deliveries(self) -> bool:
        return self.status in {self.Status.ACTIVE, self.Status.ERROR} and not self.has_ended()

    def has_ended(self, at=None) -> bool:
        return self.end is not None and self.end <= (at or timezone.now())

    def current_status(self) -> str:
        """The status as read: `off` once `end` has passed, whatever the row says."""
        return self.Status.OFF if self.has_ended() else self.status
