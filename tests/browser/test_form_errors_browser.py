"""Invalid input in a real browser: the server answers 400 (or 409) with the form again, and
the person sees the errors beside what they typed, whether the form is submitted by htmx
(swapped in place: htmx 2 swaps no 4xx unless configured, see base.html) or as a plain POST.
Answers htmx does not swap (403, a redirect to the sign-in page) are not left silent."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clients.models import Client
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set on the window before a submission: still there afterwards only if the page was not
# reloaded, that is, if htmx swapped the answer in place.
MARK = "() => { window.__sameDocument = true; }"
SAME_DOCUMENT = "() => window.__sameDocument === true"


def open_search(page, tenant):
    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    page.goto("/clients/")
    expect(page.get_by_role("heading", name="Find a client")).to_be_visible()
    page.wait_for_function("() => window.htmx !== undefined")
    # The header's notification bell loads by htmx too; its answer renews the session
    # cookie, so let it land before a test removes cookies.
    page.wait_for_load_state("networkidle")


def test_htmx_search_shows_its_400_errors_in_place_with_the_terms_kept(page, tenant):
    open_search(page, tenant)
    page.evaluate(MARK)
    page.get_by_label("Name").fill("Garcia")
    page.get_by_label("Phone").fill("555-12")
    with page.expect_response(lambda r: r.url.endswith("/clients/")) as answered:
        page.get_by_role("button", name="Search").click()
    response = answered.value
    assert response.status == 400
    assert response.request.headers.get("hx-request") == "true"

    expect(page.get_by_test_id("form-errors")).to_contain_text("Nothing was searched")
    expect(page.get_by_text("10-digit US phone number")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Garcia")
    expect(page.get_by_label("Phone")).to_have_value("555-12")
    expect(page.get_by_test_id("search-results")).to_have_count(0)
    assert page.evaluate(SAME_DOCUMENT), "htmx did not swap the 400 answer in place"
    expect(page.get_by_test_id("htmx-notice")).to_be_hidden()
    assert_accessible(page)

    # Corrected, the same form searches (200) and the results replace the errors.
    page.get_by_label("Name").fill(tenant.client.family_name)
    page.get_by_label("Phone").fill("")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("client-result")).to_have_count(1)
    expect(page.get_by_test_id("form-errors")).to_have_count(0)
    assert page.evaluate(SAME_DOCUMENT)
    assert page.url.endswith("/clients/")


def test_htmx_search_pages_through_results_in_place(page, tenant):
    for n in range(27):
        ClientFactory(created_by_organization=tenant.cbo, family_name=f"Pagesen{n:02d}")
    open_search(page, tenant)
    page.evaluate(MARK)
    page.get_by_label("Name").fill("pagesen")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(page.get_by_test_id("client-result")).to_have_count(25)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(page.get_by_test_id("client-result")).to_have_count(2)
    assert page.evaluate(SAME_DOCUMENT)


def test_plain_form_shows_its_400_errors_with_what_was_typed(page, tenant):
    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    page.goto("/clients/new/")
    page.get_by_label("Given (first) name").fill("Rosa")
    page.get_by_label("Family (last) name").fill("Nuevo")
    page.get_by_label("Date of birth").fill("1990-06-01")
    page.get_by_label("Phone").fill("555-CALL-NOW")
    page.get_by_label("ZIP code").fill("6061")
    with page.expect_response(lambda r: r.url.endswith("/clients/new/")) as answered:
        page.get_by_role("button", name="Check for duplicates and create").click()
    assert answered.value.status == 400
    assert answered.value.request.headers.get("hx-request") is None  # a plain POST

    expect(page.get_by_test_id("form-errors")).to_contain_text("Nothing was saved")
    expect(page.get_by_text("10-digit US phone number")).to_be_visible()
    expect(page.get_by_text("5-digit ZIP code")).to_be_visible()
    expect(page.get_by_label("Given (first) name")).to_have_value("Rosa")
    expect(page.get_by_label("Family (last) name")).to_have_value("Nuevo")
    expect(page.get_by_label("Phone")).to_have_value("555-CALL-NOW")
    assert page.get_by_label("Phone").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    assert not Client.objects.filter(family_name="Nuevo").exists()


def test_an_htmx_answer_that_is_not_swapped_is_not_silent(page, tenant):
    """A 403 (here: the CSRF cookie is gone) is a whole error page, not a form to swap in;
    the page keeps the form and says what happened."""
    open_search(page, tenant)
    page.context.clear_cookies()
    page.evaluate(MARK)
    page.get_by_label("Name").fill("Garcia")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("htmx-notice")).to_contain_text("error 403")
    expect(page.get_by_label("Name")).to_have_value("Garcia")
    assert page.evaluate(SAME_DOCUMENT)


def test_an_htmx_request_sent_to_sign_in_goes_there(page, tenant):
    """The session timed out: the POST is redirected to the sign-in page, which is shown
    (not swapped into the search form, which hx-select would have blanked)."""
    open_search(page, tenant)
    session = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    assert session
    page.context.clear_cookies(name="sessionid")
    page.get_by_label("Name").fill("Garcia")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert "/account/login/" in page.url
