"""The access log and network activity pages on a phone, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.audit.util import make_event
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, give_totp, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_admin(page, user) -> None:
    device = give_totp(user)
    sign_in(page, user.email, PASSWORD)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()


def test_org_admin_filters_the_access_log_on_a_phone(page, tenant):
    make_event(
        organization=tenant.hco,
        actor=tenant.hco_navigator,
        action="view",
        object_ids=[tenant.client.pk],
        client_ids=[tenant.client.pk],
        request_id="req-browser-view-01",
        detail={"categories": ["demographics"]},
    )
    make_event(
        organization=tenant.hco,
        actor=tenant.hco_staff,
        action="update",
        object_ids=[tenant.client.pk],
        client_ids=[tenant.client.pk],
        request_id="req-browser-update-02",
        detail={"fields": ["phone"]},
    )
    sign_in_admin(page, tenant.hco_admin)
    page.get_by_role("link", name="Access log").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Access log")
    expect(page.get_by_text("req-browser-view-01")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Action").select_option(label="Changed")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("req-browser-update-02")).to_be_visible()
    expect(page.get_by_text("req-browser-view-01")).to_have_count(0)
    # The wide table scrolls inside its own box; the page itself does not.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("From").fill("2026-03-09")
    page.get_by_label("To").fill("2026-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The end date must be on or after the start date.")).to_be_visible()
    expect(page.get_by_text("Fix the filters above to see events.")).to_be_visible()
    assert_accessible(page)


def test_backbone_admin_reads_network_activity_on_a_phone(page, tenant):
    make_event(organization=tenant.hco, actor=tenant.hco_navigator, action="view")
    make_event(organization=tenant.cbo, actor=tenant.cbo_staff, action="update")
    sign_in_admin(page, tenant.backbone_admin)
    page.get_by_role("link", name="Network activity").click()
    expect(page.get_by_test_id("grand-total")).to_have_text("2")
    expect(page.get_by_role("rowheader", name=tenant.hco.name)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
