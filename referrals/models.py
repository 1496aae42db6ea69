"""Referrals: a request from one organization to another to serve a client for a need.

A referral's life is its events; it closes with an outcome the sender sees (the closed loop).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .workflow import OPEN, Status


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, org) -> ReferralQuerySet:
        """The referrals an organization sent or received. (A client's profile may show more,
        as far as releases allow: see selectors.referrals_for_client.)"""
        return self.filter(Q(sender_organization_id=org.pk) | Q(receiver_organization_id=org.pk))

    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=OPEN)


class Referral(models.Model):
    """A referral (FHIR: a ServiceRequest plus its Task)."""

    Status = Status

    class Urgency(models.TextChoices):
        # The IG's Task priority value set: routine | urgent.
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"

    class BusinessStatus(models.TextChoices):
        NONE = "", "—"
        OPENED = "opened", "Opened by the receiver"
        CONTACTED = "contacted", "Client contacted"
        SCHEDULED = "scheduled", "Appointment scheduled"
        WAITLISTED = "waitlisted", "Waitlisted"

    class Outcome(models.TextChoices):
        NEED_MET = "need-met", "Service provided – need met"  # noqa: RUF001
        NEED_PARTLY_MET = "need-partly-met", "Service provided – need partly met"  # noqa: RUF001
        NEED_NOT_MET = "need-not-met", "Service provided – need not met"  # noqa: RUF001
        NO_LONGER_INTERESTED = "no-longer-interested", "Client no longer interested"
        UNABLE_TO_CONTACT = "unable-to-contact", "Unable to contact"
        NOT_ELIGIBLE = "not-eligible", "Not eligible"
        NO_CAPACITY = "no-capacity", "No capacity"
        REFERRED_ELSEWHERE = "referred-elsewhere", "Referred elsewhere"

    class Source(models.TextChoices):
        PLATFORM = "platform", "Sent through Linkage"
        FAX = "fax", "Fax"
        PHONE = "phone", "Phone"
        WALK_IN = "walk-in", "Walk-in"
        SELF = "self", "Self-referral"
        EMAIL = "email", "Email"
        OTHER = "other", "Other"

    network = models.ForeignKey(
        "organizations.Network", on_delete=models.PROTECT, related_name="referrals"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="referrals")
    # The sender: an organization on the platform, or (for logged inbound referrals) a name.
    sender_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_sent",
    )
    sender_user = models.ForeignKey(
        "organizations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_sent",
    )
    external_sender = models.CharField(
        max_length=200, blank=True, help_text="Who referred, when not on Linkage."
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.PLATFORM)
    receiver_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="referrals_received"
    )
    program = models.ForeignKey(
        "organizations.Program", on_delete=models.PROTECT, related_name="referrals"
    )
    reason = models.TextField("note for the receiver", blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    do_not_contact = models.BooleanField(
        "do not contact the client",
        default=False,
        help_text="For safety (e.g. intimate-partner violence): the receiver must not reach out "
        "to the client directly (FHIR order detail contacting-subject-prohibited).",
    )
    release = models.ForeignKey(
        "consent.Release",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        help_text="The release that lets the receiver see what the referral carries.",
    )
    assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
    )
    referred_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="onward_referrals",
    )
    assigned_to = models.ForeignKey(
        "organizations.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_referrals",
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    business_status = models.CharField(
        max_length=20, choices=BusinessStatus.choices, blank=True, default=""
    )
    status_reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Due moments the reminder sweep reads through indexes (ARCHITECTURE.md, Reminders).
    ack_due_at = models.DateTimeField(null=True, blank=True)
    update_due_at = models.DateTimeField(null=True, blank=True)
    follow_up_due_at = models.DateTimeField(null=True, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["receiver_organization", "status", "-created_at"], name="referral_inbox"
            ),
            models.Index(
                fields=["sender_organization", "status", "-created_at"], name="referral_sent"
            ),
            models.Index(fields=["client", "status"], name="referral_client_status"),
            models.Index(fields=["ack_due_at"], name="referral_ack_due"),
            models.Index(fields=["update_due_at"], name="referral_update_due"),
            models.Index(fields=["follow_up_due_at"], name="referral_follow_up_due"),
        ]
        constraints = [
            # The duplicate guard in the database: one open referral per client and program.
            # A double-clicked send hits this even when two requests race.
            models.UniqueConstraint(
                fields=["client", "program"],
                condition=Q(
                    status__in=["draft", "requested", "accepted", "in-progress", "on-hold"]
                ),
                name="referral_one_open_per_client_program",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(outcome=""),
                name="referral_completed_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def sender_name(self) -> str:
        if self.sender_organization_id:
            return self.sender_organization.name
        return self.external_sender or self.get_source_display()


class ReferralNeed(models.Model):
    """A need (SDOH category code) the referral is for: a row each, so measures can count
    referrals per need in SQL."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="needs")
    code = models.CharField(max_length=40, db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "code"], name="referral_need_once")
        ]

    def __str__(self) -> str:
        return self.code


class ReferralEvent(models.Model):
    """One step in a referral's life: a status move, the receiver opening it, a contact."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        TRANSITION = "transition", "Status changed"
        OPENED = "opened", "Opened by the receiver"
        CONTACT = "contact", "Contact recorded"
        ASSIGNED = "assigned", "Assigned"
        SCHEDULED = "scheduled", "Appointment scheduled"

    class ContactType(models.TextChoices):
        PHONE = "phone", "Phone call"
        TEXT = "text", "Text message"
        EMAIL = "email", "Email"
        IN_PERSON = "in-person", "In person"
        HOME_VISIT = "home-visit", "Home visit"
        OTHER = "other", "Other"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, null=True, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    business_status = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    contact_type = models.CharField(max_length=20, choices=ContactType.choices, blank=True)
    contact_successful = models.BooleanField(null=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["referral", "occurred_at"], name="referral_event_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}->{self.to_status}"


class ReferralNote(models.Model):
    """The notes thread between sender and receiver (nobody else sees it)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey("organizations.User", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on referral {self.referral_id}"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A message to one person about a referral: always in the app, and by email.

    Messages name the referral number, the program and organizations — never the client —
    so an email in the wrong inbox discloses nothing about a person.
    """

    user = models.ForeignKey(
        "organizations.User", on_delete=models.CASCADE, related_name="notifications"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Claimed by the delivery task before sending (a conditional UPDATE), so a task that
    # runs twice sends once.
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} for user {self.user_id}"
