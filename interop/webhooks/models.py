"""Outbound notifications: webhook endpoints, and the deliveries (with their attempts) that
webhooks and FHIR subscriptions share.

A delivery is one event for one target (unique per target and event, so announcing an
event twice is harmless). The database is the truth about it: its state says whether it
still has to go out, and a claim (a conditional UPDATE, interop/webhooks/delivery.py)
decides which worker sends it, so a task that runs twice never posts a delivered event
again.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy


class DeliveryTarget(models.Model):
    """What webhook endpoints and FHIR subscriptions have in common as receivers of
    deliveries: their failure streak, and why they stopped, if they did."""

    # Failed attempts in a row (any delivery) and when the first of them failed; a
    # successful attempt resets both. A long enough streak disables the target
    # (settings WEBHOOK_DISABLE_AFTER_FAILURES and _HOURS).
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True


class WebhookEndpointQuerySet(models.QuerySet):
    def visible_to(self, org) -> WebhookEndpointQuerySet:
        """An organization sees (and manages) its own endpoints only."""
        return self.filter(organization_id=org.pk)


class WebhookEndpoint(DeliveryTarget):
    """A URL of an organization's system (its EHR, say) that is told about its referrals.

    Each request is signed with the endpoint's secret (HMAC-SHA256 over the timestamp and
    the body; README "Webhooks and subscriptions"). The secret is kept as it is, since
    signing needs it; it is shown once, when made, and a new one can replace it (the old
    one still signs alongside it for a day, so the receiver can switch without losing
    events)."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    name = models.CharField("label", max_length=100)
    url = models.URLField("URL", max_length=500)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    sends_status_changes = models.BooleanField("referral status changed", default=True)
    sends_notes = models.BooleanField("note added", default=True)
    include_fhir_task = models.BooleanField(
        "include the FHIR Task",
        default=False,
        help_text=gettext_lazy(
            "Add the referral's FHIR Task to each event (as far as consent allows)."
        ),
    )
    is_active = models.BooleanField("enabled", default=True)
    created_by = models.ForeignKey(
        "organizations.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(
                fields=["organization"], condition=Q(is_active=True), name="webhook_active_org"
            )
        ]

    def __str__(self) -> str:
        return f"webhook {self.pk} ({self.name})"

    @property
    def accepts_deliveries(self) -> bool:
        return self.is_active

    def event_types(self) -> list[str]:
        chosen = []
        if self.sends_status_changes:
            chosen.append(Delivery.EventType.STATUS_CHANGED)
        if self.sends_notes:
            chosen.append(Delivery.EventType.NOTE_ADDED)
        return chosen


class DeliveryQuerySet(models.QuerySet):
    def visible_to(self, org) -> DeliveryQuerySet:
        """The deliveries to an organization's own endpoints and subscriptions."""
        return self.filter(organization_id=org.pk)


class Delivery(models.Model):
    """One event for one target (a webhook endpoint or a FHIR subscription), its body as
    it is sent each time, and where its delivery stands."""

    class EventType(models.TextChoices):
        STATUS_CHANGED = "referral.status_changed", gettext_lazy("Referral status changed")
        NOTE_ADDED = "referral.note_added", gettext_lazy("Note added")

    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("Waiting to be sent")
        SENDING = "sending", gettext_lazy("Being sent")
        SUCCEEDED = "succeeded", gettext_lazy("Delivered")
        FAILED = "failed", gettext_lazy("Failed")
        # The target was disabled or deleted before the event could go out.
        CANCELLED = "cancelled", gettext_lazy("Cancelled")

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    subscription = models.ForeignKey(
        "interop.Subscription",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.CASCADE, null=True, related_name="+"
    )
    # The event, the same for every target: "status-<ReferralEvent id>" or
    # "note-<ReferralNote id>". Receivers may use it to recognise a repeat.
    event_key = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    # What is posted (ids, codes and statuses; see interop/webhooks/payloads.py).
    payload = models.JSONField()

    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Last handed to the broker; the sweep hands it again when a message seems lost.
    queued_at = models.DateTimeField(null=True, blank=True)
    # The claim of the worker sending it now: it alone may record the outcome, and once
    # the lease has run out (the worker died) the delivery may be claimed again.
    claim_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The sweep's range scan: only deliveries still to go out are in it.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent"),
            models.Index(
                fields=["subscription", "-created_at"], name="delivery_subscription_recent"
            ),
            models.Index(fields=["finished_at"], name="delivery_finished"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_key"],
                condition=Q(endpoint__isnull=False),
                name="delivery_once_per_endpoint",
            ),
            models.UniqueConstraint(
                fields=["subscription", "event_key"],
                condition=Q(subscription__isnull=False),
                name="delivery_once_per_subscription",
            ),
            models.CheckConstraint(
                condition=Q(endpoint__isnull=False, subscription__isnull=True)
                | Q(endpoint__isnull=True, subscription__isnull=False),
                name="delivery_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.event_key}, {self.state})"

    @property
    def target(self):
        return self.endpoint if self.endpoint_id else self.subscription

    @property
    def is_open(self) -> bool:
        return self.state in {self.State.PENDING, self.State.SENDING}


class DeliveryAttempt(models.Model):
    """One POST of a delivery (or one refusal to make it): when, how long, what came back.
    Never the body, and never the receiver's answer beyond its status code."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", gettext_lazy("Delivered")
        RETRY = "retry", gettext_lazy("Failed, will retry")
        FAILED = "failed", gettext_lazy("Failed")

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="attempt_once")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id} ({self.outcome})"
