"""Capturing a release on a phone: the agreement text follows the choices, then e-sign."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from consent.models import Release
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_esign_a_release_on_a_phone(page, tenant):
    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    page.goto(f"/clients/{tenant.client.pk}/")
    page.get_by_test_id("capture-release").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Capture a release of information")
    assert_accessible(page)

    agreement = page.get_by_test_id("agreement")
    expect(agreement).not_to_contain_text(tenant.cbo.name)
    page.get_by_label(tenant.cbo.name).check()
    expect(agreement).to_contain_text(tenant.cbo.name)  # htmx refreshed the text
    page.get_by_label("Social needs and assessments").check()
    expect(agreement).to_contain_text("Social needs and screening results")
    page.get_by_label("Language of the form").select_option("es")
    expect(agreement).to_contain_text("Autorización para compartir información")

    # Fields of other methods stay out of the way until chosen.
    expect(page.get_by_label("Witness to the verbal consent")).to_be_hidden()
    page.get_by_label("Signer's full name, typed by the signer").fill("Marrowdaleina M.")
    page.get_by_label("I, the signer, agree to this release").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Record the release").click()

    expect(page).to_have_url(re.compile(r"/releases/\d+/$"))
    expect(page.get_by_test_id("release-status")).to_have_text("Active")
    assert_accessible(page)
    release = Release.objects.exclude(pk=tenant.release.pk).get()
    assert release.language == "es"
    assert release.esignature_name == "Marrowdaleina M."
    assert list(release.recipients.all()) == [tenant.cbo]


def test_missing_signature_is_pointed_out_and_nothing_saved(page, tenant):
    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    page.goto(f"/clients/{tenant.client.pk}/releases/new/")
    page.get_by_label(tenant.cbo.name).check()
    page.get_by_label("Demographics and contact").check()
    page.get_by_role("button", name="Record the release").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("Nothing was saved")
    expect(page.get_by_text("Type the signer's full name to sign electronically.")).to_be_visible()
    assert_accessible(page)
    assert Release.objects.count() == 1
