"""What the inline handlers used to do, done by static/js/linkage.js under the site's
Content-Security-Policy: confirmations (data-confirm) and print buttons (data-print). The
conftest fails any of these tests on a policy violation."""

from __future__ import annotations

import pytest
from django_otp import user_has_device
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, give_totp, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# window.print() would open a dialog headless Chromium cannot show: count the calls instead.
COUNT_PRINTS = "window.__prints = 0; window.print = () => { window.__prints += 1; };"


def test_turning_off_two_factor_asks_first(page, tenant):
    user = tenant.hco_staff  # not an admin: the second factor is optional
    device = give_totp(user)
    sign_in(page, user.email, PASSWORD)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()

    response = page.goto("/account/security/")
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]

    asked = []

    def answer(dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, accept=False))
    page.get_by_role("button", name="Turn off").click()
    assert asked == ["Turn off two-factor sign-in?"]
    expect(page.get_by_role("button", name="Turn off")).to_be_visible()
    assert user_has_device(user, confirmed=True)

    page.once("dialog", lambda d: answer(d, accept=True))
    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_text("Two-factor sign-in is off.")).to_be_visible()
    assert len(asked) == 2
    assert not user_has_device(user, confirmed=True)


def test_the_printable_release_prints_from_its_button(new_context, tenant):
    context = new_context()
    context.add_init_script(COUNT_PRINTS)
    page = context.new_page()
    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()
    page.goto(f"/releases/{tenant.release.pk}/print/")
    page.locator("button[data-print]").click()
    page.wait_for_function("window.__prints === 1")
    # Its stylesheet (no longer an inline <style>) applies: the serif paper look.
    assert "Georgia" in page.evaluate("getComputedStyle(document.body).fontFamily")
