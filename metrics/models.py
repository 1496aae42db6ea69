"""Rollup rows (one number per network/partnership/organization, period, measure and
breakdown cell) and the runs that recompute them. Dashboards read these rows only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .loinc import validate_loinc


class PeriodKind(models.TextChoices):
    MONTH = "month", gettext_lazy("Month")
    QUARTER = "quarter", gettext_lazy("Quarter")


class RollupQuerySet(models.QuerySet):
    def visible_to(self, org) -> RollupQuerySet:
        """The backbone sees every rollup of its network; another organization sees the
        network totals, its own organization's rows and those of its partnerships."""
        rows = self.filter(network_id=org.network_id)
        if org.is_backbone:
            return rows
        return rows.filter(
            Q(partnership__isnull=True, organization__isnull=True)
            | Q(organization_id=org.pk)
            | Q(partnership__organizations=org)
        )


class Rollup(models.Model):
    """One measure's value for one scope, period and breakdown cell.

    Scope: network totals (no partnership, no organization), a partnership, or an
    organization (as sender or receiver). `breakdown` names the dimension ("" for the total)
    and `breakdown_value` the cell (a choice code)."""

    # Derived rows, written by the hundred thousand: no per-row foreign-key checks and no
    # single-column indexes (the composite index below serves the pages).
    network = models.ForeignKey(
        "organizations.Network",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Pages read the rows of the network's latest finished run only: a run in progress
    # writes beside them, so nobody sees half a run.
    run = models.ForeignKey(
        "metrics.RollupRun",
        on_delete=models.CASCADE,
        related_name="rows",
        db_index=False,
        db_constraint=False,
    )
    partnership = models.ForeignKey(
        "organizations.Partnership",
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    period_kind = models.CharField(max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField()
    measure = models.CharField(max_length=60)
    breakdown = models.CharField(max_length=30, blank=True, default="")
    breakdown_value = models.CharField(max_length=40, blank=True, default="")
    numerator = models.BigIntegerField(null=True)
    denominator = models.BigIntegerField(null=True)
    value = models.FloatField(null=True)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = RollupQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["run", "period_kind", "period_start", "breakdown"],
                name="rollup_network_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure} {self.period_kind} {self.period_start}"


class RollupRunQuerySet(models.QuerySet):
    def unfinished(self, network_id: int):
        return self.filter(
            network_id=network_id, status__in=[RollupRun.Status.QUEUED, RollupRun.Status.RUNNING]
        )

    def pending(self, network_id: int):
        """Queued or running, and alive: queued, started or reporting progress within
        METRICS_ROLLUP_STALE_MINUTES. Older ones lost their message or their worker."""
        since = timezone.now() - timedelta(minutes=settings.METRICS_ROLLUP_STALE_MINUTES)
        return self.unfinished(network_id).filter(touched_at__gte=since)


class RollupRun(models.Model):
    """One recomputation of a network's rollups (nightly, or asked for on the dashboard),
    with its progress for the page to show."""

    class Status(models.TextChoices):
        QUEUED = "queued", gettext_lazy("Queued")
        RUNNING = "running", gettext_lazy("Running")
        DONE = "done", gettext_lazy("Done")
        FAILED = "failed", gettext_lazy("Failed")

    network = models.ForeignKey("organizations.Network", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        "organizations.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=gettext_lazy("Percent done."))
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_written = models.PositiveIntegerField(default=0)
    # Queued, started, or progress reported: what tells a live run from an abandoned one.
    touched_at = models.DateTimeField(default=timezone.now)
    # The moment the run's rows reflect every change committed before: its start for the
    # full recompute, then the start of each incremental batch applied to its rows since
    # (metrics/incremental.py). Dashboards say "as of" this.
    data_as_of = models.DateTimeField(null=True, blank=True)
    changes_applied = models.PositiveIntegerField(
        default=0,
        help_text=gettext_lazy("Recorded changes applied to this run's rows since it finished."),
    )
    # Cells (scope, period, measure, breakdown cell) where this full recompute disagreed
    # with the incrementally kept rows it replaced; None when there was nothing to compare.
    disagreements = models.PositiveIntegerField(null=True, blank=True)

    objects = RollupRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"rollup run {self.pk} ({self.status})"


class RollupChange(models.Model):
    """A change to what the rollups read, not yet applied to the network's rollup rows:
    which source rows changed (`what`), the local day they are dated by (a referral's sent
    day, a contact's day, a screening's completion day, an outcome's observed day) and the
    client, from which metrics/incremental.py derives the (source, period) cells to
    recompute. Written in the changing transaction by metrics/changes.py; a change a bulk
    path makes without signals is caught by the nightly full recompute."""

    class What(models.TextChoices):
        REFERRAL = "referral", gettext_lazy("Referral sent, moved, counted or not, or its needs")
        WORK = "work", gettext_lazy("Referral worked (its status, dates, events)")
        CONTACT = "contact", gettext_lazy("Contact event")
        ASSESSMENT = "assessment", gettext_lazy("Assessment or need")
        OUTCOME = "outcome", gettext_lazy("Outcome result or measure")
        CLIENT = "client", gettext_lazy("Client demographics")
        ALL = "all", gettext_lazy("Everything")

    network = models.ForeignKey(
        "organizations.Network",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    what = models.CharField(max_length=12, choices=What.choices)
    # None: every period of the sources `what` names.
    day = models.DateField(null=True, blank=True)
    # An id, not a foreign key: the client's rows may be gone when the change is applied.
    client_ref = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The full recompute that started after this change committed, so its rows hold it:
    # the change is dropped when that run finishes (kept if it fails).
    covered_by_run_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["network", "id"], name="rollup_change_pending")]

    def __str__(self) -> str:
        return f"{self.what} change {self.pk}"


class PartnershipTarget(models.Model):
    """What a partnership enters for its funnel and cost measures."""

    partnership = models.OneToOneField(
        "organizations.Partnership", on_delete=models.CASCADE, related_name="measure_target"
    )
    target_population = models.PositiveIntegerField(default=0)
    monthly_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text=gettext_lazy("Program cost per month, USD."),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"targets for partnership {self.partnership_id}"


class OutcomeMeasureQuerySet(models.QuerySet):
    def visible_to(self, org) -> OutcomeMeasureQuerySet:
        """The outcome measures of the partnerships the organization sees: its own
        partnerships', or every partnership's of its network for the backbone."""
        from organizations.models import Partnership

        return self.filter(partnership__in=Partnership.objects.visible_to(org))


class OutcomeMeasure(models.Model):
    """An outcome a partnership defines and its partners report for their clients (an
    HbA1c result, an asthma-control score), with the goal a result should meet. Org admins
    of the partnership's organizations and backbone admins define them; a measure is
    deactivated, never deleted, so the results reported for it keep their meaning."""

    class Goal(models.TextChoices):
        BELOW = "below", gettext_lazy("below")
        AT_MOST = "at-most", gettext_lazy("at most")
        AT_LEAST = "at-least", gettext_lazy("at least")
        ABOVE = "above", gettext_lazy("above")

    partnership = models.ForeignKey(
        "organizations.Partnership", on_delete=models.PROTECT, related_name="outcome_measures"
    )
    name = models.CharField(max_length=120)
    loinc_code = models.CharField(
        "LOINC code",
        max_length=10,
        blank=True,
        validators=[validate_loinc],
        help_text=gettext_lazy(
            "Optional: the LOINC code of the observation (from loinc.org or the lab)."
        ),
    )
    unit = models.CharField(max_length=30, help_text=gettext_lazy("e.g. %, mg/dL, points"))
    goal = models.CharField(max_length=10, choices=Goal.choices)
    threshold = models.DecimalField(max_digits=12, decimal_places=4)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        "organizations.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = OutcomeMeasureQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "name"], name="outcome_measure_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def goal_text(self) -> str:
        """ "below 8 %": the goal as the pages say it."""
        threshold = format(self.threshold.normalize(), "f")
        return f"{self.get_goal_display()} {threshold} {self.unit}".strip()

    def meets_goal(self, value: Decimal) -> bool:
        """Whether a result meets the goal (the rollup's SQL says the same; engine.py)."""
        return {
            self.Goal.BELOW: value < self.threshold,
            self.Goal.AT_MOST: value <= self.threshold,
            self.Goal.AT_LEAST: value >= self.threshold,
            self.Goal.ABOVE: value > self.threshold,
        }[self.goal]


class OutcomeResultQuerySet(models.QuerySet):
    def visible_to(self, org, at=None) -> OutcomeResultQuerySet:
        """Results the organization recorded, of clients whose health information it may
        still see (a release revoked since hides them again). Partners see each other's
        results only as rollups."""
        from clients.models import Client
        from consent import policy
        from consent.categories import Category

        return self.filter(
            organization_id=org.pk,
            client__in=Client.objects.filter(policy.record_keeping_q(org, Category.HEALTH, at)),
        )

    def counted(self) -> OutcomeResultQuerySet:
        """Not marked entered in error: what the measures count."""
        return self.filter(entered_in_error_at__isnull=True)


class OutcomeResult(models.Model):
    """One value an organization reported for a client on an outcome measure, observed on
    a day (the lab's or the visit's date). Health information: recorded only by an
    organization that may see the client's health information, read back only by it.
    A mistake is marked entered in error (kept, not counted), never deleted."""

    measure = models.ForeignKey(OutcomeMeasure, on_delete=models.PROTECT, related_name="results")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField(max_digits=12, decimal_places=4)
    observed_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = OutcomeResultQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            # One counted result per client, measure and day: uploading the same file twice
            # records nothing the second time.
            models.UniqueConstraint(
                fields=["measure", "client", "observed_on"],
                condition=Q(entered_in_error_at__isnull=True),
                name="outcome_result_once_a_day",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-recorded_at"], name="outcome_result_recent"),
        ]

    def __str__(self) -> str:
        return f"outcome result {self.pk}"
