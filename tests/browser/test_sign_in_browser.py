"""Sign-in, switching organization, lockout and the second factor, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from organizations.roles import Role
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, MembershipFactory, give_totp, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_on_a_phone_shows_the_dashboard(page, tenant):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/account/login/"))
    assert_accessible(page)
    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    expect(page.get_by_test_id("active-organization")).to_have_text(tenant.hco.name)
    expect(page.get_by_role("heading", level=1)).to_have_text(tenant.hco.name)
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)


def test_switch_organization_from_the_header(page, tenant):
    user = tenant.hco_navigator
    MembershipFactory(user=user, organization=tenant.cbo, role=Role.NAVIGATOR)
    sign_in(page, user.email, PASSWORD)
    expect(page.get_by_test_id("active-organization")).to_have_text(tenant.hco.name)
    page.get_by_label("Working as").select_option(label=tenant.cbo.name)
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_test_id("active-organization")).to_have_text(tenant.cbo.name)
    expect(page.get_by_text(f"You are now working as {tenant.cbo.name}")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("active-organization")).to_have_text(tenant.cbo.name)


def test_lockout_after_repeated_failures(page, tenant, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, tenant.hco_staff.email, "wrong-password-here")
        expect(page.get_by_role("alert")).to_contain_text("correct email")
    sign_in(page, tenant.hco_staff.email, "wrong-password-here")  # the last straw
    expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
    sign_in(page, tenant.hco_staff.email, PASSWORD)  # the right password no longer helps
    expect(page.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/account/login/"))


def test_admin_is_challenged_for_the_second_factor(page, tenant):
    device = give_totp(tenant.hco_admin)
    sign_in(page, tenant.hco_admin.email, PASSWORD)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.goto("/partnerships/")  # cannot skip the challenge
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Partnerships")).to_be_visible()
    expect(page.get_by_role("link", name=tenant.partnership.name)).to_be_visible()


def test_admin_without_authenticator_sets_one_up(page, tenant):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    sign_in(page, tenant.hco_admin.email, PASSWORD)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    assert_accessible(page)
    device = TOTPDevice.objects.get(user=tenant.hco_admin, confirmed=False)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Two-factor sign-in is on.")).to_be_visible()
    assert TOTPDevice.objects.get(user=tenant.hco_admin).confirmed
