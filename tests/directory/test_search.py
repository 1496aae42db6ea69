"""Directory search: every filter, who sees which programs, empty states, paging, and a
query count that does not grow with the number of programs."""

import pytest

from organizations.roles import Role
from tests.factories import OrganizationFactory, ProgramFactory, member

pytestmark = pytest.mark.django_db


def shown(response) -> list[str]:
    import re

    assert response.status_code == 200
    html = response.content.decode()
    return re.findall(r'<h2[^>]*><a href="/directory/programs/\d+/">([^<]+)</a>', html)


@pytest.fixture
def catalogue(tenant):
    cbo, hco = tenant.cbo, tenant.hco
    ProgramFactory(
        organization=cbo,
        name="Pantry",
        description="Fresh produce and canned goods.",
        zip_codes=["60601"],
        languages=[("es", "Spanish")],
    )
    ProgramFactory(
        organization=cbo,
        name="Shelter beds",
        categories=["homelessness", "housing-instability"],
        zip_codes=["60602"],
    )
    county = ProgramFactory(
        organization=hco, name="Rides", categories=["transportation-insecurity"]
    )
    county.service_areas.create(kind="county", value="Cook")
    ProgramFactory(organization=hco, name="Full clinic pantry", manual_waitlist=True)
    ProgramFactory(organization=hco, name="Closed utility fund", accepting_referrals=False)
    ProgramFactory(organization=hco, name="Draft program", is_listed=False)
    return tenant


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Full clinic pantry", "Pantry", "Rides", "Shelter beds"]),
        ("?category=food-insecurity", ["Full clinic pantry", "Pantry"]),
        ("?category=homelessness", ["Shelter beds"]),
        ("?area=60601", ["Pantry"]),
        ("?area=60602-0001", ["Shelter beds"]),
        ("?area=Cook+County", ["Rides"]),
        ("?area=cook", ["Rides"]),
        ("?language=es", ["Pantry"]),
        ("?accepting=on", ["Pantry", "Rides", "Shelter beds"]),
        ("?q=canned", ["Pantry"]),  # description
        ("?q=shelter", ["Shelter beds"]),  # name
        ("?q=Marrowdale+Clinic", ["Full clinic pantry", "Rides"]),  # organization
        ("?category=food-insecurity&accepting=on", ["Pantry"]),
    ],
)
def test_each_filter_narrows_the_results(client, login, catalogue, query, expected):
    login(catalogue.cbo_staff)
    assert shown(client.get(f"/directory/{query}")) == expected


def test_results_show_the_capacity_state(client, login, catalogue):
    login(catalogue.cbo_staff)
    html = client.get("/directory/").content.decode()
    assert html.count('data-state="capacity"') == 3
    assert html.count('data-state="waitlist"') == 1
    assert ">Waitlist</span>" in html


def test_owner_and_backbone_also_see_closed_and_unlisted_programs(client, login, catalogue):
    login(catalogue.hco_admin)
    hco_view = shown(client.get("/directory/"))
    assert {"Closed utility fund", "Draft program"} <= set(hco_view)
    client.logout()
    login(catalogue.backbone_admin)
    assert len(shown(client.get("/directory/"))) == 6
    assert 'data-state="no-capacity"' in client.get("/directory/").content.decode()


def test_another_network_sees_none_of_these_programs(client, login, catalogue, foreign_tenant):
    ProgramFactory(organization=foreign_tenant.cbo, name="Foreign pantry")
    login(foreign_tenant.hco_navigator)
    assert shown(client.get("/directory/")) == ["Foreign pantry"]
    assert shown(client.get("/directory/?q=Pantry")) == ["Foreign pantry"]
    assert shown(client.get("/directory/?area=60601")) == []


def test_empty_states_say_what_to_do(client, login, tenant):
    login(tenant.hco_admin)
    html = client.get("/directory/").content.decode()
    assert "No programs are listed in this network yet" in html
    assert "import them from an HSDS file" in html
    ProgramFactory(organization=tenant.cbo)
    html = client.get("/directory/?area=99999").content.decode()
    assert "No program matches these filters" in html


def test_results_are_paged_and_pages_keep_the_filters(client, login, tenant):
    for n in range(25):
        ProgramFactory(organization=tenant.cbo, name=f"Pantry {n:02}")
    login(tenant.cbo_staff)
    first = client.get("/directory/?category=food-insecurity")
    assert len(shown(first)) == 20
    assert "?category=food-insecurity&amp;page=2" in first.content.decode()
    second = client.get("/directory/?category=food-insecurity&page=2")
    assert shown(second) == [f"Pantry {n}" for n in range(20, 25)]


def test_an_unknown_filter_value_is_a_400_that_lists_nothing(client, login, catalogue):
    login(catalogue.cbo_staff)
    response = client.get("/directory/?category=not-a-code&area=60601&page=zzz")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice. not-a-code is not one of the available choices." in html
    assert "a filter below is not one this directory knows" in html
    # Not every program, as if the filter had not been given: none.
    assert 'data-testid="program"' not in html
    assert 'value="60601"' in html  # the other filters stay as typed


def test_language_choices_are_the_languages_programs_speak(client, login, catalogue):
    login(catalogue.cbo_staff)
    html = client.get("/directory/").content.decode()
    assert '<option value="es">Spanish</option>' in html


@pytest.mark.parametrize("count", [5, 40])
def test_search_page_query_count_is_constant(
    client, login, tenant, count, django_assert_num_queries
):
    for n in range(count):
        ProgramFactory(
            organization=OrganizationFactory(network=tenant.network) if n % 2 else tenant.cbo,
            zip_codes=["60601", "60602"],
            languages=[("es", "Spanish"), ("vi", "Vietnamese")],
            categories=["food-insecurity", "stress"],
        )
    login(tenant.cbo_staff)
    # Session, user, memberships, second-factor device; the language choices; the count and
    # the page of programs (with organization and network), then their categories, areas and
    # languages; the session save; two savepoints, each set and released.
    with django_assert_num_queries(15):
        response = client.get("/directory/?area=60601&language=es")
    assert len(shown(response)) == min(count, 20)


def test_every_member_role_may_search(client, login, tenant):
    staff = member(tenant.cbo, Role.STAFF)
    login(staff)
    assert client.get("/directory/").status_code == 200
