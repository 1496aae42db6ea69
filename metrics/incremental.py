"""Incremental rollups: the recorded changes (RollupChange, written by metrics/changes.py)
become the (source, period kind, period) cells they can move, and only those cells are
recomputed — every scope of them, since the network's totals read every row of a period —
with the engine's own statements restricted to the periods (engine.recompute_cells).

Which cells a change moves, per source (engine.sources):
- a referral worked (its status, dates, events, routed referrals) dated by its sent day:
  the referral and decline sources in that day's periods;
- a referral sent, deleted, moved (day, client, parties), counted or no longer (draft,
  entered in error), or its needs: the same, and the national source there (its referral
  rows) and in the periods of its client's screenings completed up to 30 days before
  (SNS-E: a referral for the need within 30 days is an intervention);
- a contact: the contact source in its day's periods, and in the periods of its client's
  screenings up to 60 days before, the national measures that read whether a screening was
  connected within 60 days (engine.NATIONAL_CONNECTED, computed from the screening rows
  alone: nothing else of the national source reads contacts);
- an assessment (or its needs): the screening, need and national sources in its completion
  day's periods, and the ssm source there and in the periods of every matrix of its client
  (the latest one dates the client's first-to-latest change);
- an outcome result: the outcome source in its observed day's periods (a measure's goal
  changed: every period);
- a client's demographics: every period holding one of the client's rows, in each source.
When the client is not known (a referral deleted with its events), the window's periods
are taken whole. A part's cells (engine.PARTS) that its source's own cells cover are left
out: the source's statement writes the part's measures too.
"""

# ruff: noqa: S608
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from . import engine
from .changes import local_day
from .models import PeriodKind, RollupChange

logger = logging.getLogger(__name__)

What = RollupChange.What

REFERRAL_SOURCES = ("referral", "decline", "national")
ASSESSMENT_SOURCES = ("screening", "need", "national", "ssm")
ALL_SOURCES = (
    "referral",
    "decline",
    "contact",
    "screening",
    "need",
    "ssm",
    "outcome",
    "national",
)
# The parts of sources (engine.PARTS) and their sources.
PART_SOURCES = {part: source for part, (source, _) in engine.PARTS.items()}
CONNECTED = engine.NATIONAL_CONNECTED
# SNS-E's 30 and connected-within-60 days, in local days with a day's margin each side
# (moments compared across a day boundary of the time zone).
SNS_DAYS = 31
CONNECTED_DAYS = 61


class Plan:
    """The cells to recompute: for each source, the local days whose periods move (or
    every period). Periods of both kinds follow from the days."""

    def __init__(self) -> None:
        self.days: dict[str, set[date]] = defaultdict(set)
        self.everything: set[str] = set()

    def add(self, sources: Iterable[str], days: Iterable[date]) -> None:
        days = list(days)
        for source in sources:
            self.days[source].update(days)

    def add_all(self, sources: Iterable[str]) -> None:
        self.everything.update(sources)

    def add_window(self, source: str, last: date, span: int) -> None:
        """Every day from `span` days before `last` to a day after (the periods of a window
        whose rows are not looked up)."""
        self.add([source], (last - timedelta(days=n) for n in range(-1, span + 1)))

    def cells(self) -> engine.Cells:
        """(source, period kind) -> the periods' first days, or None for every period."""
        out: dict[tuple[str, str], set[date] | None] = {}
        for source in (*ALL_SOURCES, *PART_SOURCES):
            for kind in PeriodKind.values:
                if source in self.everything:
                    out[(source, kind)] = None
                elif self.days.get(source):
                    out[(source, kind)] = {engine.period_start(d, kind) for d in self.days[source]}
        # A part's measures are written by its source's statement too: no period twice.
        for part, source in PART_SOURCES.items():
            for kind in PeriodKind.values:
                if (part, kind) not in out:
                    continue
                periods = out.pop((part, kind))
                covered = out.get((source, kind), set())
                if covered is None:
                    continue
                if periods is None:
                    # Every period of the part and some of the source: the source's
                    # statement then writes every period (a rare change with no day).
                    if covered:
                        out[(source, kind)] = None
                    else:
                        out[(part, kind)] = None
                elif periods - covered:
                    out[(part, kind)] = periods - covered
        return out

    def __bool__(self) -> bool:
        return bool(self.everything or any(self.days.values()))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(settings.TIME_ZONE))


def _days(sql: str, params: list) -> list[tuple[int, date]]:
    """(client id, local day) rows of a query giving (client id, moment or day)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(client, local_day(at)) for client, at in cursor.fetchall() if at is not None]


def _in(ids: Iterable[int]) -> tuple[str, list[int]]:
    ids = sorted(ids)
    return ", ".join(["%s"] * len(ids)), ids


def _screenings_near(plan: Plan, windows: list[tuple[str, int, date, int]]) -> None:
    """The source (national, or a part of it) in the periods of the clients' screenings
    completed within `span` days before each `last` day."""
    if not windows:
        return
    marks, ids = _in({c for _, c, _, _ in windows})
    lo = min(last - timedelta(days=span + 1) for _, _, last, span in windows)
    hi = max(last + timedelta(days=2) for _, _, last, _ in windows)
    found = _days(
        f"""SELECT a.client_id, a.completed_at FROM assessments_assessment a
            JOIN assessments_instrument i ON i.id = a.instrument_id
            WHERE a.client_id IN ({marks}) AND a.status = 'completed'
              AND i.kind = 'screening' AND a.completed_at >= %s AND a.completed_at < %s""",
        [*ids, *(connection.ops.adapt_datetimefield_value(_midnight(d)) for d in (lo, hi))],
    )
    by_client: dict[int, list[date]] = defaultdict(list)
    for client, day in found:
        by_client[client].append(day)
    for source, client, last, span in windows:
        plan.add(
            [source],
            (
                d
                for d in by_client.get(client, ())
                if last - timedelta(days=span + 1) <= d <= last + timedelta(days=1)
            ),
        )


def _matrices_of(plan: Plan, clients: set[int]) -> None:
    if not clients:
        return
    marks, ids = _in(clients)
    found = _days(
        f"""SELECT a.client_id, a.completed_at FROM assessments_assessment a
            JOIN assessments_instrument i ON i.id = a.instrument_id
            WHERE a.client_id IN ({marks}) AND a.status = 'completed' AND i.kind = 'matrix'""",
        ids,
    )
    plan.add(["ssm"], (d for _, d in found))


def _clients_rows(plan: Plan, clients: set[int]) -> None:
    """Every period holding a row of these clients, per source."""
    if not clients:
        return
    marks, ids = _in(clients)
    queries = [
        (
            REFERRAL_SOURCES,
            f"SELECT client_id, sent_at FROM referrals_referral WHERE client_id IN ({marks})",
        ),
        (
            ("contact",),
            f"""SELECT r.client_id, e.occurred_at FROM referrals_referralevent e
                JOIN referrals_referral r ON r.id = e.referral_id
                WHERE r.client_id IN ({marks}) AND e.kind = 'contact'""",
        ),
        (
            ASSESSMENT_SOURCES,
            f"""SELECT client_id, completed_at FROM assessments_assessment
                WHERE client_id IN ({marks}) AND status = 'completed'""",
        ),
        (
            ("outcome",),
            f"""SELECT client_id, observed_on FROM metrics_outcomeresult
                WHERE client_id IN ({marks})""",
        ),
    ]
    for sources, sql in queries:
        plan.add(sources, (d for _, d in _days(sql, ids)))


def plan_changes(changes: Iterable[tuple[str, date | None, int | None]]) -> Plan:
    """The cells a set of recorded changes ((what, day, client) each) can move."""
    plan = Plan()
    windows: list[tuple[str, int, date, int]] = []
    matrices: set[int] = set()
    clients: set[int] = set()
    for what, day, client in set(changes):
        if what == What.ALL:
            plan.add_all(ALL_SOURCES)
        elif what == What.CLIENT:
            if client is None:
                plan.add_all(ALL_SOURCES)
            else:
                clients.add(client)
        elif day is None:
            plan.add_all(
                {
                    What.REFERRAL: ("referral", "decline", "contact", "national"),
                    What.WORK: ("referral", "decline"),
                    What.CONTACT: ("contact", CONNECTED),
                    What.ASSESSMENT: ASSESSMENT_SOURCES,
                    What.OUTCOME: ("outcome",),
                }[what]
            )
        elif what == What.WORK:
            plan.add(("referral", "decline"), [day])
        elif what == What.REFERRAL:
            plan.add(REFERRAL_SOURCES, [day])
            if client is None:
                plan.add_window("national", day, SNS_DAYS)
            else:
                windows.append(("national", client, day, SNS_DAYS))
        elif what == What.CONTACT:
            plan.add(["contact"], [day])
            if client is None:
                plan.add_window(CONNECTED, day, CONNECTED_DAYS)
            else:
                windows.append((CONNECTED, client, day, CONNECTED_DAYS))
        elif what == What.ASSESSMENT:
            plan.add(ASSESSMENT_SOURCES, [day])
            if client is not None:
                matrices.add(client)
        elif what == What.OUTCOME:
            plan.add(["outcome"], [day])
    _screenings_near(plan, windows)
    _matrices_of(plan, matrices)
    _clients_rows(plan, clients)
    return plan


# Measures whose value depends on the moment computed, not only on the rows ("overdue
# now"): an incremental cell and the nightly one differ by the hours between them, so
# the nightly comparison leaves them out.
TIME_DEPENDENT = frozenset({"referrals_overdue"})
# At most this many disagreeing cells are read back (and a few of them logged) per run.
COMPARED_AT_MOST = 10_000
LOGGED_AT_MOST = 20

_KEY = (
    "partnership_id, organization_id, period_kind, period_start, measure, breakdown, "
    "breakdown_value"
)


def compare_runs(*, kept_run_id: int, full_run_id: int, skip: engine.Cells) -> list[tuple]:
    """The cells (keys of rollup rows) where the incrementally kept run and a full
    recompute disagree: a row in one and not the other, or other numbers. Cells of the
    time-dependent measures and those `skip` names (changes still pending, whose rows
    legitimately differ) are left out."""
    measures = sorted(TIME_DEPENDENT)
    marks = ", ".join(["%s"] * len(measures))
    # Values compared to 9 decimals: the same aggregate over the same rows may sum floats
    # in another order.
    select = f"""SELECT {_KEY}, numerator, denominator, ROUND(CAST(value AS NUMERIC), 9)
        FROM metrics_rollup WHERE run_id = %s AND measure NOT IN ({marks})"""
    found: set[tuple] = set()
    with connection.cursor() as cursor:
        for a, b in ((kept_run_id, full_run_id), (full_run_id, kept_run_id)):
            cursor.execute(
                f"SELECT {_KEY} FROM ({select} EXCEPT {select}) x LIMIT {COMPARED_AT_MOST}",
                [a, *measures, b, *measures],
            )
            found.update(tuple(row) for row in cursor.fetchall())
    out = []
    for key in sorted(found, key=str):
        period_start = key[3]
        if isinstance(period_start, str):
            period_start = date.fromisoformat(period_start)
        cells = [(source, key[2]) for source in engine.measure_cells(key[4])]
        if any(c in skip and (skip[c] is None or period_start in skip[c]) for c in cells):
            continue
        out.append(key)
    return out


def log_disagreements(network_id: int, run_id: int, cells: list[tuple]) -> None:
    """Name the disagreeing cells by scope ids, period, measure and breakdown only (no
    client data exists in a rollup key)."""
    if not cells:
        return
    logger.warning(
        "Rollup run %s of network %s: %s cells differ between the incremental rows and the "
        "full recompute",
        run_id,
        network_id,
        len(cells),
    )
    for partnership, organization, kind, start, measure, breakdown, cell in cells[:LOGGED_AT_MOST]:
        logger.warning(
            "Rollup cell differs: %s %s %s partnership=%s organization=%s breakdown=%s:%s",
            measure,
            kind,
            start,
            partnership,
            organization,
            breakdown,
            cell,
        )
