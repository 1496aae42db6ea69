"""Small-cell suppression: no suppressed value can be worked out from what is shown — the
cells shown, the total beside them and what the labels say — neither in the page nor in
the CSV."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.suppression import Cell, suppress
from tests.metrics.helpers import clients, referrals, rollup
from tests.metrics.test_pages import _table

T = 11


def _possible(shown: list[str], total: int) -> list[set[int]]:
    """For each hidden cell, every value consistent with the shown cells, the total and the
    labels ("<11": 1 to 10, since 0 shows as 0; "suppressed": anything), by brute force."""
    hidden = [i for i, s in enumerate(shown) if not s.isdigit()]
    rest = total - sum(int(s) for s in shown if s.isdigit())
    ranges = [range(1, T) if shown[i] == f"<{T}" else range(0, rest + 1) for i in hidden]
    found = [set() for _ in hidden]
    for combo in itertools.product(*ranges):
        if sum(combo) == rest:
            for k, v in enumerate(combo):
                found[k].add(v)
    return found


def _shown(cells: list[Cell]) -> list[str]:
    return [
        f"<{T}" if c.suppressed == "primary" else "suppressed" if c.suppressed else str(c.numerator)
        for c in cells
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 14), min_size=1, max_size=5))
def test_no_suppressed_count_is_recoverable(values):
    cells = [Cell(str(i), v) for i, v in enumerate(values)]
    total_hidden = suppress(cells, T)
    shown = _shown(cells)
    for c, text in zip(cells, shown, strict=False):
        if 0 < c.numerator < T:
            assert text != str(c.numerator)  # every small count is hidden
    if total_hidden:
        # Nothing to subtract from; and only when hiding every cell could not help.
        assert all(c.suppressed for c in cells)
    elif any(not s.isdigit() for s in shown):
        for options in _possible(shown, sum(values)):
            assert len(options) >= 2, (values, shown)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), min_size=1, max_size=4))
def test_rates_hide_small_denominators_too(pairs):
    pairs = [(min(n, d), d) for n, d in pairs]
    cells = [Cell(str(i), n, d, n / d if d else None) for i, (n, d) in enumerate(pairs)]
    suppress(cells)
    for c in cells:
        if 0 < c.denominator < T or 0 < c.numerator < T:
            assert c.suppressed
    hidden = [i for i, c in enumerate(cells) if c.suppressed]
    if len(hidden) == 1:
        only = hidden[0]
        # A single hidden cell is allowed only when nothing else could be hidden with it.
        assert len(cells) == 1 or all(c.suppressed for i, c in enumerate(cells) if i != only)


def test_single_small_cell_gets_a_complement():
    cells = [Cell("a", 40), Cell("b", 3), Cell("c", 25), Cell("d", 0)]
    assert suppress(cells, T) is False
    # 68 - 40 - 25 - 0 would give the 3 away: the smallest other cell (the 0) is hidden too.
    assert [c.suppressed for c in cells] == ["", "primary", "", "complementary"]


@pytest.mark.django_db
def test_page_and_csv_do_not_reveal_small_cells(tenant, login):
    # 14 white, 3 Black, 12 Asian clients (none Hispanic): Black is small, and the total
    # (29) minus the others would give it away, so a complementary cell goes too.
    people = (
        clients(tenant, 14, race="2106-3", ethnicity="2186-5")
        + clients(tenant, 3, race="2054-5", ethnicity="2186-5")
        + clients(tenant, 12, race="2028-9", ethnicity="2186-5")
    )
    referrals(tenant, people)
    rollup(tenant)
    c = login(tenant.backbone_admin)
    query = "kind=month&period=2026-03-01&breakdown=race_ethnicity"
    html = c.get(f"/measures/?{query}").content.decode()
    table = _table(html, "disparities-race_ethnicity")
    header, sent = table[0], next(r for r in table if r[0] == "Referrals sent")
    row = dict(zip(header, sent, strict=False))
    assert row["All clients"] == "29"
    assert row["Black or African American (not Hispanic)"] == "<11"
    assert row["White (not Hispanic)"] == "14"
    assert row["Asian (not Hispanic)"] == "12"
    numbers = [int(v) for v in sent[2:] if v.isdigit()]
    hidden = [v for v in sent[2:] if not v.isdigit()]
    assert len(hidden) >= 2 and sum(numbers) == 26  # 29 - 26 = 3 split over 2+ hidden cells
    exported = c.get(f"/measures/export.csv?table=disparities-race_ethnicity&{query}")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows == table
    assert ",3," not in exported.content.decode()


def test_complement_protects_the_results_missing_a_goal_too():
    # 20 of 24 meeting a goal tells that 4 missed it: with complement, that cell is hidden
    # (and, being the only one, another one with it).
    def cells():
        return [Cell("a", 20, 24, 20 / 24), Cell("b", 30, 30, 1.0), Cell("c", 15, 40, 15 / 40)]

    plain = cells()
    suppress(plain, T)
    assert not any(c.suppressed for c in plain)
    guarded = cells()
    suppress(guarded, T, complement=True)
    assert guarded[0].suppressed == "primary"
    assert sum(1 for c in guarded if c.suppressed) >= 2
