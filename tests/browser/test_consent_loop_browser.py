"""Issue 3 end to end: a coordinator registers a client (a duplicate warning first), captures
an e-signed release naming a CBO; the CBO sees only what was released; after revocation it
sees nothing; the accounting of disclosures shows both organizations' views."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from clients.models import Client
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, assessment_for, give_totp, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_release_governs_what_the_cbo_sees_until_revoked(new_context, tenant):
    ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        given_name="Rosa María",
        family_name="Hernández",
        date_of_birth=date(1985, 3, 2),
    )
    clinic = new_context(phone=True).new_page()
    sign_in(clinic, tenant.hco_navigator.email, PASSWORD)

    # Register the client: the look-alike is shown before anything is created.
    clinic.goto("/clients/new/")
    clinic.get_by_label("Given (first) name").fill("Rosa Maria")
    clinic.get_by_label("Family (last) name").fill("Hernandez")
    clinic.get_by_label("Date of birth").fill("1985-03-02")
    clinic.get_by_label("Phone").fill("555 222 3344")
    clinic.get_by_role("button", name="Check for duplicates and create").click()
    expect(clinic.get_by_text("Hernández").first).to_be_visible()
    assert Client.objects.filter(family_name="Hernandez").count() == 0
    clinic.get_by_label("None of the records above is this person").check()
    clinic.get_by_role("button", name="Create a new record anyway").click()
    expect(clinic).to_have_url(re.compile(r"/clients/\d+/$"))
    client = Client.objects.get(family_name="Hernandez")

    # Capture an e-signed release naming the food bank, for demographics only.
    clinic.get_by_test_id("capture-release").click()
    clinic.get_by_label(tenant.cbo.name).check()
    # A new release starts with what a referral carries ticked; this one is narrower.
    expect(clinic.get_by_label("Demographics and contact")).to_be_checked()
    clinic.get_by_label("Social needs and assessments").uncheck()
    clinic.get_by_label("Referral details and outcomes").uncheck()
    clinic.get_by_label("Signer's full name, typed by the signer").fill("Rosa Maria Hernandez")
    clinic.get_by_label("I, the signer, agree to this release").check()
    clinic.get_by_role("button", name="Record the release").click()
    expect(clinic.get_by_test_id("release-status")).to_have_text("Active")
    release_url = clinic.url

    # The clinic screens the client; the release does not cover social needs.
    screening = assessment_for(client, organization=tenant.hco, actor=tenant.hco_navigator)

    # The food bank sees who the client is, and nothing the release does not cover.
    cbo = new_context(phone=True).new_page()
    sign_in(cbo, tenant.cbo_staff.email, PASSWORD)
    cbo.goto(f"/clients/{client.pk}/")
    expect(cbo.get_by_test_id("client-name")).to_contain_text("Rosa Maria Hernandez")
    expect(cbo.get_by_test_id("section-demographics")).to_be_visible()
    expect(cbo.get_by_test_id("client-assessments")).to_contain_text("No assessments you may see")
    assert cbo.goto(f"/assessments/{screening.pk}/").status == 404
    clinic.goto(f"/clients/{client.pk}/")
    expect(clinic.get_by_test_id("client-assessments")).to_contain_text(tenant.hco.name)

    # The client says stop: the coordinator revokes; the food bank loses the client at once.
    clinic.goto(release_url)
    clinic.get_by_test_id("revoke-link").click()
    clinic.get_by_label(re.compile("Reason")).fill("The client asked to stop sharing.")
    clinic.get_by_role("button", name="Revoke now").click()
    expect(clinic.get_by_test_id("release-status")).to_have_text("Revoked")
    response = cbo.goto(f"/clients/{client.pk}/")
    assert response.status == 404
    expect(cbo.get_by_text("Rosa")).to_have_count(0)

    # The clinic's admin reads the accounting of disclosures: both organizations' views.
    device = give_totp(tenant.hco_admin)
    admin = new_context().new_page()
    sign_in(admin, tenant.hco_admin.email, PASSWORD)
    admin.get_by_label("Six-digit code").fill(totp_now(device))
    admin.get_by_role("button", name="Verify").click()
    admin.goto(f"/clients/{client.pk}/disclosures/")
    rows = admin.locator("tbody tr")
    expect(rows.filter(has_text=tenant.cbo.name).filter(has_text="Viewed").first).to_be_visible()
    expect(rows.filter(has_text=tenant.hco.name).filter(has_text="Viewed").first).to_be_visible()
