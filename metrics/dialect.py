"""The few SQL constructs the rollup needs that PostgreSQL and SQLite spell differently.

PostgreSQL is the production database and gets the fast forms (GROUPING SETS, a LATERAL
unpivot, PERCENTILE_CONT). SQLite is the embedded default of `make run` and `make test`:
the same measures, the same rows, computed with forms SQLite has (one GROUP BY per
grouping set, a UNION ALL unpivot, a median aggregate registered on the connection, and
Django's own SQLite functions for time zones). Everything else in the engine's SQL is
written once in the syntax both share (FILTER clauses, CAST, window functions, `->>`).
"""

# Fragments are assembled from this module's constants and column names the engine passes;
# every value is a query parameter.
# ruff: noqa: S608
from __future__ import annotations

import json
import statistics
from datetime import date, datetime

from django.db.backends.base.base import BaseDatabaseWrapper


class Dialect:
    vendor = ""

    def in_list(self, column: str, param: str) -> str:
        """`column` is one of the list parameter's values."""
        raise NotImplementedError

    def json_each(self, column: str) -> str:
        """A table of (key, value) over a JSON object column."""
        raise NotImplementedError

    def json_is_number(self, value: str, key: str) -> str:
        raise NotImplementedError

    def within_days(self, later: str, earlier: str, days: int) -> str:
        """`later` is at most `days` days after `earlier`."""
        raise NotImplementedError

    def days_between(self, later: str, earlier: str) -> str:
        """Fractional days from `earlier` to `later`."""
        raise NotImplementedError

    def median(self, expression: str, where: str) -> str:
        """The median (interpolated, as PERCENTILE_CONT(0.5)) of `expression` over the rows
        where `where` holds."""
        raise NotImplementedError

    def local_date(self, ts: str) -> str:
        """The calendar date of `ts` in the network's time zone (the `tz` parameter)."""
        raise NotImplementedError

    def period_start(self, ts: str) -> str:
        """The first day of the period (`kind` parameter: month or quarter) holding `ts`,
        in the network's time zone."""
        raise NotImplementedError

    def day_period_start(self, day: str) -> str:
        """The first day of the period (`kind` parameter) holding the calendar date `day`
        (a date column: no time zone to convert from)."""
        raise NotImplementedError

    def age_years(self, day: str, dob: str) -> str:
        """Whole years from `dob` to `day` (birthdays counted as people count them)."""
        raise NotImplementedError

    grouping_sets = True
    lateral_unpivot = True

    def params(self, **params) -> dict:
        return params

    def prepare(self, connection: BaseDatabaseWrapper) -> None:
        """Anything the connection needs before the rollup's statements run."""


class PostgreSQL(Dialect):
    vendor = "postgresql"

    def in_list(self, column: str, param: str) -> str:
        return f"{column} = ANY(%({param})s)"

    def json_each(self, column: str) -> str:
        return f"jsonb_each({column})"

    def json_is_number(self, value: str, key: str) -> str:
        return f"jsonb_typeof({value}->'{key}') = 'number'"

    def within_days(self, later: str, earlier: str, days: int) -> str:
        return f"{later} <= {earlier} + INTERVAL '{int(days)} days'"

    def days_between(self, later: str, earlier: str) -> str:
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0"

    def median(self, expression: str, where: str) -> str:
        return f"PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {expression}) FILTER (WHERE {where})"

    def local_date(self, ts: str) -> str:
        return f"({ts} AT TIME ZONE %(tz)s)::date"

    def period_start(self, ts: str) -> str:
        return f"date_trunc(%(kind)s, {ts} AT TIME ZONE %(tz)s)::date"

    def day_period_start(self, day: str) -> str:
        # Truncated as a timestamp without time zone: the session's zone plays no part.
        return f"CAST(date_trunc(%(kind)s, CAST({day} AS TIMESTAMP)) AS DATE)"

    def age_years(self, day: str, dob: str) -> str:
        return f"EXTRACT(YEAR FROM AGE({day}, {dob}))"


class _Median:
    """SQLite aggregate: the median of the non-null values, as PERCENTILE_CONT(0.5)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


class SQLite(Dialect):
    vendor = "sqlite"
    grouping_sets = False
    lateral_unpivot = False

    def in_list(self, column: str, param: str) -> str:
        return f"{column} IN (SELECT value FROM json_each(%({param})s))"

    def json_each(self, column: str) -> str:
        return f"json_each({column})"

    def json_is_number(self, value: str, key: str) -> str:
        return f"json_type({value}, '$.{key}') IN ('integer', 'real')"

    def within_days(self, later: str, earlier: str, days: int) -> str:
        return f"julianday({later}) <= julianday({earlier}) + {int(days)}"

    def days_between(self, later: str, earlier: str) -> str:
        return f"(julianday({later}) - julianday({earlier}))"

    def median(self, expression: str, where: str) -> str:
        return f"linkage_median({expression}) FILTER (WHERE {where})"

    # Django stores datetimes in SQLite as UTC text and registers these functions on every
    # connection (they are what its own __date and Trunc lookups compile to).
    def local_date(self, ts: str) -> str:
        return f"django_datetime_cast_date({ts}, %(tz)s, 'UTC')"

    def period_start(self, ts: str) -> str:
        return f"date(django_datetime_trunc(%(kind)s, {ts}, %(tz)s, 'UTC'))"

    def day_period_start(self, day: str) -> str:
        # Dates are stored as 'YYYY-MM-DD' text; no zones given, none converted.
        return f"django_date_trunc(%(kind)s, {day}, NULL, NULL)"

    def age_years(self, day: str, dob: str) -> str:
        return (
            f"(CAST(strftime('%%Y', {day}) AS INTEGER) - CAST(strftime('%%Y', {dob}) AS INTEGER)"
            f" - (strftime('%%m-%%d', {day}) < strftime('%%m-%%d', {dob})))"
        )

    def params(self, **params) -> dict:
        out = {}
        for key, value in params.items():
            if isinstance(value, list | tuple):
                # Dates (periods) as the 'YYYY-MM-DD' text SQLite's date functions give.
                value = json.dumps(list(value), default=_iso)
            elif isinstance(value, datetime):
                # Compared with stored datetimes, so in the form Django stores them.
                value = _sqlite_datetime(value)
            elif isinstance(value, date):
                value = value.isoformat()
            out[key] = value
        return out

    def prepare(self, connection: BaseDatabaseWrapper) -> None:
        connection.ensure_connection()
        connection.connection.create_aggregate("linkage_median", 1, _Median)


def _iso(value: date) -> str:
    return value.isoformat()


def _sqlite_datetime(value: datetime) -> str:
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(value)


DIALECTS: dict[str, Dialect] = {"postgresql": PostgreSQL(), "sqlite": SQLite()}


def dialect_for(vendor: str) -> Dialect:
    dialect = DIALECTS.get(vendor)
    if dialect is None:
        from django.db import NotSupportedError

        raise NotSupportedError(
            f"Measures are computed in PostgreSQL or SQLite, not {vendor}: "
            "set DATABASE_URL to a PostgreSQL database."
        )
    return dialect
