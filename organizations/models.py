"""Networks, organizations (the tenants), people's memberships and partnerships."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .roles import Capability, Role, capabilities_for


class LinkageUserManager(UserManager):
    """Users sign in with their email address; the username is the email too."""

    def create_user(self, email, password=None, **extra_fields):
        email = self.normalize_email(email).lower()
        extra_fields.setdefault("username", email)
        return super().create_user(email=email, password=password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        email = self.normalize_email(email).lower()
        extra_fields.setdefault("username", email)
        return super().create_superuser(email=email, password=password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. What they may do comes from their memberships."""

    email = models.EmailField(_("email address"), unique=True)
    # The interface language this person picked; blank follows the browser (Accept-Language).
    # Emails and reminders sent to them render in it too.
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Blank: the language your browser asks for."),
    )

    objects = LinkageUserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def active_memberships(self) -> models.QuerySet[Membership]:
        return (
            self.memberships.filter(is_active=True, organization__is_active=True)
            .select_related("organization", "organization__network")
            .order_by("organization__name")
        )

    def requires_two_factor(self) -> bool:
        """Org admins and backbone admins must sign in with a second factor."""
        return (
            self.is_superuser
            or self.memberships.filter(is_active=True, role=Role.ORG_ADMIN).exists()
        )


class Network(models.Model):
    """A regional collaborative led by one backbone organization."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Network rules set by the backbone.
    release_default_months = models.PositiveSmallIntegerField(
        default=12, help_text=_("How long a release of information lasts unless set otherwise.")
    )
    rescreen_months = models.PositiveSmallIntegerField(
        default=12, help_text=_("Rescreening interval for social needs.")
    )
    rescreen_months_high_risk = models.PositiveSmallIntegerField(
        default=6, help_text=_("Rescreening interval for high-risk clients.")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:80]
        super().save(*args, **kwargs)

    @property
    def backbone(self) -> Organization | None:
        return self.organizations.filter(kind=Organization.Kind.BACKBONE).first()


class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> OrganizationQuerySet:
        """The organizations of the viewer's network: the network's shared directory."""
        return self.filter(network_id=org.network_id)


class Organization(models.Model):
    """The tenant: a health care organization, a community-based organization, the
    network's backbone, or a payer."""

    class Kind(models.TextChoices):
        HCO = "hco", _("Health care organization")
        CBO = "cbo", _("Community-based organization")
        BACKBONE = "backbone", _("Backbone organization")
        PAYER = "payer", _("Payer")

    class SubKind(models.TextChoices):
        HOSPITAL = "hospital", _("Hospital / health system")
        FQHC = "fqhc", _("FQHC / clinic")
        PRACTICE = "practice", _("Practice")
        ACO = "aco", _("Advanced network / ACO")
        NONPROFIT = "nonprofit", _("Nonprofit")
        HEALTH_DEPARTMENT = "health_department", _("Local health department")
        GOVERNMENT = "government", _("Government agency")

    SUB_KINDS_BY_KIND = {
        Kind.HCO: {SubKind.HOSPITAL, SubKind.FQHC, SubKind.PRACTICE, SubKind.ACO},
        Kind.CBO: {SubKind.NONPROFIT, SubKind.HEALTH_DEPARTMENT, SubKind.GOVERNMENT},
        Kind.BACKBONE: set(),
        Kind.PAYER: set(),
    }

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="organizations")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sub_kind = models.CharField(max_length=30, choices=SubKind.choices, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="org_unique_name_in_network"),
            models.UniqueConstraint(
                fields=["network"],
                condition=Q(kind="backbone"),
                name="org_one_backbone_per_network",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_backbone(self) -> bool:
        return self.kind == self.Kind.BACKBONE


class MembershipQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> MembershipQuerySet:
        """An organization sees its own staff list, nobody else's."""
        return self.filter(organization=org)


class Membership(models.Model):
    """A user's role in one organization. Backbone admins are org admins of the backbone."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organization}"

    @property
    def is_backbone_admin(self) -> bool:
        return self.role == Role.ORG_ADMIN and self.organization.is_backbone

    @property
    def capabilities(self) -> frozenset[Capability]:
        return capabilities_for(self.role, backbone=self.organization.is_backbone)

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities


class PartnershipQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> PartnershipQuerySet:
        """Partners see their partnerships; the backbone sees every one in its network."""
        if org.is_backbone:
            return self.filter(network_id=org.network_id)
        return self.filter(network_id=org.network_id, organizations=org).distinct()


class Partnership(models.Model):
    """A formal arrangement between organizations of one network (usually an HCO and a
    CBO): covered services, referral protocol, agreements, dates and status."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="partnerships")
    name = models.CharField(max_length=200)
    organizations = models.ManyToManyField(Organization, related_name="partnerships")
    # The services the arrangement covers: programs of its own organizations.
    programs = models.ManyToManyField("directory.Program", blank=True, related_name="partnerships")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    referral_protocol = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = PartnershipQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "name"], name="partnership_unique_name_in_network"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="partnership_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnershipDocument(models.Model):
    """An agreement on file for a partnership."""

    class Kind(models.TextChoices):
        MOU = "mou", _("Memorandum of understanding")
        DSA = "dsa", _("Data-sharing agreement")
        BAA = "baa", _("Business associate agreement")
        SERVICE_CONTRACT = "service_contract", _("Service contract")

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    signed_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    file = models.FileField(upload_to="partnership-documents/%Y/", blank=True)

    class Meta:
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class Heartbeat(models.Model):
    """When a background process last proved it runs (the health page reads it)."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


def _new_hsds_id() -> str:
    # Migration 0003 names this default; programs now live in directory.models.
    return str(uuid.uuid4())
