"""Issue 17, point 5: dashboards that cannot be misread. Small counts of people follow one
rule on a page and its CSV (the summary, funnel, trend and partnership tables too, not only
the breakdowns); a chart marks its suppressed cells instead of drawing empty bars that
read as zero; rates have their own axis; the page opens with a headline a funder reads;
the funnel shows "screened positive"; CSV files are named for what they hold and open in
Excel as UTF-8."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import AHC_NEGATIVE, assessment_for, instrument

from .helpers import clients, referrals, rollup
from .test_pages import _csv, _table

pytestmark = pytest.mark.django_db

PERIOD = "/measures/?kind=month&period=2026-03-01"
FOOD_POSITIVE = {**AHC_NEGATIVE, "123821": ("LA28397-0",), "123822": ("LA28397-0",)}


def _chart(html: str, key: str) -> dict:
    found = re.search(rf'<script id="chart-{key}" type="application/json">(.*?)</script>', html)
    assert found, key
    return json.loads(found.group(1))


def test_small_counts_follow_one_rule_on_the_page_and_its_csv(tenant, login):
    referrals(tenant, clients(tenant, 3))  # three people: too few to show
    rollup(tenant)
    c = login(tenant.backbone_admin)
    html = c.get(PERIOD).content.decode()
    summary = _table(html, "summary")
    assert ["Process", "Referrals sent", "<11", "", ""] in summary
    assert ["Process", "Closed-loop rate", "<11", "<11", "<11"] in summary
    assert not any(cell == "3" for row in summary for cell in row[2:]), summary
    funnel = {r[0]: r[1] for r in _table(html, "funnel")[1:]}
    assert funnel["Unique clients referred"] == "<11"
    # The CSV is the page's table, word for word (and so hides the same cells).
    exported = c.get("/measures/export.csv?table=summary&kind=month&period=2026-03-01")
    assert _csv(exported) == summary


def test_a_count_of_eleven_or_more_shows(tenant, login):
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    html = login(tenant.backbone_admin).get(PERIOD).content.decode()
    assert ["Process", "Referrals sent", "12", "", ""] in _table(html, "summary")


def test_charts_mark_suppressed_cells_and_give_rates_their_own_axis(tenant, login):
    referrals(tenant, clients(tenant, 12, race="2106-3", ethnicity="2186-5"))
    referrals(tenant, clients(tenant, 2, race="2028-9", ethnicity="2186-5"))
    rollup(tenant)
    html = login(tenant.backbone_admin).get(PERIOD).content.decode()
    chart = _chart(html, "disparities-race_ethnicity")
    labels = chart["labels"]
    series = chart["series"][0]
    asian = labels.index("Asian (not Hispanic)")
    assert series["data"][asian] is None
    assert series["suppressed"][asian] in ("<11", "suppressed")
    # A cell that is shown is not marked; a suppressed one never reads as a zero bar.
    white = labels.index("White (not Hispanic)")
    assert series["data"][white] is not None and series["suppressed"][white] == ""
    trend = _chart(html, "trend")
    axes = {s["label"]: s["axis"] for s in trend["series"]}
    assert axes == {
        "Referrals sent": "count",
        "Referrals completed": "count",
        "Closed-loop rate": "rate",
    }


def test_the_page_opens_with_a_headline(tenant, login):
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    html = login(tenant.backbone_admin).get(PERIOD).content.decode()
    block = re.search(r'data-testid="headline">(.*?)</section>', html, re.S)
    assert block
    assert "<strong>12</strong> referrals sent" in block.group(1)
    assert "<strong>100.0%</strong> of referrals closed the loop within 30 days" in block.group(1)
    assert html.index('data-testid="headline"') < html.index('data-table="summary"')


def test_the_funnel_shows_screened_positive_between_screened_and_referred(tenant, login):
    instrument()
    people = clients(tenant, 12)
    for person in people:
        assessment_for(person, organization=tenant.hco, answers=FOOD_POSITIVE)
    rollup(tenant)
    html = login(tenant.backbone_admin).get("/measures/").content.decode()
    steps = [r[0] for r in _table(html, "funnel")[1:]]
    assert steps.index("Clients screened") + 1 == steps.index("Clients screened positive")
    assert steps.index("Clients screened positive") + 1 == steps.index("Unique clients referred")
    funnel = {r[0]: r[1] for r in _table(html, "funnel")[1:]}
    assert funnel["Clients screened positive"] == "12"


def test_csv_is_named_for_what_it_holds_and_starts_with_a_byte_order_mark(tenant, login):
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    exported = login(tenant.backbone_admin).get(
        "/measures/export.csv?table=referrals_declined_by_reason&kind=month&period=2026-03-01"
    )
    assert exported.status_code == 200
    assert exported.content.startswith(b"\xef\xbb\xbf")
    assert exported["Content-Disposition"] == (
        'attachment; filename="linkage-declined-by-reason-marrowdale-network-network-month-'
        '2026-03-01.csv"'
    )
