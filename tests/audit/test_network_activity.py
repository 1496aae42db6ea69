"""The backbone's network activity: counts per organization and action, its network only,
no client-level detail; backbone admins only."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from audit import selectors
from organizations.models import Organization
from tests.audit.util import make_event
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

URL = "/audit/network-activity/"
NOW = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)  # noon in Chicago
SECRET_CLIENT = 8675309  # an id that must never show on the network page
SECRET_OBJECT = 5551212


@pytest.fixture
def activity(tenant, foreign_tenant):
    def add(org, actor, action, n, *, days_ago=1):
        for _ in range(n):
            make_event(
                organization=org,
                actor=actor,
                action=action,
                object_ids=[SECRET_OBJECT],
                client_ids=[SECRET_CLIENT],
                request_id="req-hidden-from-backbone",
                when=NOW - timedelta(days=days_ago),
            )

    add(tenant.hco, tenant.hco_navigator, "view", 3)
    add(tenant.hco, tenant.hco_staff, "list", 1)
    add(tenant.cbo, tenant.cbo_staff, "update", 2, days_ago=29)
    # Outside the default 30 days (today and the 29 before it).
    add(tenant.cbo, tenant.cbo_staff, "view", 4, days_ago=30)
    # Another network: never counted.
    add(foreign_tenant.hco, foreign_tenant.hco_navigator, "view", 5)
    add(foreign_tenant.hco, foreign_tenant.hco_navigator, "export", 1)


def table(page: str) -> dict[str, list[str]]:
    """Row header -> cells of the activity table, and the column headers under 'columns'."""
    body = page[page.index('data-testid="network-activity"') :]
    body = body[: body.index("</table>")]
    out = {"columns": re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', body)}
    for header, cells in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', body, re.S):
        out[header] = re.findall(r"<td>(?:<strong[^>]*>)?([^<]+)", cells)
    return out


def test_counts_per_organization_and_action_with_totals(client, login, tenant, activity):
    login(tenant.backbone_admin)
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL)
    assert response.status_code == 200
    rows = table(response.content.decode())
    assert rows["columns"] == ["Organization", "Viewed", "Listed", "Changed", "Total"]
    assert rows[tenant.hco.name] == ["3", "1", "0", "4"]
    assert rows[tenant.cbo.name] == ["0", "0", "2", "2"]
    assert rows[tenant.backbone.name] == ["0", "0", "0", "0"]
    assert rows["All organizations"] == ["3", "1", "2", "6"]


def test_the_page_holds_no_client_level_detail_and_nothing_of_other_networks(
    client, login, tenant, foreign_tenant, activity
):
    login(tenant.backbone_admin)
    with time_machine.travel(NOW, tick=False):
        page = client.get(URL).content.decode()
    assert "Viewed" in page  # the table is there...
    # ...but not what it counts: no client ids, object ids, request ids or people.
    for hidden in (str(SECRET_CLIENT), str(SECRET_OBJECT), "req-hidden-from-backbone"):
        assert hidden not in page
    for person in (tenant.hco_navigator, tenant.hco_staff, tenant.cbo_staff):
        assert person.email not in page
    assert foreign_tenant.hco.name not in page
    assert "Exported" not in page  # only the foreign network exported anything


def test_the_selector_counts_only_the_networks_organizations(tenant, foreign_tenant, activity):
    result = selectors.network_activity(
        network=tenant.network, since=NOW - timedelta(days=60), until=NOW
    )
    assert {r.organization for r in result.rows} == {tenant.backbone, tenant.hco, tenant.cbo}
    assert [code for code, _ in result.actions] == ["view", "list", "update"]
    by_org = {r.organization: dict(zip(result.actions, r.counts, strict=True)) for r in result.rows}
    assert by_org[tenant.cbo][("view", "Viewed")] == 4  # 30 days ago is inside 60 days
    assert result.total == 3 + 1 + 2 + 4
    foreign = selectors.network_activity(
        network=foreign_tenant.network, since=NOW - timedelta(days=60), until=NOW
    )
    assert foreign.total == 6
    assert {r.organization for r in foreign.rows if r.total} == {foreign_tenant.hco}


def test_an_inactive_organization_shows_only_when_it_did_something(tenant, activity):
    OrganizationFactory(network=tenant.network, name="Closed Pantry", is_active=False)
    tenant.cbo.is_active = False
    tenant.cbo.save()
    result = selectors.network_activity(
        network=tenant.network, since=NOW - timedelta(days=60), until=NOW
    )
    names = {r.organization.name for r in result.rows}
    assert tenant.cbo.name in names
    assert "Closed Pantry" not in names


def test_a_chosen_period_counts_whole_days(client, login, tenant, activity):
    login(tenant.backbone_admin)
    day = (NOW - timedelta(days=30)).date().isoformat()
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"{URL}?since={day}&until={day}").content.decode()
    rows = table(page)
    assert rows["columns"] == ["Organization", "Viewed", "Total"]
    assert rows[tenant.cbo.name] == ["4", "4"]
    assert rows["All organizations"] == ["4", "4"]


def test_the_period_defaults_to_the_last_30_days(client, login, tenant):
    login(tenant.backbone_admin)
    with time_machine.travel(NOW, tick=False):
        page = client.get(URL).content.decode()
    assert 'name="since" value="2026-06-01"' in page
    assert 'name="until" value="2026-06-30"' in page
    assert "Last 90 days" in page


def test_empty_state(client, login, tenant):
    login(tenant.backbone_admin)
    page = client.get(URL).content.decode()
    assert "No activity recorded in the network in this period." in page
    assert 'data-testid="network-activity"' not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?since=2026-06-10&until=2026-06-01", "The end date must be on or after the start date."),
        ("?since=yesterday", "Enter a valid date."),
        ("?until=0001-01-03", "Choose a date between 2000 and 2999."),
    ],
)
def test_a_bad_period_is_explained_not_counted(client, login, tenant, activity, query, message):
    login(tenant.backbone_admin)
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL + query)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert "Fix the period above to see activity." in page
    assert 'data-testid="network-activity"' not in page


@pytest.mark.parametrize("persona", ["hco_admin", "hco_navigator", "cbo_staff"])
def test_only_backbone_admins_see_network_activity(client, login, tenant, persona):
    login(getattr(tenant, persona))
    assert client.get(URL).status_code == 403
    assert "Network activity" not in client.get("/").content.decode()


def test_backbone_admins_find_it_in_the_navigation(client, login, tenant):
    login(tenant.backbone_admin)
    assert f'href="{URL}">Network activity</a>' in client.get("/").content.decode()


def test_the_query_count_does_not_grow_with_organizations(
    client, login, tenant, django_assert_max_num_queries
):
    for _ in range(25):
        org = OrganizationFactory(network=tenant.network, kind=Organization.Kind.CBO)
        make_event(organization=org, actor=None, when=NOW - timedelta(days=1))
    login(tenant.backbone_admin)
    # session, user, OTP device, memberships; savepoint; the grouped counts; the
    # organizations; release; session save (3).
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(11):
        page = client.get(URL).content.decode()
    assert table(page)["All organizations"] == ["25", "25"]
