"""The business case for a partnership: what a program costs, what it is expected to save,
and who pays once a subsidy ends, beside what the record shows for the last twelve months.

The projection is pure arithmetic on the inputs (no database): `project(inputs)`. The
actuals are one read (`record_actuals`), aggregate counts only. Money is `Decimal`, rounded
half-up to the cent wherever it is shown (payments.statements.money, the statements' rule).

Formulas (the page states them too):
- cost of year n = fixed cost + clients per year x cost per client x (1 + escalator)^(n-1),
  the per-client cost rounded to the cent first, as statements round their rates;
- savings = clients per year x savings per client x years;
- ROI ratio = savings / cost (2 places);
- break-even volume = fixed cost / (savings per client - cost per client), rounded up to
  a whole client (year-1 rates; none when a client costs at least what they save);
- the subsidy of year n = cost of year n x (sum over its 12 months of the share subsidized
  that month) / 12, i.e. the cost is spread evenly over the months; the HCO pays the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .statements import ZERO, money

RATIO = Decimal("0.01")


@dataclass(frozen=True)
class Subsidy:
    """A third party pays `percent` of the cost for `months` months (phases run one after
    another from the first month)."""

    percent: Decimal
    months: int


@dataclass(frozen=True)
class Inputs:
    cost_per_client: Decimal
    clients_per_year: int
    savings_per_client: Decimal
    years: int
    fixed_cost: Decimal = ZERO
    escalator_percent: Decimal = ZERO
    subsidies: tuple[Subsidy, ...] = ()


@dataclass(frozen=True)
class Year:
    number: int
    cost: Decimal
    subsidy: Decimal
    hco: Decimal

    @property
    def hco_percent(self) -> Decimal:
        if not self.cost:
            return ZERO
        return (self.hco * 100 / self.cost).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Projection:
    total_cost: Decimal
    total_savings: Decimal
    net: Decimal
    roi: Decimal | None  # None: nothing is spent
    break_even: int | None  # None: a client costs at least what they save
    years: list[Year]
    subsidy_months: int  # the subsidy's last month (0: none)
    hco_after_subsidy: Decimal | None  # a full year's cost once the subsidy has ended


def year_cost(inputs: Inputs, n: int) -> Decimal:
    """Year n's cost (n from 1): fixed cost plus each client at the escalated rate."""
    rate = inputs.cost_per_client
    if n > 1 and inputs.escalator_percent:
        rate = rate * (1 + inputs.escalator_percent / 100) ** (n - 1)
    return money(inputs.fixed_cost + inputs.clients_per_year * money(rate))


def subsidy_percent(subsidies: tuple[Subsidy, ...], month: int) -> Decimal:
    """The share of month `month` (from 1) a subsidy pays."""
    end = 0
    for subsidy in subsidies:
        end += subsidy.months
        if month <= end:
            return subsidy.percent
    return ZERO


def roi_ratio(savings: Decimal, cost: Decimal) -> Decimal | None:
    """Savings per dollar spent, to 2 places (None when nothing is spent)."""
    if cost <= 0:
        return None
    return (savings / cost).quantize(RATIO, rounding=ROUND_HALF_UP)


def break_even_volume(
    fixed_cost: Decimal, cost_per_client: Decimal, savings_per_client: Decimal
) -> int | None:
    """The fewest clients a year whose savings cover the fixed cost plus their own cost:
    fixed / (savings - cost) per client, rounded up (None: each client costs at least
    what they save, so no volume breaks even)."""
    margin = savings_per_client - cost_per_client
    if margin <= 0:
        return None
    return math.ceil(fixed_cost / margin)


def project(inputs: Inputs) -> Projection:
    """The projection for `inputs.years` years."""
    years = []
    for n in range(1, inputs.years + 1):
        cost = year_cost(inputs, n)
        months = range(12 * (n - 1) + 1, 12 * n + 1)
        share = sum((subsidy_percent(inputs.subsidies, m) for m in months), Decimal(0))
        subsidy = money(cost * share / 1200)
        years.append(Year(n, cost, subsidy, cost - subsidy))
    total_cost = sum((y.cost for y in years), ZERO)
    total_savings = money(inputs.savings_per_client * inputs.clients_per_year * inputs.years)
    subsidy_months = sum(s.months for s in inputs.subsidies if s.percent > 0)
    # The first whole year after the subsidy's last month is paid in full by the HCO.
    after = subsidy_months // 12 + (1 if subsidy_months % 12 else 0) + 1
    return Projection(
        total_cost=total_cost,
        total_savings=total_savings,
        net=total_savings - total_cost,
        roi=roi_ratio(total_savings, total_cost),
        break_even=break_even_volume(
            inputs.fixed_cost, inputs.cost_per_client, inputs.savings_per_client
        ),
        years=years,
        subsidy_months=subsidy_months,
        hco_after_subsidy=year_cost(inputs, after) if subsidy_months else None,
    )


# --- the record --------------------------------------------------------------------------


def months_before(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Actuals:
    start: date
    end: date
    clients_served: int
    completed_referrals: int
    paid: Decimal | None  # approved or paid statements; None: none in the period
    threshold: int

    def shown(self, count: int) -> str:
        """A count as the page may show it: small cells say only 'fewer than N'."""
        if 0 < count < self.threshold:
            return f"fewer than {self.threshold}"
        return f"{count:,}"

    @property
    def clients_text(self) -> str:
        return self.shown(self.clients_served)

    @property
    def referrals_text(self) -> str:
        return self.shown(self.completed_referrals)

    @property
    def small(self) -> bool:
        return 0 < self.clients_served < self.threshold

    @property
    def cost_per_client(self) -> Decimal | None:
        # Not shown beside a suppressed count: the two together would give it away.
        if self.paid is None or not self.clients_served or self.small:
            return None
        return money(self.paid / self.clients_served)


def record_actuals(partnership, today: date) -> Actuals:
    """The last twelve complete months for the partnership: distinct clients with a
    referral completed between its organizations, those referrals, and what its approved
    or paid statements add up to. Counts only (no client is read one by one)."""
    from metrics.selectors import statement_cost, threshold
    from referrals.models import Referral

    this_month = today.replace(day=1)
    start = months_before(this_month, 12)
    end = this_month - timedelta(days=1)
    orgs = list(partnership.organizations.values_list("pk", flat=True))
    # The partnership's referrals as the measures count them: sent and received between
    # its organizations (the caller has checked the viewer may see the partnership).
    completed = Referral.objects.filter(
        sender_organization_id__in=orgs,
        receiver_organization_id__in=orgs,
        status=Referral.Status.COMPLETED,
        closed_at__date__gte=start,
        closed_at__date__lte=end,
    )
    return Actuals(
        start=start,
        end=end,
        clients_served=completed.values("client_id").distinct().count(),
        completed_referrals=completed.count(),
        paid=statement_cost(partnership.pk, start, 12),
        threshold=threshold(),
    )
