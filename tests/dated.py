"""Dated runs: the calendar-sensitive tests, run again as if started at awkward moments.

A test marked `calendar` (reminders, digests, rescreening, release expiry, measure periods,
statements) must pass whatever day and hour the suite runs on. `pytest --dated-runs`
runs each such test once per moment below, its clock starting there and running on
(`time_machine.travel(moment, tick=True)`, from before its fixtures are built to after
they are torn down). A test that travels on its own goes where it says; the dated run then
checks that nothing built before it travelled (the fixtures) depends on the real date.

`make test` runs `pytest -m calendar --dated-runs` after the main run; the summary line
"dated runs: N passed" counts the test runs it made, per moment when some failed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

# The deployment's zone (settings.TIME_ZONE); written out so the moments are fixed facts,
# not read from settings that the environment could change.
_CHICAGO = ZoneInfo("America/Chicago")


def _local(text: str, *, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=_CHICAGO, fold=fold)


# id -> the moment a run starts at (local time in America/Chicago).
MOMENTS: dict[str, datetime] = {
    # Five minutes before the working week ends (and before midnight UTC): "two business
    # days later" is Tuesday.
    "friday-1755": _local("2026-12-04 17:55"),
    "saturday": _local("2026-12-05 10:00"),
    # Sunday evening: the UTC date is Monday already.
    "sunday-2030": _local("2026-12-06 20:30"),
    # Thanksgiving, a US federal holiday (a Thursday). Holidays are each network's own
    # (NetworkHoliday): the moment catches code or fixtures that assume a working day.
    "thanksgiving": _local("2026-11-26 09:00"),
    # Spring forward: 02:00 CST becomes 03:00 CDT; this day has 23 hours.
    "dst-start": _local("2026-03-08 01:30"),
    # Fall back: 02:00 CDT becomes 01:00 CST; 01:30 comes twice, this is the first (CDT),
    # and this day has 25 hours.
    "dst-end": _local("2026-11-01 01:30", fold=0),
    # Half an hour before the new year; in UTC it is 1 January already.
    "new-year": _local("2026-12-31 23:30"),
    # A leap day: a year later there is no 29 February.
    "leap-day": _local("2028-02-29 10:00"),
}

_PARAM = "dated_moment"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dated-runs",
        action="store_true",
        default=False,
        help="Run each test marked `calendar` once per fixed awkward moment (tests/dated.py).",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not metafunc.config.getoption("--dated-runs"):
        return
    if metafunc.definition.get_closest_marker("calendar") is None:
        return
    # A parameter no fixture provides: the moment is applied around the whole test by the
    # hook below, before any fixture is built (a fixture would be built after some).
    metafunc.fixturenames.append(_PARAM)
    metafunc.parametrize(_PARAM, list(MOMENTS), ids=[f"at-{m}" for m in MOMENTS])


def _moment_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(_PARAM) if callspec is not None else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    moment = _moment_of(item)
    if moment is None:
        return (yield)
    item.user_properties.append((_PARAM, moment))
    # Ticking: code that waits on the wall clock (a lock timeout, a retry) must not hang.
    with time_machine.travel(MOMENTS[moment], tick=True):
        return (yield)


class _Tally:
    """Counts the dated runs' outcomes (on the xdist controller too: reports carry the
    moment in their user properties)."""

    def __init__(self) -> None:
        self.outcomes: Counter[tuple[str, str]] = Counter()

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        moment = dict(report.user_properties).get(_PARAM)
        if moment is None:
            return
        # The call's outcome; a setup or teardown counts only when it failed (an error) or
        # skipped the test.
        if report.when == "call":
            self.outcomes[(moment, report.outcome)] += 1
        elif report.failed:
            self.outcomes[(moment, "error")] += 1
        elif report.skipped:
            self.outcomes[(moment, "skipped")] += 1

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.outcomes:
            return
        totals: Counter[str] = Counter()
        for (_, outcome), count in self.outcomes.items():
            totals[outcome] += count
        line = ", ".join(f"{n} {outcome}" for outcome, n in sorted(totals.items()))
        terminalreporter.write_sep("=", f"dated runs: {line} ({len(MOMENTS)} moments)")
        if set(totals) - {"passed"}:
            for moment in MOMENTS:
                bad = {o: n for (m, o), n in self.outcomes.items() if m == moment and o != "passed"}
                if bad:
                    terminalreporter.write_line(f"  at {moment} ({MOMENTS[moment]}): {bad}")


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.getoption("--dated-runs"):
        session.config.pluginmanager.register(_Tally(), "dated-tally")
