"""The directory on a phone, and an import's progress updating itself (htmx polling)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from directory.models import HsdsImport
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, HsdsImportFactory, ProgramFactory, give_totp, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_the_directory_on_a_phone(page, tenant):
    ProgramFactory(
        organization=tenant.cbo,
        name="Community Pantry",
        zip_codes=["60601"],
        languages=[("es", "Spanish")],
    )
    ProgramFactory(
        organization=tenant.cbo,
        name="Rapid Rehousing",
        categories=["housing-instability"],
        zip_codes=["60601"],
        manual_waitlist=True,
    )
    ProgramFactory(organization=tenant.cbo, name="Far pantry", zip_codes=["60999"])
    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    page.get_by_role("link", name="Directory").click()
    expect(page.get_by_role("heading", name="Service directory")).to_be_visible()
    page.get_by_label("ZIP code or county").fill("60601")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"area=60601"))
    expect(page.get_by_test_id("program")).to_have_count(2)
    full = page.get_by_test_id("program").filter(has_text="Rapid Rehousing")
    expect(full.get_by_test_id("capacity")).to_have_text("Waitlist")
    page.get_by_label("Need").select_option("food-insecurity")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("program")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)

    page.get_by_role("link", name="Community Pantry").click()
    expect(page.get_by_role("heading", name="Community Pantry")).to_be_visible()
    expect(page.get_by_test_id("capacity")).to_have_text("Open")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)


def test_import_progress_updates_by_itself_until_done(page, tenant):
    imp = HsdsImportFactory(
        organization=tenant.backbone, status="running", total_rows=10, processed_rows=3, report=[]
    )
    device = give_totp(tenant.backbone_admin)
    sign_in(page, tenant.backbone_admin.email, PASSWORD)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    page.goto(f"/directory/import/{imp.pk}/")
    expect(page.get_by_text("3 of 10 rows")).to_be_visible()
    assert_accessible(page)

    HsdsImport.objects.filter(pk=imp.pk).update(processed_rows=7)
    expect(page.get_by_text("7 of 10 rows")).to_be_visible(timeout=6_000)
    HsdsImport.objects.filter(pk=imp.pk).update(
        status="done",
        processed_rows=10,
        counts={"created": 1},
        report=[
            {
                "table": "services.csv",
                "row": 2,
                "id": "s1",
                "action": "created",
                "message": "Created program “Pantry”.",
            }
        ],
    )
    expect(page.get_by_test_id("import-report")).to_contain_text("Created program", timeout=6_000)
    expect(page.get_by_test_id("import-progress")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("import-progress")).not_to_have_attribute("hx-trigger", "every 2s")
    assert_accessible(page)


def test_an_org_admin_adds_a_program_from_a_phone(page, tenant):
    from directory.models import Program
    from tests.factories import member

    admin = member(tenant.cbo, "org_admin", email="cbo-admin@browser.test")
    device = give_totp(admin)
    sign_in(page, admin.email, PASSWORD)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()
    page.goto("/directory/programs/new/")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("textbox", name="Name (required)").fill("Diaper Bank")
    page.get_by_label("Material Hardship").check()
    page.get_by_label("ZIP codes served").fill("60601, 60602")
    page.get_by_label("Spanish").check()
    page.get_by_label("New referrals go to a waitlist").check()
    page.get_by_role("button", name="Add the program").click()
    expect(page.get_by_role("heading", name="Diaper Bank")).to_be_visible()
    expect(page.get_by_test_id("capacity")).to_have_text("Waitlist")
    program = Program.objects.get(name="Diaper Bank")
    assert list(program.languages.values_list("code", flat=True)) == ["es"]
    page.goto("/directory/import/")
    assert_accessible(page)
