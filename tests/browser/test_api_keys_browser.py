"""An org admin creates an API key on a phone, copies it (shown once), and revokes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apikeys.models import ApiKey
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, give_totp, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_see_once_and_revoke_a_key(page, tenant):
    device = give_totp(tenant.hco_admin)
    sign_in(page, tenant.hco_admin.email, PASSWORD)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    page.goto("/api/keys/")
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Label").fill("Epic EHR")
    page.get_by_label("Role").select_option("navigator")
    page.get_by_role("button", name="Create key").click()
    shown = page.get_by_test_id("new-api-key").inner_text().strip()
    assert shown.startswith("lk_")
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    page.reload()  # a reload is a GET: the key is not shown again
    expect(page.get_by_test_id("new-api-key")).to_have_count(0)
    expect(page.get_by_role("cell", name="Epic EHR")).to_be_visible()
    page.get_by_role("link", name="Revoke…").click()
    expect(page.get_by_role("heading", name="Revoke the key “Epic EHR”?")).to_be_visible()
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_text("Key “Epic EHR” revoked")).to_be_visible()
    assert ApiKey.objects.get(name="Epic EHR").revoked_at is not None
