"""Talking to the client: how they want to be reached, every message sent to them, every
reply they sent, and what they said about the help they got.

Everything here is about one client, so every row reaches its tenant through the client:
`visible_to(org)` keeps the rows of clients whose contact details the consent policy lets
`org` see (clients.Client.objects.visible_to with the demographics-and-contact category).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.categories import Category

# Languages the message templates are written in; a client who reads another language gets
# English (the staff page says so).
MESSAGE_LANGUAGES = ("en", "es")


def _client_scope(org, field: str = "client") -> Q:
    from clients.models import Client

    visible = Client.objects.visible_to(org, Category.DEMOGRAPHICS).values("pk")
    return Q(**{f"{field}__in": visible})


class ContactPreferenceQuerySet(models.QuerySet):
    def visible_to(self, org) -> ContactPreferenceQuerySet:
        """Preferences of the clients whose contact details `org` may see."""
        return self.filter(_client_scope(org))


class ContactPreference(models.Model):
    """How one client wants to be reached. Texts need an explicit opt-in (who recorded it,
    when, how); STOP ends them until the client (or staff, with a new opt-in) starts them
    again. `do_not_contact` (safety) overrides everything: no message of any kind."""

    class Channel(models.TextChoices):
        TEXT = "text", _("Text message")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone call")
        NONE = "none", _("No messages")

    class OptInMethod(models.TextChoices):
        VERBAL = "verbal", _("Verbal (told staff)")
        WRITTEN = "written", _("Written form")
        WEB = "web", _("Web form")
        KEYWORD = "keyword", _("Texted START")

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="contact_preference"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.NONE)
    # E.164 (+15555550123): the provider's format, and what an inbound text is matched on.
    phone = models.CharField(max_length=20, blank=True, db_index=True)
    email = models.EmailField(blank=True)
    # Blank: the client's preferred language on their record.
    language = models.CharField(max_length=10, blank=True)
    # Local wall-clock times in the network's time zone (settings.TIME_ZONE); a window may
    # run over midnight (21:00-08:00).
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    text_opt_in_at = models.DateTimeField(null=True, blank=True)
    text_opt_in_method = models.CharField(max_length=10, choices=OptInMethod.choices, blank=True)
    text_opt_in_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text_opt_in_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    text_opt_out_at = models.DateTimeField(null=True, blank=True)

    do_not_contact = models.BooleanField(default=False)
    do_not_contact_at = models.DateTimeField(null=True, blank=True)

    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_by_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ContactPreferenceQuerySet.as_manager()

    class Meta:
        constraints = [
            # An opt-in is always recorded with how it was given.
            models.CheckConstraint(
                condition=Q(text_opt_in_at__isnull=True) | ~Q(text_opt_in_method=""),
                name="contact_pref_opt_in_has_method",
            ),
        ]

    def __str__(self) -> str:
        return f"Contact preference of client {self.client_id}"

    @property
    def texts_allowed(self) -> bool:
        """Opted in to texts and not opted out since."""
        return self.text_opt_in_at is not None and self.text_opt_out_at is None


class MessageQuerySet(models.QuerySet):
    def visible_to(self, org) -> MessageQuerySet:
        return self.filter(_client_scope(org))


class Message(models.Model):
    """One message to a client (a text or an email), from queueing to the provider's
    answer. `key` names the logical message (the referral-sent text of referral 12), so
    queueing it twice is a no-op. The body is stored here and nowhere else: never in task
    arguments or logs."""

    class Kind(models.TextChoices):
        REFERRAL_SENT = "referral_sent", _("Referral sent")
        REFERRAL_ACCEPTED = "referral_accepted", _("Referral accepted")
        NEXT_STEP = "next_step", _("Next step or appointment")
        REMINDER = "reminder", _("Reminder")
        COMPLETED_ASK = "completed_ask", _("Did you get the help you needed?")
        RELEASE_LINK = "release_link", _("Release to sign (link)")
        SUMMARY = "summary", _("Referral summary")
        STOP_CONFIRMATION = "stop_confirmation", _("Reply to STOP")
        HELP_ANSWER = "help_answer", _("Reply to HELP")
        START_CONFIRMATION = "start_confirmation", _("Reply to START")

    class Channel(models.TextChoices):
        SMS = "sms", _("Text message")
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    key = models.CharField(max_length=200, unique=True)
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The organization the message is about (named in it when consent allows).",
    )
    referral = models.ForeignKey(
        "referrals.Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    destination = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=10, default="en")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Why a message was skipped or failed, in words staff read (never client data).
    reason = models.CharField(max_length=300, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "organizations.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Not before: now, or the end of the client's quiet hours.
    scheduled_at = models.DateTimeField(default=timezone.now)
    # Last handed to the broker: the sweep queues again what has waited a whole interval.
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "-created_at"], name="outreach_message_client"),
            # The sweep's range scan: only what is still to send is in it.
            models.Index(
                fields=["scheduled_at"],
                condition=Q(status="queued"),
                name="outreach_message_due",
            ),
            models.Index(
                fields=["destination", "kind", "-sent_at"],
                condition=Q(status="sent"),
                name="outreach_message_sent_to",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} ({self.kind}, {self.status})"


class InboundMessageQuerySet(models.QuerySet):
    def visible_to(self, org) -> InboundMessageQuerySet:
        return self.filter(_client_scope(org))


class InboundMessage(models.Model):
    """A text the client sent us (through the provider's webhook), in the delivery log."""

    class Meaning(models.TextChoices):
        STOP = "stop", _("Stop texts")
        HELP = "help", _("Help")
        START = "start", _("Start texts")
        ANSWER = "answer", _("Answer to a question")
        OTHER = "other", _("Other")

    # The provider's id (Twilio's MessageSid): a webhook delivered twice is recorded once.
    provider_id = models.CharField(max_length=100, unique=True)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_number = models.CharField(max_length=20, db_index=True)
    body = models.TextField(blank=True)
    meaning = models.CharField(max_length=10, choices=Meaning.choices)
    in_reply_to = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    received_at = models.DateTimeField(default=timezone.now)

    objects = InboundMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["client", "-received_at"], name="outreach_inbound_client"),
        ]

    def __str__(self) -> str:
        return f"Inbound message {self.pk} ({self.meaning})"


class ClientReport(models.Model):
    """The client's own answer to "Did you get the help you needed?", shown on the referral
    beside the outcome the organization recorded."""

    class Answer(models.TextChoices):
        YES = "yes", _("Yes")
        PARTLY = "partly", _("Partly")
        NO = "no", _("No")

    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.CASCADE, related_name="client_reports"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=10, choices=Answer.choices)
    received_at = models.DateTimeField(default=timezone.now)
    inbound = models.OneToOneField(
        InboundMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="report"
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"Client report on referral {self.referral_id}: {self.answer}"
