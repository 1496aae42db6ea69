"""Putting referrals on record through the pages: a new referral (needs from an assessment,
program choice with capacity, consent refusal, double-clicked send), referring onward, and
logging one that arrived by fax, phone or walk-in."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from audit.models import AuditEvent
from organizations.roles import Role
from referrals.models import Referral
from tests.factories import (
    AHC_NEGATIVE,
    ClientFactory,
    OrganizationFactory,
    ProgramFactory,
    ReferralFactory,
    assessment_for,
    member,
    referral_for,
    release_for,
)

pytestmark = pytest.mark.django_db


def new_url(client_obj) -> str:
    return f"/clients/{client_obj.pk}/referrals/new/"


def body_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def pantry(tenant):
    return ProgramFactory(
        organization=tenant.cbo, name="Northside Pantry", categories=["food-insecurity"]
    )


def send(client, person, program, **data):
    payload = {
        "action": "send",
        "needs": ["food-insecurity"],
        "program": program.pk,
        "urgency": "routine",
        "reason": "",
        **data,
    }
    return client.post(new_url(person), payload)


def test_send_from_an_assessment_preselects_its_needs_and_links_it(client, login, tenant, pantry):
    food = {**AHC_NEGATIVE, "123821": ("LA28397-0",)}
    assessment = assessment_for(
        tenant.client, organization=tenant.hco, answers=food, actor=tenant.hco_navigator
    )
    login(tenant.hco_navigator)
    page = client.get(new_url(tenant.client), {"assessment": assessment.pk})
    assert page.status_code == 200
    body = body_of(page)
    assert re.search(r'name="needs" value="food-insecurity"[^>]*checked', body)
    assert not re.search(r'name="needs" value="housing-instability"[^>]*checked', body)
    assert 'data-testid="from-assessment"' in body
    # The suggestions for those needs, with capacity.
    suggestion = re.search(r'data-testid="suggestion">(.*?)</label>', body, re.S).group(1)
    assert "Northside Pantry" in suggestion
    assert 'data-state="capacity"' in suggestion and "Serves food insecurity" in suggestion

    response = client.post(
        f"{new_url(tenant.client)}?assessment={assessment.pk}",
        {
            "action": "send",
            "needs": ["food-insecurity"],
            "program": pantry.pk,
            "urgency": "urgent",
            "reason": "Out of food by Thursday.",
            "do_not_contact": "on",
        },
    )
    made = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/referrals/{made.pk}/"
    assert made.assessment == assessment
    assert (made.urgency, made.do_not_contact, made.reason) == (
        "urgent",
        True,
        "Out of food by Thursday.",
    )
    assert list(made.needs.values_list("code", flat=True)) == ["food-insecurity"]
    assert (made.sender_organization, made.sender_user) == (tenant.hco, tenant.hco_navigator)


def test_the_page_offers_recent_assessments_to_start_from(client, login, tenant):
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    login(tenant.hco_navigator)
    body = body_of(client.get(new_url(tenant.client)))
    assert f"?assessment={assessment.pk}" in body


def test_capacity_is_shown_and_a_closed_program_cannot_be_chosen(client, login, tenant, pantry):
    waitlisted = ProgramFactory(organization=tenant.cbo, name="Diaper Bank", manual_waitlist=True)
    # The HCO's own program that stopped taking referrals: it sees it, closed.
    closed = ProgramFactory(
        organization=tenant.hco, name="Clinic Food Farmacy", accepting_referrals=False
    )
    login(tenant.hco_navigator)
    body = body_of(client.get(new_url(tenant.client)))
    waitlist_row = re.search(
        rf'<label for="directory-{waitlisted.pk}".*?</label>', body, re.S
    ).group(0)
    assert 'data-state="waitlist"' in waitlist_row and "disabled" not in waitlist_row
    closed_row = re.search(rf'<label for="directory-{closed.pk}".*?</label>', body, re.S).group(0)
    assert 'data-state="no-capacity"' in closed_row
    assert re.search(r'<input type="radio"[^>]*disabled', closed_row)
    # Posted anyway: a clear error, nothing sent.
    refused = send(client, tenant.client, closed)
    assert refused.status_code == 400
    assert "Clinic Food Farmacy is not accepting referrals now." in body_of(refused)
    assert not Referral.objects.exists()
    # A waitlisted program may be chosen.
    assert send(client, tenant.client, waitlisted).status_code == 302


def test_a_full_program_shows_as_waitlist(client, login, tenant):
    full = ProgramFactory(organization=tenant.cbo, name="Tiny Pantry", capacity=1)
    ReferralFactory(client=ClientFactory(created_by_organization=tenant.hco), program=full)
    login(tenant.hco_navigator)
    body = body_of(client.get(new_url(tenant.client)))
    row = re.search(rf'<label for="directory-{full.pk}".*?</label>', body, re.S).group(0)
    assert 'data-state="waitlist"' in row
    assert "disabled" not in row


def test_a_program_outside_the_directory_is_refused(client, login, tenant, foreign_tenant):
    elsewhere = ProgramFactory(organization=foreign_tenant.cbo)
    login(tenant.hco_navigator)
    refused = send(client, tenant.client, elsewhere)
    assert refused.status_code == 400
    assert "Choose a program from the directory of your network." in body_of(refused)
    assert not Referral.objects.exists()


def test_needs_and_program_are_required(client, login, tenant):
    login(tenant.hco_navigator)
    response = client.post(new_url(tenant.client), {"action": "send", "urgency": "routine"})
    assert response.status_code == 400
    body = body_of(response)
    assert "Choose at least one need." in body
    assert "Choose a program." in body


def test_update_suggestions_keeps_the_entries_and_complains_about_nothing(
    client, login, tenant, pantry
):
    shelter = ProgramFactory(
        organization=tenant.cbo, name="Night Shelter", categories=["homelessness"]
    )
    login(tenant.hco_navigator)
    response = client.post(
        new_url(tenant.client),
        {"action": "suggest", "needs": ["homelessness"], "reason": "Sleeping in car"},
    )
    assert response.status_code == 200
    body = body_of(response)
    suggested = re.findall(r'data-testid="suggestion">.*?<strong>([^<]+)</strong>', body, re.S)
    assert suggested == [shelter.name]
    assert "Sleeping in car" in body
    assert "Choose a program." not in body
    assert not Referral.objects.exists()


def test_without_a_release_naming_the_receiver_the_page_says_so_and_links_the_capture(
    client, login, tenant
):
    other = OrganizationFactory(network=tenant.network, name="Eastside Legal Aid")
    clinic = ProgramFactory(organization=other, name="Tenant Rights Clinic")
    login(tenant.hco_navigator)
    response = send(client, tenant.client, clinic)
    assert response.status_code == 400
    body = body_of(response)
    assert 'data-testid="consent-missing"' in body
    assert "Eastside Legal Aid may not see this client" in body
    assert f'href="/clients/{tenant.client.pk}/releases/new/?recipient={other.pk}"' in body
    assert not Referral.objects.exists()
    # Once a release names them, the same send goes through.
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[other],
        categories=("demographics", "social_needs", "referrals"),
    )
    assert send(client, tenant.client, clinic).status_code == 302


def test_a_double_clicked_send_makes_one_referral_and_links_it(client, login, tenant, pantry):
    login(tenant.hco_navigator)
    first = send(client, tenant.client, pantry)
    assert first.status_code == 302
    second = send(client, tenant.client, pantry)
    assert second.status_code == 400
    made = Referral.objects.get()
    body = body_of(second)
    assert "already has an open referral to Northside Pantry" in body
    assert f'<a href="/referrals/{made.pk}/" data-testid="duplicate-link">' in body


def test_a_client_the_organization_may_not_see_cannot_be_referred(client, login, tenant):
    stranger = ClientFactory(created_by_organization=tenant.cbo)
    login(tenant.hco_navigator)
    assert client.get(new_url(stranger)).status_code == 404
    assert client.post(new_url(stranger), {"action": "send"}).status_code == 404


def test_the_compose_page_read_is_audited(client, login, tenant):
    login(tenant.hco_navigator)
    client.get(new_url(tenant.client))
    event = AuditEvent.objects.filter(object_type="client").latest("id")
    assert event.object_ids == [tenant.client.pk]
    assert event.detail == {"categories": ["demographics"]}


# --- onward ---------------------------------------------------------------------------------


@pytest.fixture
def housing(tenant):
    org = OrganizationFactory(network=tenant.network, name="Harbor Housing")
    return ProgramFactory(organization=org, name="Rapid Rehousing", categories=["homelessness"])


def test_the_receiver_refers_onward_and_the_chain_is_kept(client, login, tenant, housing):
    received = referral_for(tenant)
    release_for(
        tenant.client,
        organization=tenant.cbo,
        recipients=[housing.organization],
        categories=("demographics", "social_needs", "referrals"),
    )
    login(tenant.cbo_staff)
    page = client.get(f"/referrals/{received.pk}/onward/")
    assert page.status_code == 200
    assert re.search(r'name="needs" value="food-insecurity"[^>]*checked', body_of(page))
    response = client.post(
        f"/referrals/{received.pk}/onward/",
        {"action": "send", "needs": ["homelessness"], "program": housing.pk, "urgency": "routine"},
    )
    assert response.status_code == 302
    onward = Referral.objects.get(program=housing)
    assert onward.referred_from == received
    assert (onward.sender_organization, onward.receiver_organization) == (
        tenant.cbo,
        housing.organization,
    )


def test_only_the_receiver_refers_onward(client, login, tenant, housing):
    received = referral_for(tenant)
    login(tenant.hco_navigator)
    response = client.get(f"/referrals/{received.pk}/onward/")
    assert response.status_code == 403
    assert "Only the receiving organization refers a client onward." in response.content.decode()
    assert (
        client.post(
            f"/referrals/{received.pk}/onward/",
            {
                "action": "send",
                "needs": ["homelessness"],
                "program": housing.pk,
                "urgency": "routine",
            },
        ).status_code
        == 403
    )
    assert not Referral.objects.filter(program=housing).exists()


# --- logging inbound referrals --------------------------------------------------------------

LOG = "/referrals/log/"


@pytest.fixture
def walk_in_client(tenant):
    return ClientFactory(
        created_by_organization=tenant.cbo,
        created_by=tenant.cbo_staff,
        given_name="Evangelina",
        family_name="Thistlewood",
    )


def test_log_a_walk_in_for_a_client_the_cbo_created(client, login, tenant, walk_in_client):
    pantry = ProgramFactory(organization=tenant.cbo, name="Pantry")
    login(tenant.cbo_staff)
    page = client.get(LOG, {"client": walk_in_client.pk})
    assert page.status_code == 200
    assert "Thistlewood" in body_of(page)
    response = client.post(
        LOG,
        {
            "action": "log",
            "client": walk_in_client.pk,
            "program": pantry.pk,
            "source": "walk-in",
            "external_sender": "St. Agnes Parish",
            "needs": ["food-insecurity"],
            "urgency": "routine",
        },
    )
    logged = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/referrals/{logged.pk}/"
    assert (logged.source, logged.external_sender, logged.sender_organization) == (
        "walk-in",
        "St. Agnes Parish",
        None,
    )
    assert logged.receiver_organization == tenant.cbo
    detail = body_of(client.get(f"/referrals/{logged.pk}/"))
    assert "Logged (walk-in)" in detail
    assert "St. Agnes Parish" in detail


def test_a_self_referral_has_no_referring_organization(client, login, tenant, walk_in_client):
    pantry = ProgramFactory(organization=tenant.cbo)
    login(tenant.cbo_staff)
    client.post(
        LOG,
        {
            "action": "log",
            "client": walk_in_client.pk,
            "program": pantry.pk,
            "source": "self",
            "external_sender": "ignored",
            "needs": ["food-insecurity"],
            "urgency": "routine",
        },
    )
    assert Referral.objects.get().external_sender == ""


def test_logging_is_for_the_organizations_own_programs(client, login, tenant, walk_in_client):
    theirs = ProgramFactory(organization=tenant.hco)
    login(tenant.cbo_staff)
    response = client.post(
        LOG,
        {
            "action": "log",
            "client": walk_in_client.pk,
            "program": theirs.pk,
            "source": "phone",
            "needs": ["food-insecurity"],
            "urgency": "routine",
        },
    )
    assert response.status_code == 400
    assert "Select a valid choice" in body_of(response)
    assert not Referral.objects.exists()


def test_the_client_is_found_by_a_posted_search(client, login, tenant, walk_in_client):
    login(tenant.cbo_staff)
    response = client.post(LOG, {"action": "find", "name": "thistlewood"})
    assert response.status_code == 200
    body = body_of(response)
    assert f'href="/referrals/log/?client={walk_in_client.pk}"' in body
    assert 'href="/clients/new/"' in body
    # A client whose name the CBO may not see is not found.
    ClientFactory(created_by_organization=tenant.hco, family_name="Thistlewood")
    again = client.post(LOG, {"action": "find", "name": "thistlewood"})
    assert len(re.findall(r'data-testid="choose-client"', body_of(again))) == 1


def test_a_client_not_visible_is_404_and_no_client_is_a_clear_error(
    client, login, tenant, walk_in_client
):
    stranger = ClientFactory(created_by_organization=tenant.hco)
    login(tenant.cbo_staff)
    assert client.get(LOG, {"client": stranger.pk}).status_code == 404
    missing = client.post(LOG, {"action": "log", "needs": ["food-insecurity"]})
    assert missing.status_code == 400
    assert "Choose the client first." in body_of(missing)


def test_an_organization_without_programs_is_told_how_to_add_one(client, login, tenant):
    admin = member(tenant.cbo, Role.ORG_ADMIN)
    login(admin)
    body = body_of(client.get(LOG))
    assert 'data-testid="no-programs"' in body
    assert 'href="/directory/programs/new/"' in body


def test_another_users_session_cannot_log_for_a_foreign_client(
    login, tenant, foreign_tenant, walk_in_client
):
    outsider = login(foreign_tenant.cbo_staff, HttpClient())
    ProgramFactory(organization=foreign_tenant.cbo)
    assert outsider.get(LOG, {"client": walk_in_client.pk}).status_code == 404
