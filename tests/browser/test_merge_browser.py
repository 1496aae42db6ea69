"""Merging two records of one person from the duplicates queue, on a phone, in a real
browser: the queue, a merge refused without the confirmation, the merge, the survivor's
history, and the merged-away record's address leading to the survivor."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clients.models import Client, PossibleDuplicate
from tests.browser.conftest import assert_accessible, sign_in
from tests.browser.test_clients_browser import fits_phone
from tests.factories import PASSWORD, ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_merge_from_the_queue(page, tenant):
    # An EHR of the clinic created a record that may be the clinic's existing client.
    created = ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        given_name=tenant.client.given_name,
        family_name="Mergeable-EHR",
        date_of_birth=tenant.client.date_of_birth,
    )
    PossibleDuplicate.objects.create(
        client=created,
        match=tenant.client,
        strength="possible",
        reason="Same given name, date of birth and ZIP",
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
    )

    sign_in(page, tenant.hco_navigator.email, PASSWORD)
    page.goto("/clients/")
    page.get_by_test_id("duplicates-link").click()
    expect(page.get_by_role("heading", name="Possible duplicates", level=1)).to_be_visible()
    row = page.get_by_test_id("duplicate-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Mergeable-EHR")
    expect(row).to_contain_text(tenant.client.family_name)
    assert fits_phone(page)
    assert_accessible(page)

    # Without the tick, nothing happens and the page says why.
    form = page.get_by_test_id("merge-form")
    form.get_by_role("button", name="Same person: merge").click()
    expect(page.locator(".messages")).to_contain_text("tick the box to confirm")
    assert Client.objects.get(pk=created.pk).merged_into_id is None

    # Keep the existing record, confirm, merge.
    form = page.get_by_test_id("merge-form")
    form.get_by_label(f"#{tenant.client.pk} (possible match)").check()
    form.get_by_label("I checked both records: this is one person", exact=False).check()
    form.get_by_role("button", name="Same person: merge").click()
    expect(page).to_have_url(f"{page.url.split('/clients/')[0]}/clients/{tenant.client.pk}/")
    expect(page.get_by_test_id("merged-history")).to_contain_text(f"Record #{created.pk}")
    assert fits_phone(page)
    assert_accessible(page)
    assert Client.objects.get(pk=created.pk).merged_into_id == tenant.client.pk

    # The merged-away record's address leads to the survivor; the queue is empty.
    page.goto(f"/clients/{created.pk}/")
    expect(page).to_have_url(f"{page.url.split('/clients/')[0]}/clients/{tenant.client.pk}/")
    page.goto("/clients/duplicates/")
    expect(page.get_by_text("No possible duplicates to review.")).to_be_visible()
