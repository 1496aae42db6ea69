"""Issue 17's artifacts: each role's home page, inbox, a referral page and the measures
dashboard on the demo network, at desktop and phone size, saved as screenshots under
var/screenshots/ (kept as test artifacts, never committed). Each page must also fit a
phone's width and show its role's work (the home page's queues)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from demo import network as demo
from referrals.models import Referral
from referrals.workflow import OPEN
from tests.browser.conftest import sign_in
from tests.factories import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ROLES = {
    "cbo-staff": ("foodbank.staff@demo.linkage.test", False),
    "clinic-coordinator": ("clinic.coordinator@demo.linkage.test", False),
    "backbone-admin": ("backbone.admin@demo.linkage.test", True),
}


def _signed_in(new_context, email: str, admin: bool, phone: bool):
    page = new_context(phone=phone).new_page()
    sign_in(page, email, demo.DEMO_PASSWORD)
    if admin:
        device = TOTPDevice.objects.get(user__email=email)
        page.get_by_label("Six-digit code").fill(totp_now(device))
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()
    return page


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("role", sorted(ROLES))
def test_role_pages_at_desktop_and_phone_size(demo_network, new_context, role, size):
    email, admin = ROLES[role]
    page = _signed_in(new_context, email, admin, phone=size == "phone")
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect(page.get_by_test_id("work-today")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"{role}-home-{size}.png"), full_page=True)
    page.goto("/referrals/inbox/")
    page.screenshot(path=str(SHOTS / f"{role}-inbox-{size}.png"), full_page=True)
    membership_org = page.get_by_test_id("active-organization").inner_text()
    # An open referral (its actions shown) the organization received, else one it sent.
    referral = (
        Referral.objects.filter(receiver_organization__name=membership_org, status__in=OPEN)
        .order_by("-pk")
        .first()
        or Referral.objects.filter(sender_organization__name=membership_org).order_by("-pk").first()
    )
    if referral is not None:
        page.goto(f"/referrals/{referral.pk}/")
        expect(page.get_by_test_id("referral-status")).to_be_visible()
        page.screenshot(path=str(SHOTS / f"{role}-referral-{size}.png"), full_page=True)
        if size == "phone":
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect()"
                ".right > 391).slice(0, 5).map(e => e.outerHTML.slice(0, 120) + ' IN ' + "
                "e.parentElement.parentElement.className)"
            )
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    if admin:
        page.goto("/measures/")
        page.screenshot(path=str(SHOTS / f"{role}-dashboard-{size}.png"), full_page=True)
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    print(f"screenshots: {role} at {size} size in {SHOTS}")
