"""What a payment term earns in one month, computed from the record (no writes).

Rules, one place:
- The statement's window is the calendar month cut to the term's dates, so a term that
  changes mid-month yields two statements, each with its own rates.
- Money is rounded half-up to the cent once per line (quantity x unit amount); subtotal,
  adjustment and shares add rounded amounts, so every figure is reproducible from rows.
- Rates grow by the term's escalator at each anniversary of its start (year 0 unchanged,
  year n: rate x (1 + escalator)^n, rounded to the cent).
- Term month k runs from the start day moved k-1 months on to the day before it is moved k
  months on; a subsidy covers the lines dated within its months, so a subsidy period that
  ends mid calendar month splits that month's shares by line date.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from referrals.models import Referral

from .models import (
    PanelMonth,
    PathwayInstance,
    PaymentTerm,
    StatementLine,
    SupportExpense,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
Kind = StatementLine.Kind


def money(value: Decimal) -> Decimal:
    """Half-up to the cent (the statements' one rounding rule)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _shift(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def window(term: PaymentTerm, month: date) -> tuple[date, date] | None:
    """The part of `month` within the term's dates (None: the term does not run then)."""
    first, last = month_bounds(month)
    start = max(first, term.effective_from)
    end = min(last, term.effective_to) if term.effective_to else last
    return (start, end) if start <= end else None


def term_month(term: PaymentTerm, day: date) -> int:
    """1 for the term's first month (from its start day), 2 for the next, ..."""
    k = (day.year - term.effective_from.year) * 12 + day.month - term.effective_from.month + 1
    while k > 1 and day < _shift(term.effective_from, k - 1):
        k -= 1
    while day >= _shift(term.effective_from, k):
        k += 1
    return max(k, 1)


def term_year(term: PaymentTerm, day: date) -> int:
    """0 in the term's first year; n after its n-th anniversary."""
    return (term_month(term, day) - 1) // 12


def term_year_bounds(term: PaymentTerm, day: date) -> tuple[date, date]:
    n = term_year(term, day)
    start = _shift(term.effective_from, 12 * n)
    return start, _shift(term.effective_from, 12 * (n + 1)) - timedelta(days=1)


def escalated(term: PaymentTerm, rate: Decimal, day: date) -> Decimal:
    years = term_year(term, day)
    if not years or not term.escalator_percent:
        return money(rate)
    return money(rate * (1 + term.escalator_percent / 100) ** years)


@dataclass
class Line:
    kind: str
    date: date
    description: str
    quantity: Decimal
    unit_amount: Decimal
    referral_id: int | None = None
    pathway_id: int | None = None
    expense_id: int | None = None
    client_id: int | None = None
    amount: Decimal = field(init=False)

    def __post_init__(self) -> None:
        self.amount = money(self.quantity * self.unit_amount)


@dataclass
class Share:
    organization_id: int | None
    label: str
    amount: Decimal


@dataclass
class Computed:
    start: date
    end: date
    lines: list[Line]
    subtotal: Decimal
    outcome_adjustment: Decimal
    outcome_note: str
    total: Decimal
    shares: list[Share]


# --- which rows a term covers --------------------------------------------------------------


def _payees(term: PaymentTerm) -> list[int]:
    """Whose work the term pays for: its payee, or (a backbone contract with sub-terms)
    the payees of its sub-terms."""
    subs = list(term.sub_terms.values_list("payee_id", flat=True))
    return subs or [term.payee_id]


def _programs(term: PaymentTerm) -> list[int]:
    own = list(term.programs.values_list("pk", flat=True))
    if own:
        return own
    subs = [p for sub in term.sub_terms.all() for p in sub.programs.values_list("pk", flat=True)]
    return subs or list(term.partnership.programs.values_list("pk", flat=True))


def covered_referrals(term: PaymentTerm):
    """Closed referrals the term pays for: sent by an organization of the partnership (or
    routed on from one it sent, through the backbone), received by the term's payee(s) in
    its programs, completed (or failed: an attempt), never entered in error."""
    partners = term.partnership.organizations.values("pk")
    return Referral.objects.filter(
        Q(sender_organization_id__in=partners) | Q(part_of__sender_organization_id__in=partners),
        receiver_organization_id__in=_payees(term),
        program_id__in=_programs(term),
        status__in=(Referral.Status.COMPLETED, Referral.Status.FAILED),
        closed_at__isnull=False,
    )


def _closed_on(referral: Referral) -> date:
    return timezone.localdate(referral.closed_at)


# --- lines, by kind ----------------------------------------------------------------------------


def _fee_for_service(term: PaymentTerm, start: date, end: date) -> list[Line]:
    lines = []
    rows = covered_referrals(term).filter(closed_at__date__gte=start - timedelta(days=1))
    for referral in rows.order_by("closed_at", "pk"):
        day = _closed_on(referral)
        if not start <= day <= end:
            continue
        met = referral.status == Referral.Status.COMPLETED and (
            referral.outcome == Referral.Outcome.NEED_MET
        )
        base = (term.amount_need_met if met else term.amount_attempted) or term.unit_amount
        label = "need met" if met else "attempted"
        lines.append(
            Line(
                Kind.REFERRAL,
                day,
                f"Referral {referral.pk} ({label})",
                Decimal(1),
                escalated(term, base, day),
                referral_id=referral.pk,
                client_id=referral.client_id,
            )
        )
    return lines


def _case_rate(term: PaymentTerm, start: date, end: date) -> list[Line]:
    """One line per client first served (a completed referral) in a term year, in the
    order served, up to the contracted volume for that year."""
    year_start, _year_end = term_year_bounds(term, start)
    rows = covered_referrals(term).filter(
        status=Referral.Status.COMPLETED,
        closed_at__date__gte=year_start - timedelta(days=1),
        closed_at__date__lte=end + timedelta(days=1),
    )
    seen: set[int] = set()
    lines = []
    for referral in rows.order_by("closed_at", "pk"):
        day = _closed_on(referral)
        if not year_start <= day <= end or referral.client_id in seen:
            continue
        seen.add(referral.client_id)
        if day < start:
            continue
        beyond = term.contracted_volume is not None and len(seen) > term.contracted_volume
        lines.append(
            Line(
                Kind.CLIENT_YEAR,
                day,
                f"Client served, term year {term_year(term, day) + 1} (referral {referral.pk})"
                + (" — beyond the contracted volume, not paid" if beyond else ""),
                Decimal(1),
                ZERO if beyond else escalated(term, term.unit_amount, day),
                referral_id=referral.pk,
                client_id=referral.client_id,
            )
        )
    return lines


def _pmpm(term: PaymentTerm, start: date, end: date) -> list[Line]:
    lines = []
    for panel in PanelMonth.objects.filter(term=term, month=start.replace(day=1)):
        first, last = month_bounds(panel.month)
        days = (last - first).days + 1
        covered = (end - start).days + 1
        quantity = Decimal(panel.members)
        note = f"{panel.members} members, {panel.month:%B %Y}"
        if covered < days:
            quantity = (quantity * covered / days).quantize(CENT, rounding=ROUND_HALF_UP)
            note += f" ({covered} of {days} days)"
        lines.append(
            Line(Kind.MEMBER_MONTH, start, note, quantity, escalated(term, term.unit_amount, start))
        )
    return lines


def _pathways(term: PaymentTerm, start: date, end: date) -> list[Line]:
    rows = PathwayInstance.objects.filter(
        organization_id__in=_payees(term),
        status=PathwayInstance.Status.COMPLETED,
        completed_on__gte=start,
        completed_on__lte=end,
    ).select_related("pathway")
    return [
        Line(
            Kind.PATHWAY,
            p.completed_on,
            f"{p.pathway.name} pathway {p.pk} completed",
            Decimal(1),
            escalated(term, term.unit_amount or p.pathway.value, p.completed_on),
            pathway_id=p.pk,
            referral_id=p.referral_id,
            client_id=p.client_id,
        )
        for p in rows.order_by("completed_on", "pk")
    ]


def _support_funds(term: PaymentTerm, start: date, end: date) -> list[Line]:
    """Expenses in the window, each paid up to what is left of the client's allowance
    for the term year (earlier expenses drawn first)."""
    year_start, _ = term_year_bounds(term, start)
    allowance = escalated(term, term.unit_amount, start)
    drawn: dict[int, Decimal] = defaultdict(lambda: ZERO)
    lines = []
    rows = SupportExpense.objects.filter(term=term, date__gte=year_start, date__lte=end)
    for expense in rows.order_by("date", "pk"):
        left = max(allowance - drawn[expense.client_id], ZERO)
        paid = min(expense.amount, left)
        drawn[expense.client_id] += paid
        if expense.date < start:
            continue
        note = f"{expense.purpose} ({expense.amount} spent"
        note += ")" if paid == expense.amount else f"; {paid} left in the year's allowance)"
        lines.append(
            Line(
                Kind.SUPPORT_EXPENSE,
                expense.date,
                note,
                Decimal(1),
                paid,
                expense_id=expense.pk,
                client_id=expense.client_id,
            )
        )
    return lines


KINDS = {
    PaymentTerm.Kind.FEE_FOR_SERVICE: _fee_for_service,
    PaymentTerm.Kind.CASE_RATE: _case_rate,
    PaymentTerm.Kind.PMPM: _pmpm,
    PaymentTerm.Kind.PATHWAY: _pathways,
    PaymentTerm.Kind.SUPPORT_FUNDS: _support_funds,
}


# --- the outcome-based part and the shares ------------------------------------------------------


def outcome_part(term: PaymentTerm, start: date, subtotal: Decimal) -> tuple[Decimal, str]:
    """The withhold kept (negative) or bonus paid, by the term's measure for the month
    against its target; at the target counts as met."""
    if not term.outcome_mode or not term.outcome_measure or term.outcome_target is None:
        return ZERO, ""
    from metrics.selectors import partnership_measure_value

    value = partnership_measure_value(term.partnership, term.outcome_measure, start)
    target = term.outcome_target
    if value is None:
        met = False
        said = f"{term.outcome_measure} is not yet computed for {start:%B %Y}"
    else:
        value = Decimal(str(value))
        met = value >= target if term.outcome_direction == "at_least" else value <= target
        said = (
            f"{term.outcome_measure} {value.normalize():f} against a target of "
            f"{term.get_outcome_direction_display()} {target.normalize():f}"
        )
    if term.outcome_mode == PaymentTerm.OutcomeMode.WITHHOLD:
        if met:
            return ZERO, f"Target met ({said}): the {term.withhold_percent}% withhold is paid."
        return (
            -money(subtotal * term.withhold_percent / 100),
            f"Target not met ({said}): {term.withhold_percent}% withheld.",
        )
    if met:
        return money(term.bonus_amount), f"Target met ({said}): bonus paid."
    return ZERO, f"Target not met ({said}): no bonus."


def shares(term: PaymentTerm, lines: list[Line], total: Decimal) -> list[Share]:
    """Each subsidy's part of the lines dated within its months; the payer pays the rest
    (the outcome adjustment included)."""
    subsidies = list(term.subsidies.all())
    owed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        k = term_month(term, line.date)
        for subsidy in subsidies:
            if subsidy.month_from <= k <= subsidy.month_to:
                owed[subsidy.pk] += money(line.amount * subsidy.percent / 100)
    out = [
        Share(
            s.funder_id,
            f"{s.funder_name} (subsidy: {s.percent.normalize():f}% of months "
            f"{s.month_from} to {s.month_to})",
            owed[s.pk],
        )
        for s in subsidies
        if owed[s.pk]
    ]
    out.append(Share(term.payer_id, term.payer.name, total - sum((s.amount for s in out), ZERO)))
    return out


def compute(term: PaymentTerm, month: date) -> Computed | None:
    """The term's statement for `month` as the record stands (None: not in force then)."""
    bounds = window(term, month)
    if bounds is None:
        return None
    start, end = bounds
    lines = KINDS[term.kind](term, start, end)
    subtotal = sum((line.amount for line in lines), ZERO)
    adjustment, note = outcome_part(term, start, subtotal)
    total = subtotal + adjustment
    return Computed(
        start, end, lines, subtotal, adjustment, note, total, shares(term, lines, total)
    )
