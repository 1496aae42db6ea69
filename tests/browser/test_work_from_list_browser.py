"""Issue 17, points 3 and 4, in a real browser at phone size: the inbox shows when each
referral must be answered, most overdue first; a new referral is accepted from its row —
assigned to whoever accepted it — in two page loads (the inbox, then the inbox again
after the answer), and another is declined from its row with a coded reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, ClientFactory, ProgramFactory, release_for
from tests.referrals.test_pages_lists import referral

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accept_and_decline_from_the_inbox_rows(page, tenant):
    pantry = ProgramFactory(organization=tenant.cbo, name="Pantry")
    now = timezone.now()
    late = referral(
        tenant,
        pantry,
        status="requested",
        created_at=now - timedelta(days=30),
        ack_due_at=now - timedelta(days=28),
    )
    fresh_client = ClientFactory(
        created_by_organization=tenant.hco, created_by=tenant.hco_navigator
    )
    release_for(
        fresh_client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=tenant.hco_navigator,
    )
    new = referral(
        tenant,
        pantry,
        client=fresh_client,
        status="requested",
        created_at=now,
        ack_due_at=now + timedelta(days=2),
    )

    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()
    page.wait_for_load_state()
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    page.goto("/referrals/inbox/")
    rows = page.get_by_test_id("referral-row")
    # The month-old unanswered referral is on top, marked, with its deadline.
    expect(rows.first).to_have_attribute("data-referral-id", str(late.pk))
    expect(rows.first.get_by_test_id("deadline")).to_contain_text("Respond by")
    expect(rows.first.get_by_test_id("deadline")).to_contain_text("overdue")
    assert_accessible(page)

    # The top row's answer is on the first screen of a phone, touch-sized.
    box = rows.first.get_by_test_id("row-accept").bounding_box()
    page.screenshot(path="/tmp/inbox-phone.png", full_page=True)
    assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"], box
    assert box["height"] >= 44, box

    # Accept the new one from its row: one tap.
    row = page.locator(f'[data-referral-id="{new.pk}"]')
    row.get_by_test_id("row-accept").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Referral #{new.pk} is now accepted, assigned to you."
    )
    print(f"accept a new referral: {len(loads)} page loads")
    assert len(loads) <= 2, loads
    taken = Referral.objects.get(pk=new.pk)
    assert (taken.status, taken.assigned_to_id) == ("accepted", tenant.cbo_staff.pk)

    # Decline the late one from its row: a reason must be chosen.
    row = page.locator(f'[data-referral-id="{late.pk}"]')
    row.get_by_role("button", name=f"Decline referral #{late.pk}").click()
    row.get_by_test_id("row-decline-reason").select_option("no-capacity")
    row.get_by_test_id("row-decline-confirm").click()
    expect(page.locator(".messages")).to_contain_text(f"Referral #{late.pk} is now declined")
    assert Referral.objects.get(pk=late.pk).decline_reason == "no-capacity"
    # Back on the open referrals: the declined one has left them, the accepted one stays.
    expect(page.locator(f'[data-referral-id="{late.pk}"]')).to_have_count(0)
    expect(page.locator(f'[data-referral-id="{new.pk}"]')).to_have_count(1)
    assert_accessible(page)


def test_search_forms_keep_usable_fields_on_a_phone(page, tenant):
    """Point 8: search forms that do not collapse (Pico squeezes role=search forms into
    one row: the client search's fields were a few pixels wide at 390 px)."""
    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()
    for path, field in (("/clients/", "name"), ("/referrals/inbox/", "client_name")):
        page.goto(path)
        box = page.locator(f'form[role="search"] input[name="{field}"]').bounding_box()
        assert box is not None and box["width"] >= 160, (path, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
