"""Search: by each field, only over clients whose demographics the organization may see,
POSTed, paginated, audited as one event per page, constant queries."""

from datetime import date

import pytest

from audit.models import AuditEvent
from clients.models import ClientIdentifier
from tests.clients.conftest import assert_no_phi, client_ids, events
from tests.factories import ClientFactory, OrganizationFactory, release_for

pytestmark = pytest.mark.django_db

DOB = date(1979, 11, 30)


@pytest.fixture
def william(tenant):
    return ClientFactory(
        created_by_organization=tenant.hco,
        given_name="William",
        family_name="García-López",
        date_of_birth=DOB,
        phone="(555) 301-4455",
    )


def found(client, **terms) -> str:
    response = client.post("/clients/", terms)
    assert response.status_code == 200
    return response.content.decode()


def result_links(page: str) -> set[str]:
    marker = 'data-testid="client-result" href="/clients/'
    return {part.split('"')[0] for part in page.split(marker)[1:]}


@pytest.mark.parametrize(
    "terms",
    [
        {"name": "bill garcia"},
        {"name": "GARCIA-LOPEZ"},
        {"name": "Garcia Lopez William"},
        {"date_of_birth": "1979-11-30"},
        {"phone": "555.301.4455"},
        {"phone": "+1 (555) 301-4455", "name": "william"},
    ],
)
def test_search_by_each_field(client, login, tenant, william, terms):
    login(tenant.hco_staff)
    assert f"{william.pk}/" in result_links(found(client, **terms))


def test_search_by_identifier_of_any_system(client, login, tenant, william):
    ClientIdentifier.objects.create(
        client=william, organization=tenant.cbo, system="urn:oid:2.16.840.1.9", value="A-99812"
    )
    login(tenant.hco_staff)
    assert result_links(found(client, identifier="A-99812")) == {f"{william.pk}/"}
    assert result_links(found(client, identifier="A-998")) == set()


def test_terms_combine(client, login, tenant, william):
    login(tenant.hco_staff)
    assert result_links(found(client, name="william", date_of_birth="1980-01-01")) == set()


def test_client_without_a_release_is_not_found(
    client, login, tenant, bystander, bystander_navigator
):
    # The tenant's client is visible to the CBO (release) but not to the bystander.
    c = tenant.client
    login(bystander_navigator)
    page = found(client, name=c.family_name)
    assert c.family_name not in page.split('data-testid="search-results"')[1]
    assert result_links(page) == set()
    assert "No client you may see matches" in page
    assert not events(action=AuditEvent.Action.SEARCH)


def test_release_without_demographics_does_not_make_a_client_searchable(
    client, login, tenant, bystander, bystander_navigator
):
    release_for(
        tenant.client, organization=tenant.hco, recipients=[bystander], categories=("social_needs",)
    )
    login(bystander_navigator)
    assert (
        result_links(found(client, date_of_birth=tenant.client.date_of_birth.isoformat())) == set()
    )


def test_expired_release_stops_search(client, login, tenant):
    from datetime import timedelta

    import time_machine

    login(tenant.cbo_staff)
    assert result_links(found(client, name=tenant.client.family_name)) == {f"{tenant.client.pk}/"}
    with time_machine.travel(tenant.release.expires_at + timedelta(minutes=1)):
        login(tenant.cbo_staff)
        assert result_links(found(client, name=tenant.client.family_name)) == set()


def test_search_form_posts_and_a_get_with_terms_searches_nothing(client, login, tenant):
    login(tenant.hco_staff)
    response = client.get("/clients/", {"name": tenant.client.family_name})
    page = response.content.decode()
    assert 'method="post" action="/clients/"' in page
    assert "search-results" not in page
    assert tenant.client.family_name not in page


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"name": "  "}, "Enter a name, a date of birth, a phone number or an identifier."),
        ({"phone": "555-12"}, "10-digit US phone"),
        ({"name": "Garcia", "date_of_birth": "1979-02-30"}, "Enter a valid date."),
    ],
)
def test_empty_or_bad_search_is_a_400_form_error_that_keeps_the_terms(
    client, login, tenant, william, terms, message
):
    login(tenant.hco_staff)
    response = client.post("/clients/", terms)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'data-testid="form-errors"' in page
    assert 'data-testid="search-results"' not in page  # nothing searched, nothing shown
    for typed in terms.values():
        if typed.strip():
            assert f'value="{typed}"' in page  # what was typed is still in the form
    assert not events(action=AuditEvent.Action.SEARCH)


def test_results_are_paginated_through_post_and_each_page_audited(client, login, tenant):
    clients = [
        ClientFactory(created_by_organization=tenant.hco, family_name=f"Pagesen{i:02d}")
        for i in range(30)
    ]
    login(tenant.hco_staff)
    first = found(client, name="pagesen")
    assert len(result_links(first)) == 25
    assert "Page 1 of 2" in first
    assert 'name="page" value="2"' in first
    second = found(client, name="pagesen", page="2")
    assert len(result_links(second)) == 5

    page1, page2 = events(action=AuditEvent.Action.SEARCH, object_type="client")
    ids = [c.pk for c in clients]  # ordered by family name like the results
    assert client_ids(page1) == sorted(ids[:25])
    assert client_ids(page2) == sorted(ids[25:])
    assert page1.detail == {"categories": ["demographics"]}
    assert page1.organization_id == tenant.hco.pk and page1.actor_id == tenant.hco_staff.pk
    assert_no_phi(page1, "pagesen")


@pytest.mark.parametrize("count", [5, 30])
def test_result_list_queries_do_not_grow_with_results(
    client, login, tenant, count, django_assert_max_num_queries
):
    for i in range(count):
        c = ClientFactory(created_by_organization=tenant.cbo, family_name=f"Countsen{i:02d}")
        release_for(c, organization=tenant.cbo, recipients=[tenant.hco])
    login(tenant.hco_staff)
    # session, user, memberships, TOTP devices (middleware); the consent policy's partner
    # check; count; one page of rows; the audit event and its client index rows; the
    # session save; 7 savepoint statements (atomic request, audit service, session save).
    with django_assert_max_num_queries(16):
        page = found(client, name="countsen")
    assert len(result_links(page)) == min(count, 25)


def test_other_network_is_never_searched(client, login, tenant):
    ClientFactory(
        created_by_organization=OrganizationFactory(), family_name=tenant.client.family_name
    )
    login(tenant.hco_staff)
    assert result_links(found(client, name=tenant.client.family_name)) == {f"{tenant.client.pk}/"}


def test_nav_links_to_clients(client, login, tenant):
    login(tenant.cbo_staff)
    assert '<a href="/clients/">Clients</a>' in client.get("/").content.decode()
