"""Setting up a partnership and filing its agreement, on a phone, in a real browser: an
org admin starts from the partnership list, is told what is wrong with a first attempt,
sets it up, uploads the signed data-sharing agreement and downloads it again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from organizations.models import Organization, Partnership, PartnershipDocument
from organizations.roles import Role
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_clients_browser import fits_phone
from tests.factories import PASSWORD, OrganizationFactory, give_totp, member, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4 data-sharing agreement, signed"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_org_admin_sets_up_a_partnership_and_files_its_agreement(page, tenant):
    shelter = OrganizationFactory(
        network=tenant.network, name="Harbor Shelter", kind=Organization.Kind.CBO
    )
    admin = member(tenant.hco, Role.ORG_ADMIN, email="hco-admin@browser.test")
    device = give_totp(admin)
    sign_in(page, admin.email, PASSWORD)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()

    page.goto("/partnerships/")
    page.get_by_test_id("new-partnership").click()
    expect(page.get_by_role("heading", name="New partnership", level=1)).to_be_visible()
    assert fits_phone(page)
    assert_accessible(page)

    # Their own organization is ticked already; the end comes before the start.
    form = page.get_by_test_id("partnership-form")
    expect(form.get_by_label(f"{tenant.hco.name} (", exact=False)).to_be_checked()
    form.get_by_label("Name").fill("Clinic + Shelter")
    form.get_by_label("Harbor Shelter (", exact=False).check()
    form.get_by_label("Status").select_option("proposed")
    form.get_by_label("Start date").fill("2026-07-01")
    form.get_by_label("End date").fill("2026-06-30")
    form.get_by_role("button", name="Set up the partnership").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("Nothing was saved")
    expect(page.get_by_test_id("error-end_date")).to_have_text(
        "The end date cannot be before the start date."
    )
    # Focus moved to what went wrong, not left on the page body.
    expect(page.get_by_test_id("form-errors")).to_be_focused()
    assert not Partnership.objects.filter(name="Clinic + Shelter").exists()
    assert_accessible(page)

    form = page.get_by_test_id("partnership-form")
    expect(form.get_by_label("Harbor Shelter (", exact=False)).to_be_checked()
    form.get_by_label("End date").fill("2027-06-30")
    form.get_by_role("button", name="Set up the partnership").click()
    expect(page.get_by_role("heading", name="Clinic + Shelter", level=1)).to_be_visible()
    expect(page.get_by_test_id("partnership-status")).to_contain_text("Proposed")
    partnership = Partnership.objects.get(name="Clinic + Shelter")
    assert set(partnership.organizations.all()) == {tenant.hco, shelter}
    assert fits_phone(page)
    assert_accessible(page)

    # Upload the signed data-sharing agreement.
    page.get_by_test_id("upload-agreement").click()
    expect(page.get_by_role("heading", name="Upload an agreement", level=1)).to_be_visible()
    assert fits_phone(page)
    assert_accessible(page)
    form = page.get_by_test_id("agreement-form")
    today = timezone.localdate()
    form.get_by_label("Kind of agreement").select_option("dsa")
    form.get_by_label("Title").fill("Data-sharing agreement")
    form.get_by_label("Signed on").fill((today - timedelta(days=3)).isoformat())
    form.get_by_label("Expires on").fill((today + timedelta(days=400)).isoformat())
    form.get_by_label("File (PDF, JPEG or PNG, up to 10 MB)").set_input_files(
        {"name": "dsa.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    form.get_by_role("button", name="Upload").click()
    row = page.get_by_test_id("agreement-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Data-sharing agreement")
    expect(row).to_contain_text("In force")
    assert PartnershipDocument.objects.get(partnership=partnership).title == (
        "Data-sharing agreement"
    )
    assert fits_phone(page)
    assert_accessible(page)

    # Download it again, through the permission-checked view.
    with page.expect_download() as info:
        row.get_by_test_id("download-agreement").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        assert handle.read() == PDF

    # The list shows it with its status and dates.
    page.goto("/partnerships/")
    listed = page.get_by_test_id("partnership-row").filter(has_text="Clinic + Shelter")
    expect(listed).to_contain_text("Proposed")
    expect(listed).to_contain_text("to June 30, 2027")
    assert fits_phone(page)
    assert_accessible(page)
