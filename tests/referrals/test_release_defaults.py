"""Issue 17, point 1: the release form's defaults no longer block the referral. A new
release starts with what a referral carries ticked (and the organization about to be
referred to, from the referral page's link); a refused send says exactly what is missing
and keeps the chosen program; each suggested program says whether the client's releases
already cover it."""

from __future__ import annotations

import html
import re

import pytest
from django.utils import timezone

from consent.forms import add_months
from consent.models import Release
from referrals.models import Referral
from tests.factories import ClientFactory, OrganizationFactory, ProgramFactory, release_for

from .test_pages_compose import new_url, send

pytestmark = pytest.mark.django_db


def checked(page: str, name: str) -> set[str]:
    """The values of the ticked checkboxes (or radios) named `name`."""
    return {
        m.group(1)
        for m in re.finditer(
            rf'<input type="(?:checkbox|radio)" name="{name}" value="([^"]+)"[^>]*>', page
        )
        if " checked" in m.group(0)
    }


@pytest.fixture
def food_bank(tenant):
    bank = OrganizationFactory(network=tenant.network, name="Riverbend Food Bank")
    return ProgramFactory(organization=bank, name="Groceries", categories=["food-insecurity"])


@pytest.fixture
def person(tenant):
    return ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)


def test_a_new_release_starts_with_what_a_referral_carries_and_the_organization_named(
    client, login, tenant, person, food_bank
):
    login(tenant.hco_navigator)
    bank = food_bank.organization
    page = client.get(f"/clients/{person.pk}/releases/new/?recipient={bank.pk}").content.decode()
    assert checked(page, "categories") == {"demographics", "social_needs", "referrals"}
    assert checked(page, "recipients") == {str(bank.pk)}
    # Without the link's recipient, nobody is named for the user.
    assert (
        checked(client.get(f"/clients/{person.pk}/releases/new/").content.decode(), "recipients")
        == set()
    )

    # Submitted with its defaults (and a signature), the release lets the referral go.
    today = timezone.localdate()
    response = client.post(
        f"/clients/{person.pk}/releases/new/",
        {
            "recipients": [bank.pk],
            "categories": sorted(checked(page, "categories")),
            "purpose": "care_coordination",
            "language": "en",
            "method": "esignature",
            "esignature_name": "Signer Name",
            "esignature_confirmed": "on",
            "signer": "client",
            "effective_at": today.isoformat(),
            "expires_at": add_months(today, 12).isoformat(),
        },
    )
    assert response.status_code == 302
    assert send(client, person, food_bank).status_code == 302
    assert Referral.objects.filter(client=person, program=food_bank).exists()


def test_the_screening_release_step_starts_with_what_a_referral_carries(
    client, login, tenant, person
):
    from tests.factories import instrument

    core = instrument()
    login(tenant.hco_navigator)
    started = client.post(
        f"/clients/{person.pk}/assessments/new/",
        {"instrument": core.pk, "mode": "in_person", "capture_release": "on"},
    )
    assert started.status_code == 302, started.content[:500]
    page = client.get(started["Location"]).content.decode()
    assert checked(page, "categories") == {"demographics", "social_needs", "referrals"}


def test_a_refused_send_says_exactly_what_is_missing_and_keeps_the_program(
    client, login, tenant, person, food_bank
):
    bank = food_bank.organization
    # The release names the food bank, but only for social needs (the old default).
    release_for(person, organization=tenant.hco, recipients=[bank], categories=("social_needs",))
    login(tenant.hco_navigator)
    response = send(client, person, food_bank)
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert (
        "Riverbend Food Bank may not see this client's demographics and contact and referral "
        "details and outcomes: the client's release names Riverbend Food Bank but does not "
        "cover them." in page
    )
    assert f"/clients/{person.pk}/releases/new/?recipient={bank.pk}" in page
    assert checked(page, "program") == {str(food_bank.pk)}
    assert not Referral.objects.exists()

    # With no release naming them at all, the page says that instead.
    other = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    page = html.unescape(send(client, other, food_bank).content.decode())
    assert "no active release of information names Riverbend Food Bank" in page


def test_each_suggested_program_says_whether_the_releases_cover_it(
    client, login, tenant, person, food_bank
):
    pantry = ProgramFactory(
        organization=tenant.cbo, name="Northside Pantry", categories=["food-insecurity"]
    )
    release_for(
        person,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    login(tenant.hco_navigator)
    page = client.post(
        new_url(person), {"action": "suggest", "needs": ["food-insecurity"]}
    ).content.decode()
    labels = {}
    for label in re.findall(r'data-testid="suggestion">(.*?)</label>', page, re.S):
        name = re.search(r"<strong>([^<]+)</strong>", label).group(1)
        labels[name] = re.search(r'data-testid="(release-covered|release-missing)"', label).group(1)
    assert labels == {pantry.name: "release-covered", food_bank.name: "release-missing"}
    assert Release.objects.filter(client=person).count() == 1
