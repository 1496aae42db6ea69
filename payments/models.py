"""Payment terms on a partnership, pathways, and the monthly statements generated from the
referral record (payments.statements computes them; payments.services writes them).

Money is `Decimal` with two places, rounded half-up to the cent per line
(payments.money); a statement keeps its lines, so its numbers are reproducible from rows.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from organizations.models import Organization, Partnership

ZERO = Decimal("0.00")
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
POSITIVE = [MinValueValidator(Decimal("0"))]


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, validators=POSITIVE, **kwargs)


class PaymentTermQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> PaymentTermQuerySet:
        """Payer and payee see a term; the backbone sees every term of its network."""
        if org.is_backbone:
            return self.filter(partnership__network_id=org.network_id)
        return self.filter(Q(payer=org) | Q(payee=org))


class PaymentTerm(models.Model):
    """What one organization pays another under a partnership, from when to when, for
    which programs. A sub-term (`parent`) is what the backbone pays a CBO out of a
    payer's contract with the backbone."""

    class Kind(models.TextChoices):
        FEE_FOR_SERVICE = (
            "fee_for_service",
            gettext_lazy("Fee for service (per completed referral)"),
        )
        CASE_RATE = "case_rate", gettext_lazy("Case rate (per client served per year)")
        PMPM = "pmpm", gettext_lazy("Per member per month (attributed panel)")
        PATHWAY = "pathway", gettext_lazy("Pathway payments (per completed pathway)")
        SUPPORT_FUNDS = "support_funds", gettext_lazy("Patient support funds (per person per year)")

    class OutcomeMode(models.TextChoices):
        NONE = "", gettext_lazy("None")
        WITHHOLD = "withhold", gettext_lazy("Withhold a share, returned when the target is met")
        BONUS = "bonus", gettext_lazy("Bonus paid when the target is met")

    class Direction(models.TextChoices):
        AT_LEAST = "at_least", gettext_lazy("at least")
        AT_MOST = "at_most", gettext_lazy("at most")

    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="payment_terms"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    payer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="terms_paid")
    payee = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="terms_received")
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_terms",
        help_text=gettext_lazy(
            "Through the backbone: the payer's contract this sub-term is paid from."
        ),
    )
    # Empty: every program of the partnership.
    programs = models.ManyToManyField("directory.Program", blank=True, related_name="+")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")

    unit_amount = _money(
        help_text=gettext_lazy(
            "Per completed referral, client-year, member-month, pathway (when the "
            "pathway has no value of its own) or, for support funds, the allowance per person "
            "per year."
        )
    )
    # Fee for service: what a referral closed with the need met earns, and what one
    # attempted (closed otherwise) earns; blank means unit_amount.
    amount_need_met = _money(null=True, blank=True)
    amount_attempted = _money(null=True, blank=True)
    contracted_volume = models.PositiveIntegerField(
        null=True, blank=True, help_text=gettext_lazy("Case rate: clients paid for per term year.")
    )
    escalator_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=PERCENT,
        help_text=gettext_lazy("Added to the rates at each anniversary of the term's start."),
    )

    outcome_mode = models.CharField(
        max_length=10, choices=OutcomeMode.choices, blank=True, default=""
    )
    outcome_measure = models.CharField(
        max_length=60, blank=True, help_text=gettext_lazy("A measure of the metrics registry.")
    )
    outcome_direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.AT_LEAST
    )
    outcome_target = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    withhold_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )
    bonus_amount = _money(default=ZERO)

    created_at = models.DateTimeField(default=timezone.now)

    objects = PaymentTermQuerySet.as_manager()

    class Meta:
        ordering = ["partnership__name", "effective_from", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="payment_term_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(payer=models.F("payee")), name="payment_term_payer_is_not_payee"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SubsidyShare(models.Model):
    """A third party (the state, a foundation) pays `percent` of what falls due in months
    `month_from`..`month_to` of the term (month 1 starts on the term's first day)."""

    term = models.ForeignKey(PaymentTerm, on_delete=models.CASCADE, related_name="subsidies")
    funder = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True)
    funder_name = models.CharField(
        max_length=200, help_text=gettext_lazy("e.g. State Medicaid innovation fund")
    )
    month_from = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    month_to = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    percent = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT)

    class Meta:
        ordering = ["term", "month_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(month_to__gte=models.F("month_from")),
                name="subsidy_months_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.funder_name}: {self.percent}% of months {self.month_from}-{self.month_to}"


class PanelMonth(models.Model):
    """Per member per month: the attributed panel's size for one calendar month."""

    term = models.ForeignKey(PaymentTerm, on_delete=models.CASCADE, related_name="panel_months")
    month = models.DateField(help_text=gettext_lazy("The first day of the month."))
    members = models.PositiveIntegerField()

    class Meta:
        ordering = ["term", "month"]
        constraints = [
            models.UniqueConstraint(fields=["term", "month"], name="one_panel_size_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.members} members in {self.month:%Y-%m}"


class SupportExpense(models.Model):
    """A patient support fund expense (a bus pass, a utility deposit) for one client."""

    term = models.ForeignKey(PaymentTerm, on_delete=models.PROTECT, related_name="expenses")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    amount = _money()
    purpose = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "id"]

    def __str__(self) -> str:
        return f"{self.amount} on {self.date} ({self.purpose})"


class PathwayQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> PathwayQuerySet:
        return self.filter(network_id=org.network_id)


class Pathway(models.Model):
    """A Pathways-Community-HUB-style unit of work for one need: its steps, the outcome
    that completes it (in words, and as a rule checked on the record), and its value."""

    class Rule(models.TextChoices):
        # What the record must show; `hold_days`: and still so that many days later.
        REFERRAL_NEED_MET = (
            "referral_need_met",
            gettext_lazy("A referral for the need closed with the need met"),
        )
        RESCREEN_RESOLVED = (
            "rescreen_resolved",
            "A later screening no longer finds the need",
        )

    network = models.ForeignKey(
        "organizations.Network", on_delete=models.CASCADE, related_name="pathways"
    )
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=120)
    need = models.CharField(max_length=40, help_text=gettext_lazy("SDOH category code (Gravity)."))
    steps = models.JSONField(default=list)
    completion = models.TextField(help_text=gettext_lazy("The completion outcome, in words."))
    rule = models.CharField(max_length=30, choices=Rule.choices)
    hold_days = models.PositiveIntegerField(
        default=0,
        help_text=gettext_lazy("And still so this many days later (e.g. 183: six months)."),
    )
    value = _money()
    is_active = models.BooleanField(default=True)

    objects = PathwayQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="pathway_code_in_network")
        ]

    def __str__(self) -> str:
        return self.name


class PathwayInstanceQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> PathwayInstanceQuerySet:
        """The instances the organization owns (its lead navigator's), opened or leads."""
        return self.filter(organization=org)


class PathwayInstance(models.Model):
    """One client's pathway for one need, opened from a referral or an assessment and
    owned by the lead navigator's organization."""

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("Open")
        COMPLETED = "completed", gettext_lazy("Completed")
        CLOSED = "closed", gettext_lazy("Closed without completion")

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="instances")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        "organizations.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    # When the rule was first met on the record, and when it is (or was) checkable.
    met_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)

    objects = PathwayInstanceQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pathway", "client"],
                condition=Q(status="open"),
                name="one_open_pathway_per_client_and_need",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pathway} for client {self.client_id}"


class StatementQuerySet(models.QuerySet):
    def visible_to(self, org: Organization) -> StatementQuerySet:
        """Payer, payee and the network's backbone."""
        if org.is_backbone:
            return self.filter(term__partnership__network_id=org.network_id)
        return self.filter(Q(term__payer=org) | Q(term__payee=org))


class Statement(models.Model):
    """What the term's payer owes its payee for one month (the part of it within the
    term's dates), generated from the record. Approved statements are frozen; a
    correction is a new statement that `adjusts` the old one."""

    class Status(models.TextChoices):
        DRAFT = "draft", gettext_lazy("Draft")
        SUBMITTED = "submitted", gettext_lazy("Submitted")
        DISPUTED = "disputed", gettext_lazy("Disputed")
        APPROVED = "approved", gettext_lazy("Approved")
        PAID = "paid", gettext_lazy("Paid")

    term = models.ForeignKey(PaymentTerm, on_delete=models.PROTECT, related_name="statements")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    adjusts = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="adjustments"
    )
    subtotal = _money(default=ZERO)
    # Signed: a withhold kept is negative, a bonus positive.
    outcome_adjustment = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    outcome_note = models.CharField(max_length=300, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    generated_at = models.DateTimeField(default=timezone.now)
    generated_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_on = models.DateField(null=True, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            # One statement per term and month, besides the corrections of it.
            models.UniqueConstraint(
                fields=["term", "period_start"],
                condition=Q(adjusts__isnull=True),
                name="one_statement_per_term_and_month",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="statement_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} {self.period_start:%Y-%m}"

    @property
    def frozen(self) -> bool:
        return self.status in (self.Status.APPROVED, self.Status.PAID)


class StatementLine(models.Model):
    class Kind(models.TextChoices):
        REFERRAL = "referral", gettext_lazy("Completed referral")
        CLIENT_YEAR = "client_year", gettext_lazy("Client served (year)")
        MEMBER_MONTH = "member_month", gettext_lazy("Member-months")
        PATHWAY = "pathway", gettext_lazy("Completed pathway")
        SUPPORT_EXPENSE = "support_expense", gettext_lazy("Support fund expense")
        CORRECTION = "correction", gettext_lazy("Correction of an earlier statement")

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    date = models.DateField()
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pathway = models.ForeignKey(
        PathwayInstance, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expense = models.ForeignKey(
        SupportExpense, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=12, decimal_places=2)
    unit_amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The payer's comment on the line (a dispute), and whether the payee withdrew it
    # (kept, not counted, so the statement shows what was asked and what was dropped).
    dispute = models.TextField(blank=True)
    withdrawn = models.BooleanField(default=False)

    class Meta:
        ordering = ["statement", "position"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class StatementShare(models.Model):
    """Who pays what part of the statement's total (a subsidy's funder, the payer)."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="shares")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    label = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["statement", "id"]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount}"
