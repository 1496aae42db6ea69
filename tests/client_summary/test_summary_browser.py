"""The client's summary on a phone: readable without sideways scrolling, accessible (axe),
the language switch works, and the print stylesheet hides the page's controls."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (  # noqa: F401 (fixtures used by name)
    assert_accessible,
    browser,
    new_context,
    page,
    sign_in,
)
from tests.factories import PASSWORD, referral_for, referral_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_summary_on_a_phone_in_both_languages(page, tenant):  # noqa: F811
    program = referral_program(tenant)
    program.phone = "(555) 010-4242"
    program.save()
    referral = referral_for(tenant)
    sign_in(page, tenant.hco_navigator.email, PASSWORD)

    page.goto(f"/referrals/{referral.pk}/summary/?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your referral")
    summary = page.get_by_test_id("client-summary")
    expect(summary).to_contain_text(program.name)
    expect(summary).to_contain_text("(555) 010-4242")
    expect(page.get_by_test_id("summary-next")).to_contain_text(tenant.cbo.name)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)

    page.get_by_test_id("switch-es").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Su referencia")
    assert page.evaluate("document.documentElement.lang") == "es"
    expect(page.get_by_role("heading", name="Qué pasa ahora")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)

    # Printed: the summary without the buttons and links around it.
    page.emulate_media(media="print")
    expect(page.get_by_test_id("summary-toolbar")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
