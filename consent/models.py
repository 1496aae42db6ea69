"""Releases of information: who may see what of a client, for what, until when."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .categories import FIELD_FOR, Category


class ReleaseQuerySet(models.QuerySet):
    def active_at(self, at: datetime) -> ReleaseQuerySet:
        """In force at `at`: effective, not yet expired, not revoked."""
        return self.filter(effective_at__lte=at, expires_at__gt=at).filter(
            Q(revoked_at__isnull=True) | Q(revoked_at__gt=at)
        )

    def covering(self, category: Category) -> ReleaseQuerySet:
        return self.filter(**{FIELD_FOR[Category(category)]: True})

    def visible_to(self, org) -> ReleaseQuerySet:
        """The capturing organization and the organizations named in it see a release."""
        return self.filter(Q(organization_id=org.pk) | Q(recipients=org)).distinct()


class Release(models.Model):
    """A client's release of information (consent to share)."""

    class Method(models.TextChoices):
        ESIGNATURE = "esignature", _("Electronic signature on screen")
        PAPER = "paper", _("Signed paper form (uploaded)")
        VERBAL = "verbal", _("Verbal consent with a witness")

    class Signer(models.TextChoices):
        CLIENT = "client", _("The client")
        REPRESENTATIVE = "representative", _("A legal representative")

    class Purpose(models.TextChoices):
        CARE_COORDINATION = "care_coordination", _("Care coordination and referrals")
        TREATMENT = "treatment", _("Treatment")
        PAYMENT = "payment", _("Payment for services")
        OTHER = "other", _("Other (described)")

    class Language(models.TextChoices):
        EN = "en", _("English")
        ES = "es", _("Español")

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="releases")
    # The organization that captured the release (it always sees it).
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="captured_releases"
    )
    captured_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, related_name="captured_releases"
    )
    captured_at = models.DateTimeField(default=timezone.now)

    recipients = models.ManyToManyField(
        "organizations.Organization", blank=True, related_name="releases_received"
    )
    all_network_partners = models.BooleanField(
        default=False, help_text=_("Every organization in an active partnership in the network.")
    )

    covers_demographics = models.BooleanField(default=False)
    covers_social_needs = models.BooleanField(default=False)
    covers_referrals = models.BooleanField(default=False)
    covers_health = models.BooleanField(default=False)
    covers_behavioral_health = models.BooleanField(default=False)
    covers_sud = models.BooleanField(default=False)

    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    purpose_other = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.EN)

    method = models.CharField(max_length=20, choices=Method.choices)
    esignature_name = models.CharField("typed name", max_length=200, blank=True)
    esignature_confirmed = models.BooleanField(default=False)
    esignature_signed_at = models.DateTimeField(null=True, blank=True)
    staff_present = models.ForeignKey(
        "organizations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="witnessed_releases",
    )
    paper_form = models.FileField(upload_to="releases/%Y/%m/", blank=True)
    verbal_witness_name = models.CharField(max_length=200, blank=True)

    signer = models.CharField(max_length=20, choices=Signer.choices, default=Signer.CLIENT)
    representative_name = models.CharField(max_length=200, blank=True)
    representative_relationship = models.CharField(max_length=100, blank=True)

    effective_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "organizations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="revoked_releases",
    )
    revocation_reason = models.TextField(blank=True)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_at", "-id"]
        indexes = [
            models.Index(fields=["client", "expires_at"], name="release_client_expiry"),
            models.Index(fields=["expires_at"], name="release_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("effective_at")),
                name="release_expires_after_effective",
            ),
            # 42 CFR Part 2: SUD records only to recipients named one by one.
            models.CheckConstraint(
                condition=~Q(covers_sud=True, all_network_partners=True),
                name="release_sud_named_recipients_only",
            ),
        ]

    def __str__(self) -> str:
        return f"Release {self.pk} ({self.effective_at:%Y-%m-%d} to {self.expires_at:%Y-%m-%d})"

    @property
    def categories(self) -> list[Category]:
        return [c for c, field in FIELD_FOR.items() if getattr(self, field)]

    def status_at(self, at: datetime | None = None) -> str:
        at = at or timezone.now()
        if self.revoked_at and self.revoked_at <= at:
            return "revoked"
        if self.effective_at > at:
            return "not yet effective"
        if self.expires_at <= at:
            return "expired"
        return "active"

    def is_active(self, at: datetime | None = None) -> bool:
        return self.status_at(at) == "active"


class ConsentLinkQuerySet(models.QuerySet):
    def visible_to(self, org) -> ConsentLinkQuerySet:
        """The organization that made a link sees it (and what became of it)."""
        return self.filter(organization_id=org.pk)


class ConsentLink(models.Model):
    """A one-time link for the client to sign a release on their own phone (consent by link).

    Staff choose the terms (recipients, categories, purpose) as on the release form; the
    client reads them in their language, types their name and confirms. Only the token's
    SHA-256 is stored: the link itself goes to the client (outreach delivers it) and is
    never kept or logged. Single use (`used_at`), expiring (`expires_at`). What the client
    signed becomes a Release (method e-signature) with this row as its evidence: when, from
    which address and browser."""

    class Channel(models.TextChoices):
        SMS = "sms", _("Text message")
        EMAIL = "email", _("Email")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="release_links"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="release_links"
    )
    created_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, related_name="release_links_made"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    # The release's terms, as staff chose them (release_create's arguments).
    recipients = models.ManyToManyField(
        "organizations.Organization", blank=True, related_name="release_links_naming"
    )
    all_network_partners = models.BooleanField(default=False)
    categories = models.JSONField(default=list)
    purpose = models.CharField(max_length=30, choices=Release.Purpose.choices)
    purpose_other = models.CharField(max_length=300, blank=True)

    # Draft referrals (ids) of `organization` for this client, refused for want of this
    # release, to send once it is signed; and what became of each (id -> {"sent": bool,
    # "reason": str}). Ids, not a relation: consent sits below referrals.
    waiting_referral_ids = models.JSONField(default=list, blank=True)
    waiting_results = models.JSONField(default=dict, blank=True)

    # Evidence of the signature, kept here and never in logs.
    used_at = models.DateTimeField(null=True, blank=True)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    signed_user_agent = models.CharField(max_length=500, blank=True)
    release = models.OneToOneField(
        Release,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="link",
    )

    objects = ConsentLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "created_at"], name="release_link_client")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="release_link_expires_after_created",
            ),
            # Used means signed: the release and the moment go together.
            models.CheckConstraint(
                condition=Q(used_at__isnull=True, release__isnull=True)
                | Q(used_at__isnull=False, release__isnull=False),
                name="release_link_used_with_release",
            ),
        ]

    def __str__(self) -> str:
        return f"Release link {self.pk}"

    def status_at(self, at: datetime | None = None) -> str:
        """ "signed", "expired" or "waiting" (for the client to sign)."""
        at = at or timezone.now()
        if self.used_at is not None:
            return "signed"
        if self.expires_at <= at:
            return "expired"
        return "waiting"
