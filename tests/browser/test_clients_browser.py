"""Client search, the duplicate check and the profile, on a phone, in a real browser."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from clients.models import Client
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, ClientFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_search_keeps_terms_out_of_the_url(page, tenant):
    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    page.get_by_role("link", name="Clients").click()
    expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name").fill(tenant.client.family_name)
    page.get_by_role("button", name="Search").click()
    result = page.get_by_test_id("client-result")
    expect(result).to_have_count(1)
    assert tenant.client.family_name not in page.url
    assert page.url.endswith("/clients/")
    assert fits_phone(page)
    assert_accessible(page)
    result.click()
    expect(page.get_by_test_id("client-name")).to_contain_text(tenant.client.family_name)
    expect(page.get_by_test_id("client-releases")).to_be_visible()
    assert fits_phone(page)
    assert_accessible(page)


def test_create_shows_a_hidden_match_then_creates_anyway(page, tenant):
    creator = OrganizationFactory(network=tenant.network, name="Quiet Harbor Shelter")
    ClientFactory(
        created_by_organization=creator,
        given_name="Guadalupe",
        family_name="Reyes",
        date_of_birth=date(1990, 6, 1),
    )
    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    page.goto("/clients/new/")
    assert_accessible(page)
    page.get_by_label("Given (first) name").fill("Lupe")
    page.get_by_label("Family (last) name").fill("Reyes")
    page.get_by_label("Date of birth").fill("1990-06-01")
    page.get_by_label("Phone").fill("555 404 1212")
    page.get_by_role("button", name="Check for duplicates and create").click()

    expect(page.get_by_test_id("hidden-match")).to_contain_text(
        "A record for this person may already exist"
    )
    expect(page.get_by_test_id("hidden-match")).to_contain_text(tenant.backbone.name)
    expect(page.get_by_text(creator.name)).to_have_count(0)
    assert fits_phone(page)
    assert_accessible(page)

    page.get_by_label("None of the records above is this person").check()
    page.get_by_role("button", name="Create a new record anyway").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+/$"))
    expect(page.get_by_text("created")).to_be_visible()
    created = Client.objects.get(created_by_organization=tenant.cbo)
    assert created.phone == "(555) 404-1212"
    expect(page.get_by_test_id("client-name")).to_contain_text("Lupe Reyes")
