"""A backbone admin on the demo network's measures: refresh with progress, every chart
drawn from its table, switching partnership and period, and a CSV matching the table."""

from __future__ import annotations

import csv
import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from demo import network as demo
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "backbone.admin@demo.linkage.test"


def _table(page, key: str) -> list[list[str]]:
    return page.eval_on_selector(
        f'table[data-table="{key}"]',
        "t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.trim()))",
    )


def test_backbone_admin_dashboard_on_the_demo_network(
    demo_network, new_context, django_capture_on_commit_callbacks
):
    page = new_context().new_page()
    sign_in(page, ADMIN, demo.DEMO_PASSWORD)
    device = TOTPDevice.objects.get(user__email=ADMIN)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()

    page.get_by_role("link", name="Measures").click()
    expect(page.get_by_text("No measures have been computed")).to_be_visible()
    page.get_by_role("button", name="Refresh measures now").click()
    # The run finishes and the page shows the new figures by itself (no manual reload).
    expect(page.get_by_text("Measures computed")).to_be_visible(timeout=15_000)
    expect(page.locator("table[data-table]").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Measures as of")).to_be_visible()

    expect(page.get_by_role("heading", name=re.compile("Measures: Riverbend"))).to_be_visible()
    # Every chart is drawn and every table shows something other than zeros and dashes.
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() >= 6
    for i in range(canvases.count()):
        expect(canvases.nth(i)).to_have_attribute("data-drawn", "true")
    # Suppressed cells are drawn as marked cells, each chart as many as its data hides.
    marked = page.eval_on_selector_all(
        "canvas[data-chart]", "cs => cs.map(c => +c.dataset.suppressedMarked)"
    )
    hidden = page.eval_on_selector_all(
        "canvas[data-chart]",
        "cs => cs.map(c => JSON.parse(document.getElementById(c.dataset.chart).textContent)"
        ".series.reduce((n, s) => n + (s.suppressed || []).filter(Boolean).length, 0))",
    )
    assert marked == hidden and sum(marked) > 0, (marked, hidden)
    # The trend's closed-loop rate has its own axis, in percent.
    assert (
        page.evaluate(
            "document.querySelector('canvas[data-chart=\"chart-trend\"]').chart.options.scales.rate.max"
        )
        == 100
    )
    expect(page.get_by_test_id("headline")).to_be_visible()
    for key in page.eval_on_selector_all("table[data-table]", "ts => ts.map(t => t.dataset.table)"):
        rows = _table(page, key)[1:]
        numbers = [c for r in rows for c in r[1:] if re.fullmatch(r"[\d.,$%]+", c)]
        assert any(re.search(r"[1-9]", n) for n in numbers), (key, rows)
    assert_accessible(page)

    # Switch to a partnership and an earlier period.
    page.locator("#pick-partnership").select_option(
        label="Eastside Clinic + Food Bank: Food as Medicine"
    )
    periods = page.locator("#pick-period option")
    assert periods.count() >= 3
    earlier = periods.nth(2).get_attribute("value")
    page.locator("#pick-period").select_option(earlier)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page).to_have_url(re.compile(rf"partnership=\d+.*period={earlier}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Food as Medicine")

    shown = _table(page, "summary")
    with page.expect_download() as download:
        page.get_by_test_id("csv-summary").click()
    # Named for what it holds, and opening in Excel as UTF-8 (a byte-order mark first).
    assert re.fullmatch(
        r"linkage-measures-[a-z0-9-]+-(month|quarter)-\d{4}-\d{2}-\d{2}\.csv",
        download.value.suggested_filename,
    ), download.value.suggested_filename
    with open(download.value.path(), "rb") as f:
        assert f.read(3) == b"\xef\xbb\xbf"
    with open(download.value.path(), encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows == shown
    assert any(r[1] == "Referrals sent" and r[2] != "0" for r in rows[1:]), rows
