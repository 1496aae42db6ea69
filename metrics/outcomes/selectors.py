"""Reads for outcome measures: the definitions and recent results on the outcomes page,
and the "Partnership outcomes" table and disparity rows of the measure pages (rollup rows
only, plus the definitions that name them)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext

from organizations.models import Organization, Partnership

from ..models import OutcomeMeasure, OutcomeResult, Rollup
from ..registry import OUTCOME, OUTCOME_CLIENTS, OUTCOME_GOAL_MET, OUTCOME_RESULTS
from ..selectors import BREAKDOWNS, Scope, Table, threshold
from ..suppression import Cell, suppress

BREAKDOWN = "outcome"  # engine.sources()["outcome"].extra_breakdown


def partnership_measures(partnership: Partnership, org: Organization) -> QuerySet[OutcomeMeasure]:
    """The partnership's measures, active first, each with the count of results the
    viewing organization recorded (its own data: no suppression needed)."""
    return (
        OutcomeMeasure.objects.filter(partnership=partnership)
        .annotate(
            own_results=Count(
                "results",
                filter=Q(
                    results__organization=org,
                    results__entered_in_error_at__isnull=True,
                ),
            )
        )
        .order_by("-is_active", "name", "pk")
    )


def recent_results(org: Organization, partnership: Partnership, limit: int = 25):
    """The latest results the organization recorded on the partnership's measures, of
    clients whose health information it may still see (the page audits what it shows)."""
    return list(
        OutcomeResult.objects.visible_to(org)
        .counted()
        .filter(measure__partnership=partnership)
        .select_related("measure", "recorded_by")
        .order_by("-recorded_at", "-pk")[:limit]
    )


def measures_in_scope(org: Organization, scope: Scope) -> list[OutcomeMeasure]:
    """The outcome measures a measure page names: the partnership's, or every one of the
    partnerships the viewer sees (the backbone: the network's)."""
    measures = OutcomeMeasure.objects.visible_to(org)
    if scope.partnership is not None:
        measures = measures.filter(partnership=scope.partnership)
    return list(measures.select_related("partnership").order_by("partnership__name", "name", "pk"))


def _rollups(run, org, kind, start, scope: Scope, breakdowns) -> list[dict]:
    return list(
        Rollup.objects.visible_to(org)
        .filter(
            run=run,
            period_kind=kind,
            period_start=start,
            breakdown__in=breakdowns,
            measure__in=OUTCOME,
            **scope.filter(),
        )
        .values("measure", "breakdown", "breakdown_value", "numerator", "denominator", "value")
    )


def _label(measure: OutcomeMeasure, scope: Scope) -> str:
    name = measure.name if scope.partnership else f"{measure.partnership.name}: {measure.name}"
    return name if measure.is_active else gettext("%(name)s (inactive)") % {"name": name}


def _count_text(n: int) -> str:
    return f"<{threshold()}" if 0 < n < threshold() else str(n)


def _share_hidden(met: int, results: int) -> bool:
    """A share is hidden when the results, or those meeting or missing the goal, are
    few: any of the three would be recoverable from the share and the count beside it."""
    t = threshold()
    return any(0 < n < t for n in (results, met, results - met))


def outcome_table(run, org, kind, start, scope: Scope, measures) -> Table | None:
    """Per outcome measure: results reported in the period, distinct clients, and the
    share meeting the goal; small counts shown as <11. None when no measure is defined."""
    shown = [
        m for m in measures if scope.partnership is None or m.partnership_id == scope.partnership.pk
    ]
    if not shown:
        return None
    found: dict[str, dict] = defaultdict(dict)
    for r in _rollups(run, org, kind, start, scope, (BREAKDOWN,)):
        found[r["breakdown_value"]][r["measure"]] = r
    rows, labels, shares = [], [], []
    for m in shown:
        cells = found.get(str(m.pk), {})
        if not cells and not m.is_active:
            continue  # retired and nothing reported this period
        results = (cells.get(OUTCOME_RESULTS) or {}).get("numerator") or 0
        clients = (cells.get(OUTCOME_CLIENTS) or {}).get("numerator") or 0
        met = (cells.get(OUTCOME_GOAL_MET) or {}).get("numerator") or 0
        if not results:
            share_text, share = "—", None
        elif _share_hidden(met, results):
            share_text, share = f"<{threshold()}", None
        else:
            share = round(met / results * 100, 1)
            share_text = f"{share:.1f}%"
        label = _label(m, scope)
        rows.append(
            [
                label,
                m.loinc_code,
                m.goal_text,
                _count_text(results),
                _count_text(clients),
                share_text,
            ]
        )
        labels.append(label)
        shares.append(share)
    if not rows:
        return None
    return Table(
        "outcomes",
        gettext("Partnership outcomes"),
        [
            gettext("Outcome measure"),
            "LOINC",
            gettext("Goal"),
            gettext("Results"),
            gettext("Clients"),
            gettext("Meeting the goal"),
        ],
        rows,
        chart={
            "type": "bar",
            "labels": labels,
            "series": [{"label": gettext("Results meeting the goal (%)"), "data": shares}],
        },
        note=gettext(
            "Results observed in the period, by the day observed. Counts from 1 to %(top)s "
            "show as <%(threshold)s; so does a share when the results meeting or missing the "
            "goal are that few."
        )
        % {"top": threshold() - 1, "threshold": threshold()},
    )


def add_disparity_rows(table: Table, run, org, kind, start, scope: Scope, breakdown, measures):
    """Append each outcome measure's share meeting the goal, by the breakdown's cells,
    to a disparity table (suppressed like its other rows, and on the side of the results
    missing the goal too)."""
    shown = [
        m
        for m in measures
        if m.is_active and (scope.partnership is None or m.partnership_id == scope.partnership.pk)
    ]
    if not shown:
        return
    wanted = f"{BREAKDOWN}.{breakdown}"
    totals, found = {}, defaultdict(dict)
    for r in _rollups(run, org, kind, start, scope, (BREAKDOWN, wanted)):
        if r["measure"] != OUTCOME_GOAL_MET:
            continue
        if r["breakdown"] == BREAKDOWN:
            totals[r["breakdown_value"]] = r
        else:
            measure_id, _, cell = r["breakdown_value"].partition(":")
            found[measure_id][cell] = r
    _, choices = BREAKDOWNS[breakdown]
    for m in shown:
        key = str(m.pk)
        cells = []
        for code, label in choices:
            r = found[key].get(code)
            cells.append(
                Cell(label, r["numerator"], r["denominator"], r["value"])
                if r
                else Cell(label, 0, 0, None)
            )
        total_hidden = suppress(cells, threshold(), complement=True)
        total = totals.get(key)
        if total and _share_hidden(total["numerator"], total["denominator"]):
            total_text = f"<{threshold()}"
        elif total_hidden:
            total_text = gettext("suppressed")
        elif total:
            total_text = f"{total['value'] * 100:.1f}%"
        else:
            total_text = "—"
        row = [
            gettext("%(measure)s: results meeting the goal") % {"measure": _label(m, scope)},
            total_text,
        ]
        for c in cells:
            if c.suppressed == "primary":
                row.append(f"<{threshold()}")
            elif c.suppressed:
                row.append(gettext("suppressed"))
            else:
                row.append("—" if c.value is None else f"{c.value * 100:.1f}%")
        table.rows.append(row)
