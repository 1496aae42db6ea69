"""An org admin's access log: own organization only, filters, pages, CSV, errors, queries."""

import csv
import io
import logging
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings

from audit import selectors
from organizations.roles import Role
from tests.audit.util import make_event
from tests.factories import member

pytestmark = pytest.mark.django_db

URL = "/audit/access-log/"
MARCH = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)  # noon in Chicago


@pytest.fixture
def events(tenant, foreign_tenant):
    """Events of the HCO, and of two other organizations that its admin must never see."""
    t = tenant
    return {
        "nav-view": make_event(
            organization=t.hco,
            actor=t.hco_navigator,
            action="view",
            object_ids=[t.client.pk],
            client_ids=[t.client.pk],
            when=datetime(2026, 3, 1, 15, 0, tzinfo=UTC),
            request_id="req-nav-view-0001",
            detail={"categories": ["demographics", "social_needs"]},
        ),
        "staff-list": make_event(
            organization=t.hco,
            actor=t.hco_staff,
            action="list",
            object_type="referral",
            object_ids=[501, 502],
            client_ids=[t.client.pk, 777001],
            when=datetime(2026, 3, 5, 15, 0, tzinfo=UTC),
            request_id="req-staff-list-0002",
            detail={"categories": ["referrals"]},
            ip_address="203.0.113.45",
        ),
        "nav-update": make_event(
            organization=t.hco,
            actor=t.hco_navigator,
            action="update",
            object_ids=[777001],
            client_ids=[777001],
            when=datetime(2026, 3, 9, 15, 0, tzinfo=UTC),
            request_id="req-nav-update-0003",
            detail={"fields": ["phone"]},
        ),
        "cbo-view": make_event(
            organization=t.cbo,
            actor=t.cbo_staff,
            object_ids=[t.client.pk],
            client_ids=[t.client.pk],
            when=datetime(2026, 3, 5, 15, 0, tzinfo=UTC),
            request_id="req-cbo-view-0004",
        ),
        "foreign-view": make_event(
            organization=foreign_tenant.hco,
            actor=foreign_tenant.hco_navigator,
            object_ids=[foreign_tenant.client.pk],
            client_ids=[foreign_tenant.client.pk],
            when=datetime(2026, 3, 5, 15, 0, tzinfo=UTC),
            request_id="req-foreign-view-0005",
        ),
    }


ALL_MARKERS = [
    "req-nav-view-0001",
    "req-staff-list-0002",
    "req-nav-update-0003",
    "req-cbo-view-0004",
    "req-foreign-view-0005",
]


def shown(page: str) -> list[str]:
    """The request ids on the page, in page order."""
    return sorted((m for m in ALL_MARKERS if m in page), key=page.index)


def get_page(client, query: str = "") -> str:
    response = client.get(URL + query)
    assert response.status_code == 200
    return response.content.decode()


def test_org_admin_sees_own_organizations_events_newest_first(client, login, tenant, events):
    login(tenant.hco_admin)
    page = get_page(client)
    assert shown(page) == ["req-nav-update-0003", "req-staff-list-0002", "req-nav-view-0001"]
    # The row shows the object, its ids, the clients, the categories, the address.
    assert "#501, #502" in page
    assert "777001" in page
    assert "demographics, social_needs" in page
    assert "fields: phone" in page
    assert "203.0.113.45" in page
    assert tenant.hco_staff.get_full_name() in page


def test_selector_returns_only_that_organizations_rows(tenant, foreign_tenant, events):
    rows = selectors.access_log_for(organization=tenant.cbo)
    assert [e.request_id for e in rows] == ["req-cbo-view-0004"]
    rows = selectors.access_log_for(organization=foreign_tenant.hco)
    assert [e.request_id for e in rows] == ["req-foreign-view-0005"]


def test_backbone_admin_sees_the_backbones_own_log_not_the_members(client, login, tenant, events):
    make_event(
        organization=tenant.backbone, actor=tenant.backbone_admin, request_id="req-backbone-0006"
    )
    login(tenant.backbone_admin)
    page = get_page(client)
    assert "req-backbone-0006" in page
    assert shown(page) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?user={navigator}", ["req-nav-update-0003", "req-nav-view-0001"]),
        ("?client=777001", ["req-nav-update-0003", "req-staff-list-0002"]),
        ("?client={client}", ["req-staff-list-0002", "req-nav-view-0001"]),
        ("?action=list", ["req-staff-list-0002"]),
        # Days in Chicago, both included.
        ("?since=2026-03-05", ["req-nav-update-0003", "req-staff-list-0002"]),
        ("?until=2026-03-05", ["req-staff-list-0002", "req-nav-view-0001"]),
        ("?since=2026-03-02&until=2026-03-08", ["req-staff-list-0002"]),
        ("?user={navigator}&action=view&client={client}", ["req-nav-view-0001"]),
        ("?user={staff}&action=update", []),
    ],
)
def test_each_filter_narrows_the_log(client, login, tenant, events, query, expected):
    login(tenant.hco_admin)
    query = query.format(
        navigator=tenant.hco_navigator.pk, staff=tenant.hco_staff.pk, client=tenant.client.pk
    )
    page = get_page(client, query)
    assert shown(page) == expected
    if not expected:
        assert "No events match these filters." in page


def test_a_client_filter_never_reaches_another_organizations_events(
    client, login, tenant, foreign_tenant, events
):
    login(tenant.hco_admin)
    page = get_page(client, f"?client={foreign_tenant.client.pk}")
    assert shown(page) == []
    assert "No events match these filters." in page


def test_the_member_choice_lists_own_staff_only(client, login, tenant, events):
    login(tenant.hco_admin)
    page = get_page(client)
    assert tenant.hco_staff.email in page
    assert tenant.cbo_staff.email not in page
    assert tenant.backbone_admin.email not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?since=2026-03-09&until=2026-03-01", "The end date must be on or after the start date."),
        ("?action=peek", "Choose one of the listed actions."),
        ("?user={cbo_staff}", "Choose a member of your organization."),
        ("?user=not-a-number", "Choose a member of your organization."),
        ("?user=99999999999999999999999", "Choose a member of your organization."),
        ("?client=abc", "A client ID is a number."),
        ("?client=0", "A client ID is a positive number."),
        ("?client=99999999999999999999999", "No client has an ID that large."),
        ("?since=0001-01-01", "Choose a date between 2000 and 2999."),
        ("?until=9999-12-31", "Choose a date between 2000 and 2999."),
        ("?since=2026-02-30", "Enter a valid date."),
    ],
)
def test_invalid_filters_explain_themselves_and_show_nothing(
    client, login, tenant, events, query, message
):
    login(tenant.hco_admin)
    response = client.get(URL + query.format(cbo_staff=tenant.cbo_staff.pk))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Fix the filters above to see events." in page
    assert shown(page) == []
    # Asking for the CSV with bad filters gets the same page, not a file of everything.
    response = client.get(URL + query.format(cbo_staff=tenant.cbo_staff.pk) + "&format=csv")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()


def test_an_unknown_download_format_is_a_400_not_the_html_page(client, login, tenant, events):
    login(tenant.hco_admin)
    response = client.get(URL + "?action=view&format=pdf")
    assert response.status_code == 400
    page = response.content.decode()
    assert "The access log downloads as CSV only (format=csv)." in page
    assert shown(page) == []
    assert 'value="view" selected' in page  # the filters chosen stay chosen


@pytest.mark.parametrize("persona", ["hco_staff", "hco_navigator", "cbo_staff"])
def test_only_org_admins_open_the_access_log(client, login, tenant, events, persona):
    login(getattr(tenant, persona))
    assert client.get(URL).status_code == 403
    assert client.get(URL + "?format=csv").status_code == 403
    assert "Access log" not in client.get("/").content.decode()


def test_admins_find_it_in_the_navigation(client, login, tenant):
    login(tenant.hco_admin)
    assert f'href="{URL}">Access log</a>' in client.get("/").content.decode()


def test_empty_states(client, login, tenant):
    login(tenant.hco_admin)
    assert "Nothing recorded yet" in get_page(client)
    assert "No events match these filters." in get_page(client, "?action=revoke")


def test_pages_of_fifty_keep_the_filters(client, login, tenant):
    for n in range(60):
        make_event(
            organization=tenant.hco,
            actor=tenant.hco_navigator,
            action="view",
            object_ids=[n + 1],
            request_id=f"req-page-{n:04d}",
            when=datetime(2026, 3, 1, 12, n, tzinfo=UTC),
        )
    make_event(organization=tenant.hco, actor=tenant.hco_staff, action="list", request_id="x" * 8)
    login(tenant.hco_admin)
    first = get_page(client, "?action=view")
    assert first.count("req-page-") == 50
    assert "req-page-0059" in first  # newest first
    assert "req-page-0009" not in first
    assert "60 events match" in first
    assert "?action=view&amp;page=2" in first
    second = get_page(client, "?action=view&page=2")
    assert second.count("req-page-") == 10
    assert "req-page-0000" in second
    assert "xxxxxxxx" not in first + second


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="access-log-')
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_csv_holds_exactly_the_filtered_rows(client, login, tenant, events):
    login(tenant.hco_admin)
    query = f"?client={tenant.client.pk}&since=2026-03-01"
    rows = read_csv(client.get(URL + query + "&format=csv&page=2"))
    expected = selectors.access_log_for(
        organization=tenant.hco,
        client_id=tenant.client.pk,
        since=datetime(2026, 3, 1, 6, 0, tzinfo=UTC),
    )
    assert [r["request_id"] for r in rows] == [e.request_id for e in expected]
    assert [r["request_id"] for r in rows] == ["req-staff-list-0002", "req-nav-view-0001"]
    listed = rows[0]
    assert listed["action"] == "list"
    assert listed["object_type"] == "referral"
    assert listed["object_ids"] == "501 502"
    assert listed["client_ids"] == f"{tenant.client.pk} 777001"
    assert listed["categories"] == "referrals"
    assert listed["ip_address"] == "203.0.113.45"
    assert listed["actor_email"] == tenant.hco_staff.email
    assert listed["occurred_at"].startswith("2026-03-05T09:00:00")  # Chicago time


def test_csv_without_filters_is_the_whole_own_log(client, login, tenant, events):
    login(tenant.hco_admin)
    rows = read_csv(client.get(URL + "?format=csv"))
    assert [r["request_id"] for r in rows] == [
        "req-nav-update-0003",
        "req-staff-list-0002",
        "req-nav-view-0001",
    ]


def test_csv_cells_cannot_become_spreadsheet_formulas(client, login, tenant):
    make_event(organization=tenant.hco, actor=tenant.hco_staff, request_id="=HYPERLINK(1)")
    login(tenant.hco_admin)
    rows = read_csv(client.get(URL + "?format=csv"))
    assert rows[0]["request_id"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("count", [5, 60])
def test_the_page_costs_the_same_queries_for_5_or_60_events(
    client, login, tenant, django_assert_max_num_queries, count
):
    for n in range(count):
        make_event(
            organization=tenant.hco,
            actor=[tenant.hco_navigator, tenant.hco_staff, tenant.hco_admin][n % 3],
            object_ids=[n],
            client_ids=[n, n + 1000],
        )
    login(tenant.hco_admin)
    # session, user, OTP device, memberships; savepoint (ATOMIC_REQUESTS); the chosen member
    # checked, the member choices rendered; count, page rows with their actors, prefetch of
    # clients; release; session save in its own savepoint (3). Nothing grows with the rows.
    with django_assert_max_num_queries(14):
        page = get_page(client, f"?user={tenant.hco_navigator.pk}")
    assert page.count("<tr>") - 1 == len(range(0, count, 3))


@override_settings(DEBUG=True)
def test_the_log_pages_show_and_log_no_client_details(client, login, tenant, events, caplog):
    login(tenant.hco_admin)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    page = get_page(client) + get_page(client, f"?client={tenant.client.pk}")
    page += b"".join(client.get(URL + "?format=csv").streaming_content).decode()
    assert "INSERT" in caplog.text or "SELECT" in caplog.text  # the capture is live
    person = tenant.client
    for phi in (person.given_name, person.family_name, person.email, person.phone):
        assert phi not in page
        assert phi not in caplog.text


def test_a_member_who_left_can_still_be_filtered_on(client, login, tenant):
    former = member(tenant.hco, Role.STAFF, email="former@marrowdale.test")
    former.memberships.update(is_active=False)
    with time_machine.travel(MARCH, tick=False):
        make_event(organization=tenant.hco, actor=former, request_id="req-former-0007")
    login(tenant.hco_admin)
    page = get_page(client, f"?user={former.pk}")
    assert "req-former-0007" in page
