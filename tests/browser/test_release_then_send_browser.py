"""Issue 17, points 1 and 7, in a real browser: a send refused for want of a release says
exactly what is missing and links to a release form that already names the receiver and
ticks what a referral carries, so signing it and sending again works; the receiver's
notification names the client (its release allows it), and acting on the referral marks
the notification read."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from organizations.roles import Role
from referrals.models import Notification, Referral
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, ClientFactory, OrganizationFactory, ProgramFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_refused_send_then_release_then_send(new_context, tenant):
    bank = OrganizationFactory(network=tenant.network, name="Riverbend Food Bank", kind="cbo")
    worker = member(bank, Role.STAFF, email="bank.staff@test.test")
    pantry = ProgramFactory(organization=bank, name="Groceries", categories=["food-insecurity"])
    person = ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        given_name="Odalys",
        family_name="Quenneville",
    )
    context = new_context(phone=True)
    page = context.new_page()
    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()
    page.goto(f"/clients/{person.pk}/referrals/new/?program={pantry.pk}")
    expect(page.locator(f"#suggestion-{pantry.pk}")).to_be_checked()
    expect(page.get_by_test_id("release-missing")).to_contain_text("Needs a release naming")
    page.get_by_test_id("send").click()

    missing = page.get_by_test_id("consent-missing")
    expect(missing).to_contain_text(
        "Riverbend Food Bank may not see this client's demographics and contact, social needs "
        "and assessments and referral details and outcomes: no active release of information "
        "names Riverbend Food Bank."
    )
    expect(missing).to_be_focused()
    # The chosen program is still chosen.
    expect(page.locator(f"#suggestion-{pantry.pk}")).to_be_checked()
    assert_accessible(page)

    with context.expect_page() as opened:
        page.get_by_test_id("capture-release-link").click()
    form = opened.value
    expect(form.get_by_role("heading", level=1)).to_have_text("Capture a release of information")
    expect(form.get_by_label("Riverbend Food Bank")).to_be_checked()
    for category in (
        "Demographics and contact",
        "Social needs and assessments",
        "Referral details and outcomes",
    ):
        expect(form.get_by_label(category)).to_be_checked()
    form.get_by_label("Signer's full name, typed by the signer").fill("Odalys Quenneville")
    form.get_by_label("I, the signer, agree to this release").check()
    form.get_by_role("button", name="Record the release").click()
    expect(form.get_by_test_id("release-status")).to_have_text("Active")

    page.bring_to_front()
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("referral-status")).to_have_text("Sent")
    referral = Referral.objects.get(client=person, program=pantry)

    # The food bank's staff: the notification names the client; acting on the referral
    # marks it read.
    bank_page = new_context(phone=True).new_page()
    sign_in(bank_page, worker.email, PASSWORD)
    expect(bank_page.get_by_test_id("signed-in-user")).to_be_visible()
    bank_page.goto("/notifications/")
    note = bank_page.get_by_test_id("notification").first
    expect(note.get_by_test_id("notification-client")).to_contain_text("Odalys Quenneville")
    assert_accessible(bank_page)
    # Straight to the referral (not through the notification, which would mark it read).
    bank_page.goto(f"/referrals/{referral.pk}/")
    assert Notification.objects.filter(user=worker, referral=referral, read_at__isnull=True)
    bank_page.get_by_test_id("move-accept").get_by_role("button", name="Accept").click()
    expect(bank_page.get_by_test_id("referral-status")).to_have_text("Accepted")
    assert not Notification.objects.filter(user=worker, referral=referral, read_at__isnull=True)
