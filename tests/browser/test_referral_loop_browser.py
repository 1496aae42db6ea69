"""The closed loop in two browsers: a clinic coordinator sends a referral, a food bank's
staff member opens, accepts, contacts the client and completes it with "need met", and the
coordinator sees the outcome and the whole timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, ProgramFactory, referral_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_referral_goes_round_the_loop(new_context, tenant):
    ProgramFactory(organization=tenant.cbo, name="Northside Pantry", categories=["food-insecurity"])

    # The clinic's coordinator, at a desk: from the client's record to a sent referral.
    coordinator = new_context().new_page()
    sign_in(coordinator, tenant.hco_navigator.email, PASSWORD)
    coordinator.goto(f"/clients/{tenant.client.pk}/")
    coordinator.get_by_test_id("new-referral").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("New referral")
    coordinator.get_by_label("Food Insecurity", exact=True).check()
    coordinator.get_by_role("button", name="Update suggestions for these needs").click()
    suggestion = coordinator.get_by_test_id("suggestion").filter(has_text="Northside Pantry")
    expect(suggestion.get_by_test_id("capacity")).to_have_text("Open")
    assert_accessible(coordinator)
    suggestion.get_by_role("radio").check()
    coordinator.get_by_label("Note for the receiving program").fill(
        "Out of groceries until payday; mornings are best."
    )
    coordinator.get_by_role("button", name="Send referral").click()
    expect(coordinator).to_have_url(re.compile(r"/referrals/\d+/$"))
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Sent")
    referral = Referral.objects.get()
    assert referral.receiver_organization == tenant.cbo

    # The food bank's staff member, on a phone: the bell, the inbox, the referral.
    worker = new_context(phone=True).new_page()
    sign_in(worker, tenant.cbo_staff.email, PASSWORD)
    expect(worker.get_by_test_id("unread-count")).to_have_text("1")
    worker.get_by_role("link", name="Inbox").click()
    row = worker.get_by_test_id("referral-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("status")).to_have_text("New")
    expect(row.get_by_test_id("age")).to_contain_text("Sent")
    assert fits_phone(worker)
    assert_accessible(worker)
    row.get_by_role("link").click()
    expect(worker.get_by_test_id("client-name")).to_have_text(tenant.client.display_name)
    expect(worker.get_by_test_id("reason")).to_contain_text("Out of groceries")
    assert fits_phone(worker)
    assert_accessible(worker)

    worker.get_by_test_id("move-accept").get_by_role("button", name="Accept").click()
    expect(worker.get_by_test_id("referral-status")).to_have_text("Accepted")

    worker.get_by_test_id("record-contact").locator("summary").click()
    worker.get_by_label("Contact by").select_option("phone")
    worker.get_by_label("Reached the client").check()
    worker.get_by_role("button", name="Record contact").click()
    expect(worker.get_by_text("Contact recorded.")).to_be_visible()

    complete = worker.get_by_test_id("move-complete")
    complete.locator("summary").click()
    complete.get_by_label("Outcome").select_option("need-met")
    complete.get_by_label("What was done").fill("Signed up for weekly pickup.")
    complete.get_by_role("button", name="Confirm: complete").click()
    expect(worker.get_by_test_id("referral-status")).to_have_text("Completed")
    expect(worker.get_by_test_id("closed-note")).to_be_visible()
    assert_accessible(worker)

    # The loop is closed: the coordinator sees the outcome and every step.
    coordinator.reload()
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Completed")
    expect(coordinator.get_by_test_id("outcome")).to_contain_text(
        str(Referral.Outcome.NEED_MET.label)
    )
    steps = coordinator.get_by_test_id("event").locator("strong")
    expect(steps).to_have_text(
        [
            "Sent",
            "Opened by the receiver",
            "Accepted",
            # Accepting assigns the referral to whoever accepted it (the box is ticked).
            f"Assigned to {tenant.cbo_staff}",
            "Contacted by phone call: reached the client",
            f"Completed: {Referral.Outcome.NEED_MET.label}",
        ]
    )
    assert_accessible(coordinator)
    coordinator.get_by_role("link", name="Sent", exact=True).click()
    coordinator.get_by_test_id("tab-closed").click()
    expect(coordinator.get_by_test_id("referral-row")).to_have_count(1)
    expect(coordinator.get_by_test_id("referral-row")).to_contain_text(
        str(Referral.Outcome.NEED_MET.label)
    )


def test_a_declined_referral_says_why(new_context, tenant):
    """The food bank declines from the list of reasons (with an explanation); the clinic
    reads the reason on the referral and in its timeline."""
    program = ProgramFactory(organization=tenant.cbo, name="Northside Pantry")
    referral = referral_for(tenant, program=program)
    worker = new_context(phone=True).new_page()
    sign_in(worker, tenant.cbo_staff.email, PASSWORD)
    worker.goto(f"/referrals/{referral.pk}/")
    decline = worker.get_by_test_id("move-reject")
    decline.locator("summary").click()
    decline.get_by_label("Why do you decline?").select_option("no-capacity")
    decline.get_by_label("Explanation").fill("Full until the June delivery.")
    assert_accessible(worker)
    decline.get_by_role("button", name="Confirm: decline").click()
    expect(worker.get_by_test_id("referral-status")).to_have_text("Declined")
    expect(worker.get_by_test_id("decline-reason")).to_contain_text("No capacity")
    assert fits_phone(worker)

    coordinator = new_context().new_page()
    sign_in(coordinator, tenant.hco_navigator.email, PASSWORD)
    coordinator.goto(f"/referrals/{referral.pk}/")
    expect(coordinator.get_by_test_id("decline-reason")).to_contain_text(
        "No capacity — Full until the June delivery."
    )
    expect(coordinator.get_by_test_id("event").locator("strong").last).to_have_text(
        "Declined: No capacity"
    )
    assert_accessible(coordinator)
