"""Issue 17, point 6: refer from where you find. A program page and each suggested program
of a screening result have a Refer button that opens the referral with the program (and
the needs) chosen; a search that found nobody carries its terms into "New client" (in a
POST body, never a URL); a walk-in logged by the CBO itself starts accepted and says
"Walk-in" once."""

from __future__ import annotations

import html
import re

import pytest

from clients.models import Client
from referrals.models import Referral
from tests.factories import AHC_NEGATIVE, ProgramFactory, assessment_for, instrument

from .test_pages_compose import LOG, walk_in_client  # noqa: F401 (a fixture)
from .test_release_defaults import checked

pytestmark = pytest.mark.django_db

FOOD_POSITIVE = {**AHC_NEGATIVE, "123821": ("LA28397-0",), "123822": ("LA28397-0",)}


@pytest.fixture
def pantry(tenant):
    return ProgramFactory(
        organization=tenant.cbo, name="Northside Pantry", categories=["food-insecurity"]
    )


def test_a_program_page_refers_a_client_found_by_search(client, login, tenant, pantry):
    login(tenant.hco_navigator)
    page = client.get(f"/directory/programs/{pantry.pk}/").content.decode()
    link = re.search(r'href="([^"]+)" role="button" data-testid="refer-to-program"', page)
    assert link and link.group(1) == f"/clients/?refer_to={pantry.pk}"

    search = client.get(link.group(1)).content.decode()
    assert f'<input type="hidden" name="refer_to" value="{pantry.pk}">' in search
    assert "Find the client to refer to <strong>Northside Pantry</strong>" in search
    found = client.post(
        "/clients/", {"name": tenant.client.family_name, "refer_to": pantry.pk}
    ).content.decode()
    refer = re.search(
        r'href="([^"]+)" role="button" class="outline" data-testid="refer-found-client"', found
    )
    assert refer and html.unescape(refer.group(1)) == (
        f"/clients/{tenant.client.pk}/referrals/new/?program={pantry.pk}"
    )

    compose = client.get(html.unescape(refer.group(1))).content.decode()
    assert checked(compose, "program") == {str(pantry.pk)}
    assert checked(compose, "needs") == {"food-insecurity"}


def test_a_closed_or_unknown_program_is_not_chosen_for_the_user(client, login, tenant, pantry):
    closed = ProgramFactory(organization=tenant.cbo, name="Closed", accepting_referrals=False)
    # Its own organization sees the closed program's page: no Refer button there.
    login(tenant.cbo_staff)
    own = client.get(f"/directory/programs/{closed.pk}/")
    assert own.status_code == 200 and "Not accepting referrals" in own.content.decode()
    assert 'data-testid="refer-to-program"' not in own.content.decode()
    login(tenant.hco_navigator)
    for wanted in (closed.pk, 999999, "x"):
        page = client.get(f"/clients/{tenant.client.pk}/referrals/new/?program={wanted}")
        assert checked(page.content.decode(), "program") == set()


def test_a_screening_result_refers_to_a_suggested_program(client, login, tenant, pantry):
    instrument()
    screening = assessment_for(
        tenant.client, organization=tenant.hco, answers=FOOD_POSITIVE, actor=tenant.hco_navigator
    )
    login(tenant.hco_navigator)
    page = client.get(f"/assessments/{screening.pk}/").content.decode()
    refer = re.search(
        r'href="([^"]+)" role="button" class="outline" data-testid="refer-suggestion"', page
    )
    assert refer
    target = html.unescape(refer.group(1))
    assert target == (
        f"/clients/{tenant.client.pk}/referrals/new/?assessment={screening.pk}&program={pantry.pk}"
    )
    compose = client.get(target).content.decode()
    assert checked(compose, "program") == {str(pantry.pk)}
    assert "food-insecurity" in checked(compose, "needs")


def test_search_terms_carry_into_the_new_client_form_without_a_url(client, login, tenant):
    login(tenant.hco_navigator)
    found = client.post(
        "/clients/",
        {
            "name": "Marisol Quintanilla Vega",
            "date_of_birth": "1984-02-29",
            "phone": "312 555 0199",
        },
    ).content.decode()
    form = re.search(
        r'<form method="post" action="([^"]+)" data-testid="create-from-search">(.*?)</form>',
        found,
        re.S,
    )
    assert form and form.group(1) == "/clients/new/from-search/"
    carried = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(2)))
    response = client.post(form.group(1), carried)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Marisol"' in page
    assert 'value="Quintanilla Vega"' in page
    assert 'value="1984-02-29"' in page
    assert "555" in re.search(r'name="phone"[^>]*value="([^"]*)"', page).group(1)
    assert not Client.objects.filter(given_name="Marisol").exists()
    # Terms never travel in a URL: a GET is refused.
    assert client.get("/clients/new/from-search/?name=Marisol").status_code == 405


def test_a_walk_in_logged_by_the_cbo_starts_accepted_and_says_walk_in_once(
    client,
    login,
    tenant,
    walk_in_client,  # noqa: F811
):
    pantry = ProgramFactory(organization=tenant.cbo, name="Pantry")
    login(tenant.cbo_staff)
    response = client.post(
        LOG,
        {
            "action": "log",
            "client": walk_in_client.pk,
            "program": pantry.pk,
            "source": "walk-in",
            "needs": ["food-insecurity"],
            "urgency": "routine",
        },
    )
    logged = Referral.objects.get()
    assert response.status_code == 302
    assert (logged.status, logged.assigned_to) == ("accepted", tenant.cbo_staff)
    detail = client.get(f"/referrals/{logged.pk}/").content.decode()
    sender = re.search(r'data-testid="sender">(.*?)</dd>', detail, re.S).group(1)
    assert sender.count("Walk-in") == 1
    assert 'data-testid="move-accept"' not in detail
    assert "Update by" in detail
