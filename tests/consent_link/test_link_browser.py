"""The client opens their link on a phone, reads the release in Spanish (their language),
switches to English, and signs; a draft referral waiting for the release goes out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consent.models import ConsentLink, Release
from referrals.models import Referral
from tests.browser.conftest import PHONE, assert_accessible, sign_in
from tests.consent_link.conftest import make_link
from tests.factories import PASSWORD, ClientFactory, ReferralFactory, referral_program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_client_signs_the_release_on_a_phone(page, tenant):
    person = ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        given_name="Quennell",
        family_name="Ostrovar",
        preferred_language="es",
    )
    draft = ReferralFactory(
        client=person,
        program=referral_program(tenant),
        sender_organization=tenant.hco,
        sender_user=tenant.hco_navigator,
        status="draft",
        sent_at=None,
    )
    link, _url, token = make_link(tenant, person, waiting_referral_ids=[draft.pk])

    page.goto(f"/c/{token}/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Autorización para compartir información")
    expect(page.get_by_test_id("agreement")).to_contain_text(tenant.cbo.name)
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)

    page.get_by_test_id("switch-language").click()
    expect(heading).to_have_text("Authorization to share information")
    page.get_by_label("Type your full name to sign").fill("Quennell Ostrovar")
    page.get_by_label("I have read this release and I agree to it.").check()
    assert_accessible(page)
    page.get_by_role("button", name="Sign the release").click()

    expect(page.get_by_test_id("signed-heading")).to_be_visible()
    assert token not in page.url
    assert_accessible(page)
    release = Release.objects.get(client=person)
    assert release.method == Release.Method.ESIGNATURE
    assert release.esignature_name == "Quennell Ostrovar"
    assert release.language == "en"
    link = ConsentLink.objects.get(pk=link.pk)
    assert link.release_id == release.pk
    assert link.signed_ip == "127.0.0.1"
    assert "Chrome" in link.signed_user_agent
    assert Referral.objects.get(pk=draft.pk).status == Referral.Status.REQUESTED

    # The link is spent: opening it again says so, and nothing about the client.
    page.goto(f"/c/{token}/")
    expect(page.get_by_test_id("link-unavailable")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Quennell")


def test_staff_send_a_link_from_the_client(new_context, tenant):
    page = new_context().new_page()
    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    page.goto(f"/clients/{tenant.client.pk}/release-links/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Send a release to sign by link")
    assert_accessible(page)
    page.get_by_label(tenant.cbo.name).check()
    page.get_by_label("Email").check()
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_test_id("link-status")).to_have_text("Waiting for the client to sign")
    assert_accessible(page)
    link = ConsentLink.objects.get(client=tenant.client)
    assert link.channel == "email"
    assert list(link.recipients.all()) == [tenant.cbo]
