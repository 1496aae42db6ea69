"""A walk-in at a food bank: the staff member records the client, logs the walk-in
referral, refers the client onward to a housing agency (a release names it), and the
chain shows on both referrals and to the agency."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from clients.models import Client
from organizations.models import Organization
from referrals.models import Referral
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import (
    PASSWORD,
    OrganizationFactory,
    PartnershipFactory,
    ProgramFactory,
    member,
    release_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_log_a_walk_in_and_refer_onward(new_context, tenant):
    ProgramFactory(organization=tenant.cbo, name="Emergency Groceries")
    agency = OrganizationFactory(
        network=tenant.network, name="Harborline Housing", kind=Organization.Kind.CBO
    )
    PartnershipFactory(network=tenant.network, organizations=[tenant.cbo, agency])
    ProgramFactory(organization=agency, name="Rapid Rehousing", categories=["homelessness"])
    agency_staff = member(agency, email="intake@harborline.test")

    page = new_context(phone=True).new_page()
    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    # The client is not on file: the food bank creates the record.
    page.goto("/clients/new/")
    page.get_by_label("Given (first) name").fill("Teodora")
    page.get_by_label("Family (last) name").fill("Wexcombe")
    page.get_by_label("Date of birth").fill("1987-02-14")
    page.get_by_label("Phone").fill("555 301 7788")
    page.get_by_role("button", name="Check for duplicates and create").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+/$"))
    person = Client.objects.get(family_name="Wexcombe")

    # From the record: log the walk-in.
    page.get_by_test_id("log-inbound").click()
    expect(page.get_by_test_id("log-client")).to_contain_text("Teodora Wexcombe")
    assert_accessible(page)
    page.get_by_label("For your program").select_option(label="Emergency Groceries")
    page.get_by_label("Walk-in").check()
    page.get_by_label("Food Insecurity", exact=True).check()
    page.get_by_label("Homelessness", exact=True).check()
    page.get_by_label("Notes").fill("Came in after the shelter closed for the night.")
    assert fits_phone(page)
    page.get_by_test_id("log-submit").click()
    expect(page).to_have_url(re.compile(r"/referrals/\d+/$"))
    walk_in = Referral.objects.get(client=person, receiver_organization=tenant.cbo)
    assert walk_in.source == "walk-in"
    expect(page.get_by_test_id("event").first).to_contain_text("Logged (walk-in)")
    expect(page.get_by_test_id("sender")).to_contain_text("Walk-in")
    assert_accessible(page)

    # The client signs a release naming the housing agency (captured on paper, say).
    release_for(
        person,
        organization=tenant.cbo,
        recipients=[agency],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=tenant.cbo_staff,
    )

    page.get_by_test_id("refer-onward").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer onward")
    expect(page.get_by_label("Homelessness", exact=True)).to_be_checked()
    page.get_by_label("Food Insecurity", exact=True).uncheck()
    page.get_by_role("button", name="Update suggestions for these needs").click()
    choice = page.get_by_test_id("suggestion").filter(has_text="Rapid Rehousing")
    expect(choice).to_contain_text("Harborline Housing")
    choice.get_by_role("radio").check()
    page.get_by_label("Note for the receiving program").fill("Needs a bed this week.")
    assert fits_phone(page)
    assert_accessible(page)
    page.get_by_role("button", name="Send referral").click()

    expect(page).to_have_url(re.compile(r"/referrals/\d+/$"))
    onward = Referral.objects.get(receiver_organization=agency)
    assert onward.referred_from == walk_in
    expect(page.get_by_test_id("referred-from")).to_contain_text(f"referral #{walk_in.pk}")
    page.get_by_test_id("referred-from").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/referrals/{walk_in.pk}/$"))
    expect(page.get_by_test_id("onward")).to_contain_text("Rapid Rehousing")
    expect(page.get_by_test_id("onward")).to_contain_text("Harborline Housing")
    assert_accessible(page)

    # The agency gets it in its inbox and sees where it came from.
    agency_page = new_context().new_page()
    sign_in(agency_page, agency_staff.email, PASSWORD)
    agency_page.goto("/referrals/inbox/")
    agency_page.get_by_test_id("referral-row").get_by_role("link").click()
    expect(agency_page.get_by_test_id("client-name")).to_have_text("Teodora Wexcombe")
    expect(agency_page.get_by_test_id("referred-from")).to_contain_text(f"referral #{walk_in.pk}")
    expect(agency_page.get_by_test_id("referred-from")).to_contain_text("Emergency Groceries")
