"""The service directory (Open Referral HSDS 3.0 "service"; ARCHITECTURE.md: Program).

The tables keep the names they had when the directory lived in organizations."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from organizations.models import Network, Organization, User
from organizations.sdoh import SDOHCategory

from .capacity import CapacityState, capacity_state
from .service_codes import SNOMED


def _new_hsds_id() -> str:
    return str(uuid.uuid4())


class ProgramQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> ProgramQuerySet:
        """The network's directory as `org` sees it: the backbone sees every program of its
        network; an organization sees all of its own; everyone else sees the listed programs
        that accept referrals (open or waitlisted) of active organizations."""
        in_network = self.filter(organization__network_id=org.network_id)
        if org.is_backbone:
            return in_network
        return in_network.filter(
            Q(organization=org)
            | Q(is_listed=True, accepting_referrals=True, organization__is_active=True)
        )

    def editable_by(self, org: Organization) -> ProgramQuerySet:
        """Programs are kept current by the organization that runs them, and only by it."""
        return self.filter(organization=org)


class Program(models.Model):
    """A service an organization offers and accepts referrals for (HSDS `service`).

    `capacity` is how many open referrals the program can hold; past it, new referrals go
    to a waitlist. The `capacity_state` property needs the open-referral count annotated
    (`directory.capacity.with_capacity`)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="programs"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    eligibility = models.TextField(blank=True, help_text=gettext_lazy("Who the program is for."))
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    fees = models.TextField(blank=True)
    hours = models.TextField(blank=True)
    intake = models.TextField(
        blank=True, help_text=gettext_lazy("How intake works: the steps to get served.")
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    is_listed = models.BooleanField(
        default=True,
        help_text=gettext_lazy("Shown in the network's directory to other organizations."),
    )
    accepting_referrals = models.BooleanField(default=True)
    manual_waitlist = models.BooleanField(
        default=False, help_text=gettext_lazy("Set by program staff when new referrals must wait.")
    )
    capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "Open referrals the program can hold; beyond it new referrals are waitlisted."
        ),
    )
    # The HSDS service id: kept from an import (so re-importing updates) or minted here.
    hsds_id = models.CharField(max_length=250, default=_new_hsds_id)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        db_table = "organizations_program"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "hsds_id"], name="program_unique_hsds_id_in_org"
            ),
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True)
                | Q(maximum_age__isnull=True)
                | Q(maximum_age__gte=models.F("minimum_age")),
                name="program_max_age_after_min",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def age_range(self) -> str:
        """The ages served, as people say it: "ages 18 to 64", "ages 60 and over", "ages
        up to 17"; "" when the program has no age limits."""
        low, high = self.minimum_age, self.maximum_age
        if low is not None and high is not None:
            return gettext("ages %(low)s to %(high)s") % {"low": low, "high": high}
        if low is not None:
            return gettext("ages %(low)s and over") % {"low": low}
        if high is not None:
            return gettext("ages up to %(high)s") % {"high": high}
        return ""

    def age_refusal(self, age: int | None) -> str:
        """Why a client of `age` is outside the program's age limits ("" when inside them,
        when there are none, or when the age is unknown): one rule for suggestions and
        for sending."""
        if age is None or not self.age_range:
            return ""
        if (self.minimum_age is not None and age < self.minimum_age) or (
            self.maximum_age is not None and age > self.maximum_age
        ):
            return gettext("%(program)s serves %(ages)s; the client is %(age)s.") % {
                "program": self.name,
                "ages": self.age_range,
                "age": age,
            }
        return ""

    @property
    def capacity_state(self) -> CapacityState:
        open_referrals = getattr(self, "open_referrals", None)
        if open_referrals is None:
            raise AttributeError(
                "Program.capacity_state needs the open-referral count: fetch programs through "
                "directory.capacity.with_capacity()."
            )
        return capacity_state(
            accepting=self.accepting_referrals,
            manual_waitlist=self.manual_waitlist,
            capacity=self.capacity,
            open_referrals=open_referrals,
        )


class ProgramCategory(models.Model):
    """An SDOH category (Gravity Project code) a program serves."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(max_length=40, choices=SDOHCategory.choices, db_index=True)

    class Meta:
        db_table = "organizations_programcategory"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="program_category_unique"),
        ]

    def __str__(self) -> str:
        return self.get_code_display()


class ProgramServiceCode(models.Model):
    """A service a program delivers, as a SNOMED CT concept (FHIR HealthcareService.type;
    an HSDS taxonomy term). A referral addressed to an organization goes to the program
    whose codes match its requested service (directory.selectors.resolve_program)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="service_codes")
    system = models.CharField(max_length=200, default=SNOMED)
    code = models.CharField(max_length=40)
    display = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["display", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "system", "code"], name="program_service_code_unique"
            ),
        ]
        indexes = [models.Index(fields=["system", "code"], name="program_service_code_lookup")]

    def __str__(self) -> str:
        return self.display or self.code


class ProgramServiceArea(models.Model):
    """Where a program serves people: a ZIP code, a county, or an area described in words."""

    class Kind(models.TextChoices):
        ZIP = "zip", gettext_lazy("ZIP code")
        COUNTY = "county", gettext_lazy("County")
        OTHER = "other", gettext_lazy("Area")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="service_areas")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # A five-digit ZIP, a county name without the word "County", or a short description.
    value = models.CharField(max_length=255)

    class Meta:
        db_table = "organizations_programservicearea"
        ordering = ["kind", "value"]
        indexes = [models.Index(fields=["kind", "value"], name="program_area_kind_value")]

    def __str__(self) -> str:
        if self.kind == self.Kind.COUNTY:
            return gettext("%(name)s County") % {"name": self.value}
        return self.value


class ProgramLanguage(models.Model):
    """A language a program serves people in (ISO 639 code)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="languages")
    code = models.CharField(max_length=12, db_index=True)
    name = models.CharField(max_length=100)

    class Meta:
        db_table = "organizations_programlanguage"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "code"], name="program_language_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class HsdsImportQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> HsdsImportQuerySet:
        """An organization sees the imports its own people ran."""
        return self.filter(organization=org)


class HsdsImport(models.Model):
    """One upload of an HSDS dataset: the file, the progress, and the row-by-row report.

    The file's bytes live in the database (not on a disk only one machine sees) until the
    import finishes, so any worker can run it from the id alone."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Waiting to start")
        RUNNING = "running", gettext_lazy("Importing")
        DONE = "done", gettext_lazy("Finished")
        FAILED = "failed", gettext_lazy("Failed")

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="hsds_imports")
    # The importing organization; none when an operator imports from the command line.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="hsds_imports"
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=255)
    payload = models.BinaryField(editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # {"created": n, "updated": n, "unchanged": n, "imported": n, "rejected": n, "skipped": n}
    counts = models.JSONField(default=dict, blank=True)
    # [{"table", "row", "id", "action", "message"}, ...] in file order.
    report = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = HsdsImportQuerySet.as_manager()

    class Meta:
        db_table = "organizations_hsdsimport"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"HSDS import {self.file_name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}
