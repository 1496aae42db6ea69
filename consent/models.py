"""Releases of information: who may see what of a client, for what, until when."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

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
        ESIGNATURE = "esignature", "Electronic signature on screen"
        PAPER = "paper", "Signed paper form (uploaded)"
        VERBAL = "verbal", "Verbal consent with a witness"

    class Signer(models.TextChoices):
        CLIENT = "client", "The client"
        REPRESENTATIVE = "representative", "A legal representative"

    class Purpose(models.TextChoices):
        CARE_COORDINATION = "care_coordination", "Care coordination and referrals"
        TREATMENT = "treatment", "Treatment"
        PAYMENT = "payment", "Payment for services"
        OTHER = "other", "Other (described)"

    class Language(models.TextChoices):
        EN = "en", "English"
        ES = "es", "Español"

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
        default=False, help_text="Every organization in an active partnership in the network."
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
