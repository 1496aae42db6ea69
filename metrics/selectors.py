"""Reads for the measure pages. Everything here reads rollup rows only (never referrals or
clients), in a handful of queries whatever the size of the network."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from clients.models import Client
from organizations.models import Organization, Partnership
from organizations.sdoh import SDOHCategory
from referrals.models import Referral, ReferralEvent

from .models import PartnershipTarget, PeriodKind, Rollup, RollupRun
from .registry import BY_KEY, FUNNEL, KEY_MEASURES, MEASURES, NATIONAL, ROUTED_RULE, Measure
from .suppression import Cell, suppress

BREAKDOWNS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "race_ethnicity": (
        gettext_lazy("Race / ethnicity"),
        [("hispanic", gettext_lazy("Hispanic or Latino (any race)"))]
        + [
            (code, format_lazy(gettext_lazy("{label} (not Hispanic)"), label=label))
            for code, label in Client.Race.choices
        ],
    ),
    "language": (gettext_lazy("Preferred language"), list(Client.Language.choices)),
    "insurance": (gettext_lazy("Insurance type"), list(Client.InsuranceType.choices)),
    "age_band": (
        gettext_lazy("Age band"),
        [
            ("0-17", gettext_lazy("17 or younger")),
            ("18-64", gettext_lazy("18 to 64")),
            ("65+", "65+"),
        ],
    ),
}
# Measures shown by their own type in a table of their own (not in the summary's totals).
BY_TYPE_MEASURES = ("encounters", "needs_identified", "referrals_declined_by_reason")
# Every client-based measure, in the registry's order. The others are not about people
# one by one: encounters and needs identified count contacts and needs (by their own
# type), declines are counted by their reason, and the outcome measures are broken down
# one defined measure at a time (rows added by metrics/outcomes/selectors.py).
DISPARITY_MEASURES = [m.key for m in MEASURES if m.client_based]


def threshold() -> int:
    return settings.METRICS_SUPPRESSION_THRESHOLD


@dataclass
class Table:
    """A table as shown: the strings in the page's table are the strings in its CSV."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    chart: dict = field(default_factory=dict)
    note: str = ""


@dataclass
class Scope:
    label: str
    partnership: Partnership | None = None
    organization: Organization | None = None

    def filter(self) -> dict:
        return {
            "partnership": self.partnership,
            "organization": self.organization,
        }


def latest_run(network_id: int) -> RollupRun | None:
    return (
        RollupRun.objects.filter(network_id=network_id, status=RollupRun.Status.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


def partnership_measure_value(partnership: Partnership, measure: str, month: date) -> float | None:
    """A measure's value for one partnership and month in the latest finished run (None:
    not computed, or too few to say). The outcome-based part of a payment term reads it."""
    run = latest_run(partnership.network_id)
    if run is None:
        return None
    row = (
        Rollup.objects.filter(
            run=run,
            partnership=partnership,
            organization=None,
            period_kind=PeriodKind.MONTH,
            period_start=month.replace(day=1),
            measure=measure,
            breakdown="",
        )
        .values_list("value", flat=True)
        .first()
    )
    return row


def pending_run(network_id: int) -> RollupRun | None:
    """The network's live queued or running recomputation, if any (an abandoned one is not:
    the page then offers a new refresh)."""
    return RollupRun.objects.pending(network_id).first()


def changes_pending(network_id: int) -> bool:
    """Whether changes are recorded that the network's rollup rows do not hold yet."""
    from .models import RollupChange

    return RollupChange.objects.filter(network_id=network_id).exists()


def periods(run: RollupRun, kind: str) -> list[date]:
    """The periods the run has rows for, latest first."""
    return list(
        Rollup.objects.filter(run=run, period_kind=kind, partnership=None, organization=None)
        .values_list("period_start", flat=True)
        .distinct()
        .order_by("-period_start")
    )


def period_containing(day: date, kind: str) -> date:
    """The first day of the month or quarter that holds `day`."""
    if kind == PeriodKind.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def period_label(start: date, kind: str, *, so_far: bool = False) -> str:
    if kind == PeriodKind.QUARTER:
        label = gettext("%(year)s Q%(quarter)s") % {
            "year": start.year,
            "quarter": (start.month - 1) // 3 + 1,
        }
    else:
        # The month's abbreviation in the reader's language ("Jan 2026", "ene 2026").
        label = date_format(start, "M Y")
    return gettext("%(period)s (so far)") % {"period": label} if so_far else label


def small(count) -> bool:
    """A count of people too small to show (1 to threshold-1): the one primary rule every
    figure of a page and its CSV follows (breakdown tables add complementary suppression)."""
    return count is not None and 0 < count < threshold()


def shown(measure: Measure, numerator, denominator, value) -> str:
    """A single figure as a page and its CSV show it: `fmt`, unless a small count of
    people would show — then "<threshold" (a rate whose numerator or denominator is small
    gives it away as surely as the count)."""
    if small(numerator) or small(denominator):
        return f"<{threshold()}"
    return fmt(measure, numerator, denominator, value)


def shown_count(count) -> str:
    """A plain count of people (a numerator or denominator column, a funnel step)."""
    if count is None or count == "":
        return ""
    return f"<{threshold()}" if small(count) else str(count)


def fmt(measure: Measure, numerator, denominator, value) -> str:
    if value is None:
        return "—"
    if measure.unit == "rate":
        return f"{value * 100:.1f}%"
    if measure.unit == "points":
        return f"{value:+.1f}"
    if measure.unit == "days":
        return f"{value:.1f}"
    return f"{int(numerator):d}"


def _rows(run, org, kind, start, scope: Scope, breakdowns=("",)):
    rows = Rollup.objects.visible_to(org).filter(
        run=run, period_kind=kind, period_start=start, breakdown__in=breakdowns, **scope.filter()
    )
    return list(
        rows.values("measure", "breakdown", "breakdown_value", "numerator", "denominator", "value")
    )


def summary_table(run, org, kind, start, scope: Scope) -> Table:
    """Every measure's total for the scope and period, with its numerator and denominator."""
    by_measure = {r["measure"]: r for r in _rows(run, org, kind, start, scope)}
    rows = []
    for m in MEASURES:
        # By-type counts have their own tables; outcome measures are per defined measure
        # ("Partnership outcomes"): their sum over an HbA1c and an asthma score means nothing.
        if m.key in BY_TYPE_MEASURES or m.source == "outcome":
            continue
        r = by_measure.get(m.key)
        if r is None:
            rows.append([m.group, m.name, "0" if m.unit == "count" else "—", "", ""])
            continue
        rows.append(
            [
                m.group,
                m.name,
                shown(m, r["numerator"], r["denominator"], r["value"]),
                shown_count(r["numerator"]) if m.unit != "count" else "",
                shown_count(r["denominator"]) if r["denominator"] is not None else "",
            ]
        )
    return Table(
        "summary",
        # The CSV's file name is the part before " — ": keep it in the translation.
        gettext("Measures — %(scope)s, %(period)s")
        % {"scope": scope.label, "period": period_label(start, kind)},
        [
            gettext("Group"),
            gettext("Measure"),
            gettext("Value"),
            gettext("Numerator (or n)"),
            gettext("Denominator"),
        ],
        rows,
        note=ROUTED_RULE,
    )


def by_type_table(
    run, org, kind, start, scope: Scope, measure_key: str, breakdown: str, choices, title: str
) -> Table:
    rows = {
        r["breakdown_value"]: r["numerator"]
        for r in _rows(run, org, kind, start, scope, (breakdown,))
        if r["measure"] == measure_key
    }
    # A count's value is the count (fmt shows "—" for a cell without one).
    cells = [
        Cell(label, rows.get(code, 0), None, float(rows.get(code, 0))) for code, label in choices
    ]
    total_hidden = suppress(cells, threshold())
    table_rows = [[c.label, _cell_text(c, BY_KEY[measure_key])] for c in cells]
    total = sum(c.numerator for c in cells)
    table_rows.append([gettext("Total"), gettext("suppressed") if total_hidden else str(total)])
    return Table(
        measure_key,
        title,
        [gettext("Category"), gettext("Count")],
        table_rows,
        chart={
            "type": "bar",
            "labels": [c.label for c in cells],
            "series": [_series(gettext("Count"), cells)],
        },
    )


def encounters_table(run, org, kind, start, scope):
    return by_type_table(
        run,
        org,
        kind,
        start,
        scope,
        "encounters",
        "contact_type",
        ReferralEvent.ContactType.choices,
        gettext("Encounters by type"),
    )


def needs_table(run, org, kind, start, scope):
    return by_type_table(
        run,
        org,
        kind,
        start,
        scope,
        "needs_identified",
        "sdoh_category",
        SDOHCategory.choices,
        gettext("Needs identified by SDOH category"),
    )


def declines_table(run, org, kind, start, scope):
    """Referrals declined in the period, by the reason the receiver chose."""
    return by_type_table(
        run,
        org,
        kind,
        start,
        scope,
        "referrals_declined_by_reason",
        "decline_reason",
        Referral.DeclineReason.choices,
        gettext("Declined, by reason"),
    )


def _cell_text(cell: Cell, measure: Measure) -> str:
    if cell.suppressed == "primary":
        return f"<{threshold()}"
    if cell.suppressed:
        return gettext("suppressed")
    return fmt(measure, cell.numerator, cell.denominator, cell.value)


def _chart_mark(cell: Cell) -> str:
    """What a chart draws in place of a suppressed cell's bar (the table's own words)."""
    if cell.suppressed == "primary":
        return f"<{threshold()}"
    return gettext("suppressed") if cell.suppressed else ""


def _series(label: str, cells: list[Cell], measure: Measure | None = None) -> dict:
    """A chart series of breakdown cells: values, which are suppressed (drawn as marked
    cells, never as empty bars that read as zero), and the axis (rates have their own)."""
    return {
        "label": label,
        "data": [_chart_value(c, measure) for c in cells],
        "suppressed": [_chart_mark(c) for c in cells],
        "axis": "rate" if measure is not None and measure.unit == "rate" else "count",
    }


def _chart_value(cell: Cell, measure: Measure | None = None):
    if cell.suppressed:
        return None
    if measure is None or measure.unit == "count":
        return cell.numerator
    if cell.value is None:
        return None
    if measure.unit == "rate":
        return round(cell.value * 100, 1)
    return round(cell.value, 1)


def disparity_table(
    run,
    org,
    kind,
    start,
    scope: Scope,
    breakdown: str,
    measures=DISPARITY_MEASURES,
    key: str = "",
    heading: str = "",
) -> Table:
    """Each client-based measure by the breakdown's cells, small cells suppressed."""
    title, choices = BREAKDOWNS[breakdown]
    table_key = key or f"disparities-{breakdown}"
    found = defaultdict(dict)
    totals = {}
    for r in _rows(run, org, kind, start, scope, ("", breakdown)):
        if r["breakdown"]:
            found[r["measure"]][r["breakdown_value"]] = r
        else:
            totals[r["measure"]] = r
    columns = [gettext("Measure"), gettext("All clients")] + [label for _, label in choices]
    rows = []
    series = []
    for measure_key in measures:
        m = BY_KEY[measure_key]
        cells = []
        for code, label in choices:
            r = found[measure_key].get(code)
            if r is None:
                cells.append(
                    Cell(label, 0, 0 if m.denominator else None, None if m.unit != "count" else 0.0)
                )
            else:
                cells.append(Cell(label, r["numerator"], r["denominator"], r["value"]))
        total_hidden = suppress(cells, threshold())
        total = totals.get(measure_key)
        total_text = (
            shown(m, total["numerator"], total["denominator"], total["value"]) if total else "—"
        )
        if total_hidden:
            total_text = gettext("suppressed")
        rows.append([m.name, total_text] + [_cell_text(c, m) for c in cells])
        series.append(_series(m.name, cells, m))
    return Table(
        table_key,
        heading or gettext("By %(breakdown)s") % {"breakdown": str(title).lower()},
        columns,
        rows,
        chart={"type": "bar", "labels": [label for _, label in choices], "series": series[:1]},
        note=gettext(
            "Counts from 1 to %(top)s show as <%(threshold)s; where one small cell could be "
            "worked out from the total, another cell is hidden too (suppressed)."
        )
        % {"top": threshold() - 1, "threshold": threshold()}
        + (
            " "
            + gettext(
                "Every measure about people is here; encounters and needs identified count "
                "contacts and needs, not people, so they are shown by their own type instead."
            )
            if measures is DISPARITY_MEASURES
            else ""
        ),
    )


def trend_table(run, org, kind, scope: Scope, upto: date, count: int = 12) -> Table:
    """Key measures over the latest periods up to `upto` (oldest first)."""
    keys = ["referrals_sent", "referrals_completed", "closed_loop_rate"]
    rows = (
        Rollup.objects.visible_to(org)
        .filter(
            run=run,
            period_kind=kind,
            period_start__lte=upto,
            breakdown="",
            measure__in=keys,
            **scope.filter(),
        )
        .values("period_start", "measure", "numerator", "denominator", "value")
    )
    data = defaultdict(dict)
    for r in rows:
        data[r["period_start"]][r["measure"]] = r
    starts = sorted(data)[-count:]
    table_rows = []
    for start in starts:
        line = [period_label(start, kind)]
        for key in keys:
            r = data[start].get(key)
            m = BY_KEY[key]
            if r:
                line.append(shown(m, r["numerator"], r["denominator"], r["value"]))
            else:
                line.append("0" if m.unit == "count" else "—")
        table_rows.append(line)

    def point(r, m):
        if r is None:
            return (0 if m.unit == "count" else None), ""
        if shown(m, r["numerator"], r["denominator"], r["value"]).startswith("<"):
            return None, f"<{threshold()}"
        if m.unit == "count":
            return r["numerator"], ""
        return round((r["value"] or 0) * 100, 1), ""

    series = []
    for k in keys:
        m = BY_KEY[k]
        points = [point(data[s].get(k), m) for s in starts]
        series.append(
            {
                "label": m.name,
                "data": [value for value, _ in points],
                "suppressed": [mark for _, mark in points],
                # Counts and a percentage never share an axis.
                "axis": "rate" if m.unit == "rate" else "count",
            }
        )
    chart = {"type": "line", "labels": [period_label(s, kind) for s in starts], "series": series}
    return Table(
        "trend",
        gettext("Trend"),
        [gettext("Period")] + [BY_KEY[k].name for k in keys],
        table_rows,
        chart=chart,
    )


def funnel_table(run, org, kind, start, scope: Scope) -> Table:
    """Target population (entered by the partnership) → screened → referred → engaged →
    need met."""
    by_measure = {r["measure"]: r for r in _rows(run, org, kind, start, scope)}
    labels = [gettext("Target population")] + [BY_KEY[k].name for k in FUNNEL]
    target = None
    if scope.partnership is not None:
        entered = PartnershipTarget.objects.filter(partnership=scope.partnership).first()
        target = entered.target_population if entered and entered.target_population else None
    values = [target] + [by_measure[k]["numerator"] if k in by_measure else 0 for k in FUNNEL]
    rows = [
        [label, gettext("not entered") if v is None else shown_count(v)]
        for label, v in zip(labels, values, strict=False)
    ]
    # The target is entered, not a count of people served: it is never suppressed.
    marks = [""] + [f"<{threshold()}" if small(v) else "" for v in values[1:]]
    return Table(
        "funnel",
        gettext("Engagement funnel"),
        [gettext("Step"), gettext("Clients")],
        rows,
        chart={
            "type": "bar",
            "labels": labels,
            "series": [
                {
                    "label": gettext("Clients"),
                    "data": [None if mark else v for v, mark in zip(values, marks, strict=True)],
                    "suppressed": marks,
                    "axis": "count",
                }
            ],
        },
        note=gettext(
            "Target population is entered by the partnership; the other steps count "
            "distinct clients in the period."
        ),
    )


def statement_cost(partnership_id: int, start: date, months: int) -> Decimal | None:
    """What the partnership's approved (or paid) payment statements for the period add up
    to, corrections included; None when it has none. Read in SQL: metrics sits below
    payments and never imports it (ARCHITECTURE.md)."""
    end = date(
        start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), SUM(s.total) FROM payments_statement s "
            "JOIN payments_paymentterm t ON t.id = s.term_id "
            "WHERE t.partnership_id = %s AND s.status IN ('approved', 'paid') "
            "AND s.period_start >= %s AND s.period_start < %s "
            # A backbone contract's sub-terms pay out of it: count the money once.
            "AND t.parent_id IS NULL",
            [partnership_id, start, end],
        )
        count, total = cursor.fetchone()
    return Decimal(str(total)).quantize(Decimal("0.01")) if count else None


def cost_table(run, org, kind, start, scope: Scope) -> Table | None:
    """Cost per client served and per completed referral: what the partnership's approved
    payment statements for the period total, else its entered monthly cost."""
    if scope.partnership is None:
        return None
    months = 3 if kind == PeriodKind.QUARTER else 1
    cost = statement_cost(scope.partnership.pk, start, months)
    source = gettext("Approved payment statements in the period")
    if cost is None:
        entered = PartnershipTarget.objects.filter(partnership=scope.partnership).first()
        if not entered or not entered.monthly_cost:
            return None
        cost = entered.monthly_cost * months
        source = gettext("Program cost in the period (entered)")
    by_measure = {r["measure"]: r for r in _rows(run, org, kind, start, scope)}
    served = by_measure.get("clients_served", {}).get("numerator") or 0
    completed = by_measure.get("referrals_completed", {}).get("numerator") or 0
    rows = [
        [source, f"${cost:,.2f}"],
        [gettext("Cost per client served"), f"${cost / served:,.2f}" if served else "—"],
        [gettext("Cost per completed referral"), f"${cost / completed:,.2f}" if completed else "—"],
    ]
    return Table("cost", gettext("Cost"), [gettext("Measure"), gettext("Value")], rows)


def partnership_table(run, org, kind, start, partnerships) -> Table:
    """The partnerships side by side on the key measures."""
    ids = [p.pk for p in partnerships]
    rows = (
        Rollup.objects.visible_to(org)
        .filter(
            run=run,
            period_kind=kind,
            period_start=start,
            breakdown="",
            partnership_id__in=ids,
            measure__in=KEY_MEASURES,
        )
        .values("partnership_id", "measure", "numerator", "denominator", "value")
    )
    data = defaultdict(dict)
    for r in rows:
        data[r["partnership_id"]][r["measure"]] = r
    table_rows = []
    for p in partnerships:
        line = [p.name]
        for key in KEY_MEASURES:
            r = data[p.pk].get(key)
            m = BY_KEY[key]
            line.append(
                shown(m, r["numerator"], r["denominator"], r["value"])
                if r
                else ("0" if m.unit == "count" else "—")
            )
        table_rows.append(line)
    sent = [(data[p.pk].get("referrals_sent") or {}).get("numerator", 0) for p in partnerships]
    return Table(
        "partnerships",
        gettext("Partnerships side by side"),
        [gettext("Partnership")] + [BY_KEY[k].name for k in KEY_MEASURES],
        table_rows,
        chart={
            "type": "bar",
            "labels": [p.name for p in partnerships],
            "series": [
                {
                    "label": gettext("Referrals sent"),
                    "data": [None if small(n) else n for n in sent],
                    "suppressed": [f"<{threshold()}" if small(n) else "" for n in sent],
                    "axis": "count",
                }
            ],
        },
    )


def stalled_table(run, org, scope: Scope) -> Table:
    """Referrals open and past due when the rollup ran (all periods), by period sent."""
    rows = (
        Rollup.objects.visible_to(org)
        .filter(
            run=run,
            period_kind=PeriodKind.MONTH,
            breakdown="",
            measure="referrals_overdue",
            numerator__gt=0,
            **scope.filter(),
        )
        .order_by("period_start")
        .values("period_start", "numerator")
    )
    # The same rule as every breakdown: small months hidden, and more where the total
    # would give one away.
    cells = [Cell(period_label(r["period_start"], "month"), r["numerator"]) for r in rows]
    total_hidden = suppress(cells, threshold())
    table_rows = [[c.label, _cell_text(c, BY_KEY["referrals_overdue"])] for c in cells]
    total = sum(c.numerator for c in cells)
    table_rows.append(
        [gettext("All"), gettext("suppressed") if total_hidden else shown_count(total)]
    )
    return Table(
        "stalled",
        gettext("Stalled referrals (overdue now)"),
        [gettext("Sent in"), gettext("Overdue")],
        table_rows,
    )


# What the headline says, in order: the measure and how a funder reads it.
HEADLINE = [
    ("referrals_sent", gettext_lazy("referrals sent")),
    ("referrals_completed", gettext_lazy("completed")),
    (
        "closed_loop_rate",
        gettext_lazy("of referrals closed the loop within 30 days (the sender saw how they ended)"),
    ),
    ("clients_need_met", gettext_lazy("people had their need met")),
    ("median_days_to_acceptance", gettext_lazy("days, median, from sending to acceptance")),
]


def headline(summary: Table) -> list[tuple[str, str]]:
    """The page's opening lines for a funder: a few key figures, as the summary table (and
    its CSV) shows them — small counts hidden by the same rule."""
    by_name = {row[1]: row[2] for row in summary.rows}
    out = []
    for key, words in HEADLINE:
        m = BY_KEY.get(key)
        if m is not None and m.name in by_name and by_name[m.name] not in ("—", ""):
            out.append((by_name[m.name], words))
    return out


def national_table(run, org, kind, start, scope: Scope) -> Table:
    """The national measures, each with its age strata (HEDIS SNS-E's: 17 or younger, 18 to
    64, 65 or older)."""
    return disparity_table(
        run,
        org,
        kind,
        start,
        scope,
        "age_band",
        measures=NATIONAL,
        key="national",
        heading=gettext("National measures (CMS SDOH-1/-2, MIPS #498, HEDIS SNS-E) by age"),
    )


def stalled_referrals(org: Organization, now):
    """The drill-down behind "stalled referrals": referrals the organization sent or
    received that are overdue at `now` by the one rule (`Referral.objects.overdue`, the
    inbox's), the referral's own page then applying the consent policy to what it shows
    of the client."""
    from referrals.models import Referral

    return (
        Referral.objects.visible_to(org)
        .overdue(now)
        .select_related("program", "sender_organization", "receiver_organization")
        .order_by("sent_at", "pk")
    )
