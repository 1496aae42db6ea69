"""Rollups in SQL: each source's rows are expanded to their scopes (network, each
organization involved, each partnership both sides belong to), grouped by period and
breakdown cell (GROUPING SETS on PostgreSQL), aggregated with the registry's expressions,
unpivoted into one row per measure and inserted — all inside the database, one statement
per (source, period kind). The SQL is written once; dialect.py spells the handful of
constructs PostgreSQL and SQLite (the embedded default) write differently."""

# The SQL is assembled only from this module's and the registry's constant fragments; every
# value (networks, period kind, time zone, now) is a query parameter.
# ruff: noqa: S608
from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from referrals.models import OVERDUE_DEADLINES, Referral

from .dialect import DIALECTS, Dialect, dialect_for
from .models import PeriodKind
from .registry import HRSN_DOMAINS, MEASURES, Measure, domain_column

_CLIENT_COLS = """
    c.date_of_birth AS dob,
    CASE WHEN c.ethnicity = '2135-2' THEN 'hispanic' ELSE c.race END AS race_eth,
    c.preferred_language AS language,
    c.insurance_type AS insurance
"""


def overdue_sql(alias: str, now: str = "%(now)s") -> str:
    """The overdue rule (referrals.models.OVERDUE_DEADLINES, the same table the inbox's
    `Referral.objects.overdue` reads) spelled as a SQL condition on the referral row
    `alias`, with `now` the placeholder of the moment: the measure "Referrals overdue now"
    and the inbox cannot drift apart. Statuses and columns come from code, never input."""
    conditions = []
    for statuses, field in OVERDUE_DEADLINES:
        column = Referral._meta.get_field(field).column
        listed = ", ".join(f"'{s}'" for s in sorted(statuses))
        conditions.append(f"({alias}.status IN ({listed}) AND {alias}.{column} <= {now})")
    return "(" + " OR ".join(conditions) + ")"


_SNS_FLAGS = ("screened", "positive", "intervention")


def _sns(d: Dialect, name: str, domain: str, needs: tuple[str, ...]) -> str:
    """HEDIS SNS-E columns for one domain: screened, positive, and an intervention (a
    referral for the need sent on the day of the positive screen or up to 30 days after)."""
    codes = ", ".join(f"'{c}'" for c in needs)
    status = f"a.domain_results->'{domain}'->>'status'"
    return f"""
        {status} IN ('positive', 'negative') AS {name}_screened,
        {status} = 'positive' AS {name}_positive,
        EXISTS (SELECT 1 FROM referrals_referral r3
                JOIN referrals_referralneed n3 ON n3.referral_id = r3.id
                WHERE r3.client_id = a.client_id AND n3.code IN ({codes})
                  AND r3.status NOT IN ('draft', 'entered-in-error')
                  AND r3.sent_at >= a.completed_at
                  AND {d.within_days("r3.sent_at", "a.completed_at", 30)}) AS {name}_intervention
    """


def _domain_positives() -> str:
    return ",\n".join(
        f"a.domain_results->'{domain}'->>'status' = 'positive' AS {domain_column(domain)}"
        for domain in HRSN_DOMAINS
    )


@dataclass(frozen=True)
class Source:
    key: str
    # SELECT producing network_id, client_id, sender_id, receiver_id, ts, the client columns
    # above, `extra` (the source's own breakdown, or NULL) and the registry's columns.
    sql: str
    extra_breakdown: str = ""
    # The client breakdowns within each cell of the extra breakdown too, as
    # "<extra>.<breakdown>" with cells "<extra cell>:<client cell>": outcome measures are
    # compared by race or language one measure at a time (HbA1c control by race is a
    # disparity; every outcome measure pooled together is not).
    client_breakdowns_per_extra: bool = False
    # The source's column naming the one partnership a row belongs to (an outcome result
    # is its measure's partnership's), instead of every partnership both of its
    # organizations are party to.
    partnership_column: str = ""
    # `ts` is a calendar date (a day observed), not a moment: no time zone conversion.
    ts_is_date: bool = False
    # Rows are referrals, and referrals the backbone routed are counted once (see
    # ROUTED_COLUMNS): the network counts top-level referrals only, and a partnership
    # attributes a routed referral to its sender and the receiver of its latest routed one.
    routed: bool = False


# A referral the backbone routed (referrals/coordination.py) is two rows: the source's
# referral to the backbone (the parent), whose status and outcome follow the routed one,
# and the backbone's referral to the program (the child, part_of the parent). Counted as
# rows, the network would see every routed referral twice (two sent, two completed).
# So: the network scope counts top-level referrals only (part_of IS NULL); each
# organization counts its rows as they are (the clinic its sent parent, the backbone the
# parent it received and the child it sent, the CBO the child it received); and a
# partnership attributes the parent to the pair (its sender, the receiver of its latest
# routed referral not entered in error), so a clinic-CBO partnership sees the referrals
# routed between them, while each child counts for its own pair (backbone, program).
_ROUTED_COLUMNS = """
               r.part_of_id IS NULL AS top_level,
               COALESCE(latest_child.receiver_organization_id, r.receiver_organization_id)
                 AS pair_receiver_id"""
_LATEST_CHILD = """
        LEFT JOIN (SELECT ch.part_of_id, MAX(ch.id) AS child_id FROM referrals_referral ch
                   WHERE ch.part_of_id IS NOT NULL AND ch.status <> 'entered-in-error'
                   GROUP BY ch.part_of_id) children ON children.part_of_id = r.id
        LEFT JOIN referrals_referral latest_child ON latest_child.id = children.child_id"""


def sources(d: Dialect) -> dict[str, Source]:
    """The sources' SQL in the dialect's spelling."""
    return {
        "referral": Source(
            "referral",
            f"""
        SELECT r.network_id, r.client_id, r.sender_organization_id AS sender_id,
               r.receiver_organization_id AS receiver_id, r.sent_at AS ts, {_CLIENT_COLS},
               CAST(NULL AS VARCHAR) AS extra,
               r.status, r.outcome, r.sent_at, r.accepted_at, r.closed_at,
               {overdue_sql("r")} AS overdue,
               EXISTS (SELECT 1 FROM referrals_referralevent e
                       WHERE e.referral_id = r.id AND e.kind = 'contact') AS contacted,
               {_ROUTED_COLUMNS}
        FROM referrals_referral r JOIN clients_client c ON c.id = r.client_id{_LATEST_CHILD}
        WHERE r.sent_at IS NOT NULL AND r.status NOT IN ('draft', 'entered-in-error')
          AND {{network}}
        """.replace("{network}", d.in_list("r.network_id", "networks")),
            routed=True,
        ),
        # Declined referrals by the reason the receiver chose (`extra`); declines from
        # before reasons were coded count as "other". The referral source's rows and
        # scopes, so each scope's reasons add up to its "Referrals declined".
        "decline": Source(
            "decline",
            f"""
        SELECT r.network_id, r.client_id, r.sender_organization_id AS sender_id,
               r.receiver_organization_id AS receiver_id, r.sent_at AS ts, {_CLIENT_COLS},
               COALESCE(NULLIF(r.decline_reason, ''), 'other') AS extra,
               {_ROUTED_COLUMNS}
        FROM referrals_referral r JOIN clients_client c ON c.id = r.client_id{_LATEST_CHILD}
        WHERE r.sent_at IS NOT NULL AND r.status = 'rejected'
          AND {d.in_list("r.network_id", "networks")}
        """,
            extra_breakdown="decline_reason",
            routed=True,
        ),
        "contact": Source(
            "contact",
            f"""
        SELECT r.network_id, r.client_id, r.sender_organization_id AS sender_id,
               r.receiver_organization_id AS receiver_id, e.occurred_at AS ts, {_CLIENT_COLS},
               e.contact_type AS extra
        FROM referrals_referralevent e
        JOIN referrals_referral r ON r.id = e.referral_id
        JOIN clients_client c ON c.id = r.client_id
        WHERE e.kind = 'contact' AND r.status <> 'entered-in-error'
          AND {d.in_list("r.network_id", "networks")}
        """,
            extra_breakdown="contact_type",
        ),
        "screening": Source(
            "screening",
            f"""
        SELECT o.network_id, a.client_id, a.organization_id AS sender_id,
               a.organization_id AS receiver_id, a.completed_at AS ts, {_CLIENT_COLS},
               CAST(NULL AS VARCHAR) AS extra,
               (SELECT COUNT(*) FROM assessments_need n WHERE n.assessment_id = a.id)
                 AS positive_domains
        FROM assessments_assessment a
        JOIN assessments_instrument i ON i.id = a.instrument_id
        JOIN organizations_organization o ON o.id = a.organization_id
        JOIN clients_client c ON c.id = a.client_id
        WHERE a.status = 'completed' AND i.kind = 'screening'
          AND {d.in_list("o.network_id", "networks")}
        """,
        ),
        "need": Source(
            "need",
            f"""
        SELECT o.network_id, a.client_id, a.organization_id AS sender_id,
               a.organization_id AS receiver_id, a.completed_at AS ts, {_CLIENT_COLS},
               n.category AS extra
        FROM assessments_need n
        JOIN assessments_assessment a ON a.id = n.assessment_id
        JOIN assessments_instrument i ON i.id = a.instrument_id
        JOIN organizations_organization o ON o.id = a.organization_id
        JOIN clients_client c ON c.id = a.client_id
        WHERE a.status = 'completed' AND i.kind = 'screening'
          AND {d.in_list("o.network_id", "networks")}
        """,
            extra_breakdown="sdoh_category",
        ),
        # Self-Sufficiency Matrix: each client's first and latest completed matrix (two or
        # more), dated and attributed by the latest.
        "ssm": Source(
            "ssm",
            f"""
        SELECT o.network_id, x.client_id, x.organization_id AS sender_id,
               x.organization_id AS receiver_id, x.completed_at AS ts, {_CLIENT_COLS},
               CAST(NULL AS VARCHAR) AS extra, x.first_total, x.latest_total
        FROM (
            SELECT t.client_id, t.organization_id, t.completed_at, t.total AS latest_total,
                   FIRST_VALUE(t.total) OVER (
                       PARTITION BY t.client_id ORDER BY t.completed_at, t.id
                   ) AS first_total,
                   ROW_NUMBER() OVER (
                       PARTITION BY t.client_id ORDER BY t.completed_at DESC, t.id DESC
                   ) AS latest_first,
                   COUNT(*) OVER (PARTITION BY t.client_id) AS taken
            FROM (
                SELECT a.id, a.client_id, a.organization_id, a.completed_at,
                       (SELECT COALESCE(SUM(CAST(dr.value->>'score' AS NUMERIC)), 0)
                        FROM {d.json_each("a.domain_results")} dr
                        WHERE {d.json_is_number("dr.value", "score")}) AS total
                FROM assessments_assessment a
                JOIN assessments_instrument i ON i.id = a.instrument_id
                WHERE a.status = 'completed' AND i.kind = 'matrix'
            ) t
        ) x
        JOIN organizations_organization o ON o.id = x.organization_id
        JOIN clients_client c ON c.id = x.client_id
        WHERE x.latest_first = 1 AND x.taken >= 2 AND {d.in_list("o.network_id", "networks")}
        """,
        ),
        # Outcome results the partnerships' organizations reported, by the day observed;
        # `extra` is the outcome measure, and each result belongs to its measure's
        # partnership only.
        "outcome": Source(
            "outcome",
            f"""
        SELECT p.network_id, res.client_id, res.organization_id AS sender_id,
               res.organization_id AS receiver_id, res.observed_on AS ts, {_CLIENT_COLS},
               CAST(res.measure_id AS VARCHAR(20)) AS extra,
               m.partnership_id AS own_partnership_id,
               CASE m.goal WHEN 'below' THEN res.value < m.threshold
                           WHEN 'at-most' THEN res.value <= m.threshold
                           WHEN 'at-least' THEN res.value >= m.threshold
                           ELSE res.value > m.threshold END AS goal_met
        FROM metrics_outcomeresult res
        JOIN metrics_outcomemeasure m ON m.id = res.measure_id
        JOIN organizations_partnership p ON p.id = m.partnership_id
        JOIN clients_client c ON c.id = res.client_id
        WHERE res.entered_in_error_at IS NULL AND {d.in_list("p.network_id", "networks")}
        """,
            extra_breakdown="outcome",
            client_breakdowns_per_extra=True,
            partnership_column="own_partnership_id",
            ts_is_date=True,
        ),
        # SDOH-1/-2: everyone seen (screened, or referred) is in the denominator's pool.
        "national": Source(
            "national",
            f"""{_national_screenings(d)}
        UNION ALL{_national_referrals(d)}""",
        ),
        # The national measures a contact can move (those reading `connected60`) over the
        # screening rows alone: see PARTS.
        NATIONAL_CONNECTED: Source(NATIONAL_CONNECTED, _national_screenings(d)),
    }


def _national_screenings(d: Dialect) -> str:
    """The national source's screening rows."""
    return f"""
        SELECT o.network_id, a.client_id, a.organization_id AS sender_id,
               a.organization_id AS receiver_id, a.completed_at AS ts, {_CLIENT_COLS},
               CAST(NULL AS VARCHAR) AS extra,
               (SELECT COUNT(*) FROM {d.json_each("a.domain_results")} dr
                WHERE {d.in_list("dr.key", "hrsn")}
                  AND dr.value->>'status' IN ('positive', 'negative')) = 5 AS all_five,
               EXISTS (SELECT 1 FROM {d.json_each("a.domain_results")} dr
                       WHERE {d.in_list("dr.key", "hrsn")} AND dr.value->>'status' = 'positive')
                 AS any_positive,
               EXISTS (SELECT 1 FROM referrals_referral r2
                       JOIN organizations_organization ro ON ro.id = r2.receiver_organization_id
                       JOIN referrals_referralevent e2 ON e2.referral_id = r2.id
                       WHERE r2.client_id = a.client_id AND ro.kind = 'cbo'
                         AND r2.status <> 'entered-in-error'
                         AND e2.kind = 'contact' AND e2.occurred_at >= a.completed_at
                         AND {d.within_days("e2.occurred_at", "a.completed_at", 60)})
                 AS connected60,
               {_sns(d, "food", "food", ("food-insecurity",))},
               {
        _sns(
            d,
            "housing",
            "living-situation",
            ("housing-instability", "homelessness", "inadequate-housing"),
        )
    },
               {_sns(d, "transport", "transportation", ("transportation-insecurity",))},
               {_domain_positives()}
        FROM assessments_assessment a
        JOIN assessments_instrument i ON i.id = a.instrument_id
        JOIN organizations_organization o ON o.id = a.organization_id
        JOIN clients_client c ON c.id = a.client_id
        WHERE a.status = 'completed' AND i.kind = 'screening'
          AND {d.in_list("o.network_id", "networks")}"""


def _national_referrals(d: Dialect) -> str:
    """The national source's referral rows: seen, every flag of _NATIONAL_FLAGS false."""
    return f"""
        SELECT r.network_id, r.client_id, r.sender_organization_id, r.receiver_organization_id,
               r.sent_at, {_CLIENT_COLS}, CAST(NULL AS VARCHAR), FALSE, FALSE, FALSE,
               FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE,
               {", ".join("FALSE" for _ in HRSN_DOMAINS)}
        FROM referrals_referral r JOIN clients_client c ON c.id = r.client_id
        WHERE r.sent_at IS NOT NULL AND r.status NOT IN ('draft', 'entered-in-error')
          AND {d.in_list("r.network_id", "networks")}"""


# The national source's columns its referral rows set false (_national_referrals).
_NATIONAL_FLAGS = frozenset(
    {
        "all_five",
        "any_positive",
        "connected60",
        *(f"{k}_{f}" for k in ("food", "housing", "transport") for f in _SNS_FLAGS),
        *(domain_column(domain) for domain in HRSN_DOMAINS),
    }
)

# Parts of a source: some of its measures over some of its rows, recomputed alone for a
# change that can move nothing else (metrics/incremental.py). A contact moves, in the
# national source, only whether its client's screenings up to 60 days before count as
# connected (`connected60`): the measures reading that column, whose every aggregate
# counts only rows with a flag the referral rows set false (checked in _part_measures),
# so the screening rows alone give them. At 1,000,000 referrals that is about a tenth of
# the source's rows, and the contact-driven cells were most of an incremental run's time
# (bench/bench_rollup.py).
NATIONAL_CONNECTED = "national_connected"
# The national measures' SQL is the same in both dialects: read in one for the check.
_CHECK_DIALECT = DIALECTS["postgresql"]
PARTS: dict[str, tuple[str, str]] = {NATIONAL_CONNECTED: ("national", "connected60")}


def _part_measures(part: str) -> list[Measure]:
    """The measures of a part: those of its source whose SQL reads the part's column.
    Each of their aggregates must filter on a column the rows left out set false."""
    source, column = PARTS[part]
    out = []
    for m in MEASURES:
        parts = [m.sql(p, _CHECK_DIALECT) for p in ("numerator", "denominator", "value")]
        if m.source != source or not any(re.search(rf"\b{column}\b", p) for p in parts):
            continue
        for sql in filter(None, parts):
            found = re.fullmatch(r"COUNT\((?:\*|DISTINCT client_id)\) FILTER \(WHERE (.*)\)", sql)
            terms = set(found.group(1).split(" AND ")) if found else set()
            if not terms & _NATIONAL_FLAGS or " OR " in found.group(1):
                raise ValueError(
                    f"{m.key} ({sql}) may count the {source} rows {part} leaves out: "
                    "compute it with the whole source."
                )
        out.append(m)
    return out


def _measures_of(key: str) -> list[Measure]:
    """The measures a source's (or a part's) statement writes."""
    if key in PARTS:
        return _part_measures(key)
    return [m for m in MEASURES if m.source == key]


CLIENT_BREAKDOWNS = ("race_ethnicity", "language", "insurance", "age_band")
_BREAKDOWN_COLUMN = {
    "race_ethnicity": "race_eth",
    "language": "language",
    "insurance": "insurance",
    "age_band": "age_band",
}


def _statement(
    d: Dialect, source: Source, measures: list[Measure], in_periods: bool = False
) -> str:
    aggs = []
    for i, m in enumerate(measures):
        numerator, denominator = m.sql("numerator", d), m.sql("denominator", d)
        aggs.append(f"({numerator}) AS n{i}")
        aggs.append(f"({denominator}) AS d{i}" if denominator else f"CAST(NULL AS BIGINT) AS d{i}")
        if m.value:
            value = f"CAST(({m.sql('value', d)}) AS DOUBLE PRECISION)"
        elif denominator:
            value = f"(CAST(({numerator}) AS DOUBLE PRECISION) / NULLIF(({denominator}), 0))"
        else:
            value = f"CAST(({numerator}) AS DOUBLE PRECISION)"
        aggs.append(f"{value} AS v{i}")
    client_based = any(m.client_based for m in measures)
    # (breakdown name, the column it groups by); the empty set is the totals.
    sets: list[tuple[str, str]] = [("", "")]
    if client_based:
        sets += [(name, _BREAKDOWN_COLUMN[name]) for name in CLIENT_BREAKDOWNS]
    # Client cells within each extra cell, as columns of `b` (below).
    per_extra = []
    if source.extra_breakdown:
        sets.append((source.extra_breakdown, "extra"))
        if source.client_breakdowns_per_extra:
            per_extra = [(name, _BREAKDOWN_COLUMN[name]) for name in CLIENT_BREAKDOWNS]
            sets += [
                (f"{source.extra_breakdown}.{name}", f"extra_{col}") for name, col in per_extra
            ]
    agg_sql = ", ".join(aggs)
    keys = "period_start, network_id, partnership_id, organization_id"
    if d.grouping_sets:
        labels = [f"WHEN GROUPING({col}) = 0 THEN '{name}'" for name, col in sets[1:]]
        breakdown = f"CASE {' '.join(labels)} ELSE '' END" if labels else "''"
        cell = "COALESCE(" + ", ".join([*(col for _, col in sets[1:]), "''"]) + ")"
        grouped = ", ".join(f"({col})" for _, col in sets)
        agg = f"""
        SELECT {keys}, {breakdown} AS breakdown, {cell} AS cell, {agg_sql}
        FROM scoped
        GROUP BY {keys}, GROUPING SETS ({grouped})"""
    else:
        agg = "\n        UNION ALL".join(
            f"""
        SELECT {keys}, '{name}' AS breakdown, COALESCE({col or "''"}, '') AS cell, {agg_sql}
        FROM scoped
        GROUP BY {keys}{", " + col if col else ""}"""
            for name, col in sets
        )
    columns = "run_id, network_id, partnership_id, organization_id, period_kind, period_start, "
    columns += "measure, breakdown, breakdown_value, numerator, denominator, value, computed_at"
    head = "%(run)s, agg.network_id, agg.partnership_id, agg.organization_id, %(kind)s, "
    head += "agg.period_start"
    if d.lateral_unpivot:
        values_sql = ", ".join(
            f"('{m.key}', agg.n{i}, agg.d{i}, agg.v{i})" for i, m in enumerate(measures)
        )
        unpivot = f"""
    SELECT {head}, v.measure, agg.breakdown, agg.cell, v.num, v.den, v.val, %(now)s
    FROM agg CROSS JOIN LATERAL (VALUES {values_sql}) AS v(measure, num, den, val)
    -- Zeros are not stored: a missing row reads as 0 (and a rate over nothing as none).
    WHERE v.num <> 0 OR COALESCE(v.den, 0) <> 0"""
    else:
        unpivot = "\n    UNION ALL".join(
            f"""
    SELECT {head}, '{m.key}', agg.breakdown, agg.cell, agg.n{i}, agg.d{i}, agg.v{i}, %(now)s
    FROM agg WHERE agg.n{i} <> 0 OR COALESCE(agg.d{i}, 0) <> 0"""
            for i, m in enumerate(measures)
        )
    if source.ts_is_date:
        local_day, start = "ts", d.day_period_start("ts")
    else:
        local_day, start = d.local_date("ts"), d.period_start("ts")
    age = d.age_years(local_day, "dob")
    # Only some periods (the incremental rollup's cells): the range on the raw `ts` is
    # what the planner can push into the source's scan; the list keeps exactly the periods.
    where = ""
    if in_periods:
        where = f"""
        WHERE base.ts >= %(since)s AND base.ts < %(until)s
          AND {d.in_list(start, "periods")}"""
    banded = f"""
        SELECT base.*,
               {start} AS period_start,
               CASE WHEN {age} < 18 THEN '0-17'
                    WHEN {age} < 65 THEN '18-64'
                    ELSE '65+' END AS age_band,
               {age} >= 18 AS adult
        FROM base{where}"""
    if per_extra:
        # One more step, since the age band is only known here. `b` is read four times
        # below and materialized on PostgreSQL either way; this CTE is inlined into it.
        combined = ", ".join(f"b0.extra || ':' || b0.{col} AS extra_{col}" for _, col in per_extra)
        banded = f"""
        SELECT b0.*, {combined}
        FROM ({banded}
        ) b0"""
    if source.partnership_column:
        partnerships = f"""
        SELECT b.*, b.{source.partnership_column}, NULL, TRUE, TRUE
        FROM b WHERE b.{source.partnership_column} IS NOT NULL"""
    else:
        # A routed referral's partnership pair is (its sender, its latest routed
        # receiver): see _ROUTED_COLUMNS.
        receiver = "b.pair_receiver_id" if source.routed else "b.receiver_id"
        partnerships = f"""
        SELECT b.*, p1.partnership_id, NULL, TRUE, TRUE
        FROM b
        JOIN organizations_partnership_organizations p1 ON p1.organization_id = b.sender_id
        JOIN organizations_partnership_organizations p2
          ON p2.partnership_id = p1.partnership_id AND p2.organization_id = {receiver}"""
    # The network counts each routed referral once: its top-level row.
    network_rows = "FROM b WHERE b.top_level" if source.routed else "FROM b"
    return f"""
    WITH base AS ({source.sql}),
    b AS ({banded}
    ),
    scoped AS (
        SELECT b.*, CAST(NULL AS BIGINT) AS partnership_id, CAST(NULL AS BIGINT) AS organization_id,
               TRUE AS as_sender, TRUE AS as_receiver
        {network_rows}
        UNION ALL
        SELECT b.*, NULL, b.sender_id, TRUE, b.receiver_id = b.sender_id
        FROM b WHERE b.sender_id IS NOT NULL
        UNION ALL
        SELECT b.*, NULL, b.receiver_id, FALSE, TRUE
        FROM b WHERE b.receiver_id IS DISTINCT FROM b.sender_id
        UNION ALL{partnerships}
    ),
    agg AS ({agg}
    )
    INSERT INTO metrics_rollup ({columns}){unpivot}
    """


def dialect() -> Dialect:
    """The dialect of the default database connection."""
    return dialect_for(connection.vendor)


def statements(
    d: Dialect | None = None, only: Collection[str] | None = None, in_periods: bool = False
) -> list[tuple[str, str]]:
    """(source key, SQL) for every source that has measures (or for the sources `only`
    names). `in_periods`: the statements take `periods` (the first days of the periods to
    compute), `since` and `until` (the moments, or days, those periods span)."""
    d = d or dialect()
    out = []
    for key, source in sources(d).items():
        # A part's measures are its source's: written by it, unless the part is named.
        if (key not in only) if only is not None else key in PARTS:
            continue
        measures = _measures_of(key)
        if measures:
            out.append((key, _statement(d, source, measures, in_periods)))
    return out


def source_measures(source: str) -> list[str]:
    """The keys of the measures a source's (or a part's, PARTS) statement writes."""
    return [m.key for m in _measures_of(source)]


def measure_source(measure: str) -> str:
    """The source a measure is computed from."""
    return _SOURCE_OF[measure]


def measure_cells(measure: str) -> list[str]:
    """The source and the parts whose statements write a measure (the keys of the
    incremental rollup's cells holding its rows)."""
    source = _SOURCE_OF[measure]
    return [source, *(p for p, (s, _) in PARTS.items() if s == source and measure in _PART_OF[p])]


_SOURCE_OF = {m.key: m.source for m in MEASURES}
# Computed (and checked) once, at import.
_PART_OF = {part: {m.key for m in _part_measures(part)} for part in PARTS}


def period_start(day: date, kind: str) -> date:
    """The first day of the period (month or quarter) holding a local day, as the SQL
    computes it (dialect.period_start)."""
    if kind == PeriodKind.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def period_end(start: date, kind: str) -> date:
    """The first day after the period starting on `start`."""
    months = 3 if kind == PeriodKind.QUARTER else 1
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def _span(source: Source, kind: str, periods: Collection[date]) -> dict:
    """The `since` and `until` parameters covering the periods: days for a source dated by
    days, else the local midnights (in the networks' time zone) that bound them."""
    since, until = min(periods), period_end(max(periods), kind)
    if source.ts_is_date:
        return {"since": since, "until": until}
    zone = ZoneInfo(settings.TIME_ZONE)
    return {
        "since": datetime.combine(since, time(), zone),
        "until": datetime.combine(until, time(), zone),
    }


# (source key, period kind) -> the first days of the periods to recompute, or None for all.
Cells = Mapping[tuple[str, str], Collection[date] | None]


def recompute_cells(network_id: int, *, run_id: int, now: datetime, cells: Cells) -> int:
    """Write the rows of these (source, period kind, period) cells of one network as rows
    of the run (the caller has deleted the cells' old rows, in the same transaction);
    returns the number of rows written. The same statements as `recompute`, restricted to
    the periods."""
    d = dialect()
    d.prepare(connection)
    all_sources = sources(d)
    whole = dict(statements(d, {s for (s, _), p in cells.items() if p is None}))
    some = dict(statements(d, {s for (s, _), p in cells.items() if p}, in_periods=True))
    written = 0
    with connection.cursor() as cursor:
        for (source, kind), periods in sorted(cells.items()):
            if periods is None:
                sql, extra = whole.get(source), {}
            elif periods:
                sql = some.get(source)
                extra = {"periods": sorted(periods), **_span(all_sources[source], kind, periods)}
            else:
                continue
            if sql is None:
                continue
            cursor.execute(
                sql,
                statement_params(d, networks=[network_id], run=run_id, kind=kind, now=now, **extra),
            )
            written += max(cursor.rowcount, 0)
    return written


def statement_params(d: Dialect, **params) -> dict:
    """The parameters of a rollup statement, in the form the dialect binds them."""
    return d.params(hrsn=list(HRSN_DOMAINS), tz=settings.TIME_ZONE, **params)


def recompute(
    network_ids: list[int],
    *,
    run_id: int,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    only: Collection[str] | None = None,
) -> int:
    """Write the rollups of these networks as rows of the run; returns the number of rows
    written. `only` limits the run to some sources (the property tests check one source
    at a time)."""
    d = dialect()
    d.prepare(connection)
    steps = [(kind, sql) for kind in PeriodKind.values for _, sql in statements(d, only)]
    written = 0
    with connection.cursor() as cursor:
        for done, (kind, sql) in enumerate(steps, start=1):
            cursor.execute(
                sql,
                statement_params(d, networks=list(network_ids), run=run_id, kind=kind, now=now),
            )
            written += max(cursor.rowcount, 0)
            if progress:
                progress(int(done * 100 / len(steps)))
    return written
