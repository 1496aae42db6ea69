"""The inbox and sent pages: tabs and counts, each filter, overdue rows, pagination, ages,
the client-name search kept out of URLs, the audit, and a constant number of queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client as HttpClient

from audit.models import AuditEvent
from organizations.roles import Role
from referrals.models import Referral
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    ReferralFactory,
    member,
    referral_for,
    release_for,
)

pytestmark = pytest.mark.django_db

INBOX = "/referrals/inbox/"
SENT = "/referrals/sent/"
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'data-referral-id="(\d+)"', response.content.decode())]


def tab_count(response, key: str) -> int:
    match = re.search(rf'data-testid="count-{key}">(\d+)<', response.content.decode())
    assert match, f"no count for tab {key}"
    return int(match.group(1))


def client_of(tenant, **fields):
    """A client of the tenant's HCO with a release naming the CBO (what sending needs)."""
    person = ClientFactory(
        created_by_organization=tenant.hco, created_by=tenant.hco_navigator, **fields
    )
    release_for(
        person,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=tenant.hco_navigator,
    )
    return person


def referral(tenant, program=None, **fields):
    fields.setdefault("sender_user", tenant.hco_navigator)
    return ReferralFactory(
        client=fields.pop("client", None) or client_of(tenant),
        program=program or ProgramFactory(organization=tenant.cbo),
        **fields,
    )


@pytest.fixture
def mixed(tenant):
    """Eight referrals from the HCO to the CBO's pantry, one or more in every status group."""
    pantry = ProgramFactory(organization=tenant.cbo, name="Pantry")
    statuses = [
        "requested",
        "requested",
        "accepted",
        "in-progress",
        "on-hold",
        "completed",
        "completed",
        "cancelled",
    ]
    made = {}
    for i, status in enumerate(statuses):
        extra = {"outcome": "need-met"} if status == "completed" else {}
        made.setdefault(status, []).append(
            referral(
                tenant,
                pantry,
                status=status,
                created_at=NOW - timedelta(hours=i + 1),
                **extra,
            )
        )
    return made


def test_inbox_tabs_count_each_status_group_and_list_the_open_ones(client, login, tenant, mixed):
    login(tenant.cbo_staff)
    response = client.get(INBOX)
    assert response.status_code == 200
    counts = {
        k: tab_count(response, k)
        for k in ("open", "requested", "accepted", "in-progress", "on-hold", "closed", "all")
    }
    assert counts == {
        "open": 5,
        "requested": 2,
        "accepted": 1,
        "in-progress": 1,
        "on-hold": 1,
        "closed": 3,
        "all": 8,
    }
    open_ids = {r.pk for s in ("requested", "accepted", "in-progress", "on-hold") for r in mixed[s]}
    assert set(row_ids(response)) == open_ids

    closed = client.get(INBOX, {"tab": "closed"})
    assert set(row_ids(closed)) == {r.pk for s in ("completed", "cancelled") for r in mixed[s]}
    assert set(row_ids(client.get(INBOX, {"tab": "requested"}))) == {
        r.pk for r in mixed["requested"]
    }
    # Receivers call a referral waiting for their answer "New".
    assert 'data-testid="tab-requested"' in response.content.decode()
    assert ">New <" in response.content.decode()


def test_sent_lists_what_the_organization_sent_and_nothing_it_received(
    client, login, tenant, mixed
):
    login(tenant.hco_navigator)
    response = client.get(SENT, {"tab": "all"})
    assert tab_count(response, "all") == 8
    assert len(row_ids(response)) == 8
    assert "Waiting for a response" in response.content.decode()

    cbo = login(tenant.cbo_staff, HttpClient())
    assert tab_count(cbo.get(SENT), "all") == 0
    assert row_ids(cbo.get(SENT)) == []
    assert "No open referrals sent by your organization" in cbo.get(SENT).content.decode()


def test_filter_by_program(client, login, tenant):
    pantry = ProgramFactory(organization=tenant.cbo, name="Pantry")
    meals = ProgramFactory(organization=tenant.cbo, name="Meals on Wheels")
    a = referral(tenant, pantry)
    b = referral(tenant, meals)
    login(tenant.cbo_staff)
    assert row_ids(client.get(INBOX, {"program": pantry.pk})) == [a.pk]
    response = client.get(INBOX, {"program": meals.pk})
    assert row_ids(response) == [b.pk]
    assert tab_count(response, "all") == 1  # counts follow the filters
    # A program of another organization is not a choice: a clear error, no filter.
    other = ProgramFactory(organization=tenant.hco)
    refused = client.get(INBOX, {"program": other.pk})
    assert "Select a valid choice" in refused.content.decode()
    assert set(row_ids(refused)) == {a.pk, b.pk}


def test_filter_assigned_to_me_and_sent_by_me(client, login, tenant):
    colleague = member(tenant.cbo, Role.STAFF)
    mine = referral(tenant, assigned_to=tenant.cbo_staff)
    referral(tenant, assigned_to=colleague)
    referral(tenant)
    login(tenant.cbo_staff)
    assert row_ids(client.get(INBOX, {"mine": "on"})) == [mine.pk]

    other_sender = member(tenant.hco, Role.NAVIGATOR)
    by_me = referral(tenant)
    referral(tenant, sender_user=other_sender)
    hco = login(tenant.hco_navigator, HttpClient())
    ids = row_ids(hco.get(SENT, {"mine": "on"}))
    assert by_me.pk in ids
    assert all(Referral.objects.get(pk=i).sender_user_id == tenant.hco_navigator.pk for i in ids)


def test_overdue_rows_stand_out_and_the_filter_keeps_only_them(client, login, tenant):
    with time_machine.travel(NOW, tick=False):
        late_ack = referral(tenant, ack_due_at=NOW - timedelta(hours=1))
        late_update = referral(tenant, status="accepted", update_due_at=NOW - timedelta(days=1))
        on_time = referral(tenant, ack_due_at=NOW + timedelta(days=1))
        # A closed referral is never overdue, whatever its old due dates.
        referral(tenant, status="completed", outcome="need-met", ack_due_at=NOW - timedelta(days=9))
        login(tenant.cbo_staff)
        response = client.get(INBOX)
        body = response.content.decode()
        for r in (late_ack, late_update):
            row = re.search(
                rf'<li data-testid="referral-row" data-referral-id="{r.pk}"[^>]*>', body
            )
            assert 'class="overdue"' in row.group(0)
        row = re.search(
            rf'<li data-testid="referral-row" data-referral-id="{on_time.pk}"[^>]*>', body
        )
        assert "overdue" not in row.group(0)
        assert body.count('data-testid="overdue"') == 2
        only = client.get(INBOX, {"overdue": "on", "tab": "all"})
        assert set(row_ids(only)) == {late_ack.pk, late_update.pk}


def test_filter_by_urgency(client, login, tenant):
    urgent = referral(tenant, urgency="urgent")
    referral(tenant, urgency="routine")
    login(tenant.cbo_staff)
    response = client.get(INBOX, {"urgency": "urgent"})
    assert row_ids(response) == [urgent.pk]
    assert "Urgent" in response.content.decode()


def test_filter_by_date_sent(client, login, tenant):
    early = referral(tenant, created_at=NOW - timedelta(days=10))
    middle = referral(tenant, created_at=NOW - timedelta(days=5))
    late = referral(tenant, created_at=NOW - timedelta(days=1))
    login(tenant.cbo_staff)
    day = lambda d: (NOW - timedelta(days=d)).date().isoformat()  # noqa: E731
    assert set(row_ids(client.get(INBOX, {"sent_from": day(6)}))) == {middle.pk, late.pk}
    assert set(row_ids(client.get(INBOX, {"sent_to": day(6)}))) == {early.pk}
    assert row_ids(client.get(INBOX, {"sent_from": day(6), "sent_to": day(2)})) == [middle.pk]
    backwards = client.get(INBOX, {"sent_from": day(2), "sent_to": day(6)})
    assert "The end date is before the start date." in backwards.content.decode()


def test_every_row_shows_its_age(client, login, tenant):
    with time_machine.travel(NOW, tick=False):
        referral(tenant, created_at=NOW - timedelta(days=3, hours=2))
        login(tenant.cbo_staff)
        body = client.get(INBOX).content.decode()
    assert re.search(r'data-testid="age">Sent 3\xa0days ago<', body), body


def test_pagination_splits_long_lists(client, login, tenant):
    pantry = ProgramFactory(organization=tenant.cbo)
    made = [referral(tenant, pantry, created_at=NOW - timedelta(minutes=i)).pk for i in range(30)]
    login(tenant.cbo_staff)
    first = client.get(INBOX)
    assert row_ids(first) == made[:25]  # newest first
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(INBOX, {"page": 2})
    assert row_ids(second) == made[25:]


def test_client_search_is_posted_and_never_reaches_the_url(client, login, tenant):
    wanted = client_of(tenant, given_name="Rosalind", family_name="Quaternion")
    mine = referral(tenant, client=wanted)
    referral(tenant)
    # A client the CBO may not see by name: found by nobody's name search.
    hidden = ClientFactory(created_by_organization=tenant.hco, family_name="Quaternion")
    release_for(hidden, organization=tenant.hco, recipients=[tenant.cbo], categories=("referrals",))
    referral(tenant, client=hidden)
    login(tenant.cbo_staff)
    response = client.post(INBOX, {"client_name": "quaternion"})
    assert response.status_code == 200
    assert row_ids(response) == [mine.pk]
    body = response.content.decode()
    # Tabs and pages re-post the name: no link anywhere carries it.
    assert "client_name=" not in body
    assert not re.search(r'href="[^"]*[Qq]uaternion', body)
    # Switching tabs re-posts the search.
    assert 'name="tab" value="closed"' in body
    closed = client.post(INBOX, {"client_name": "quaternion", "tab": "closed"})
    assert row_ids(closed) == []
    assert tab_count(closed, "open") == 1
    # The name in a query string does nothing.
    assert len(row_ids(client.get(INBOX, {"client_name": "quaternion"}))) == 3
    # Searching is audited as a search of what was shown.
    event = AuditEvent.objects.filter(object_type="referral", action="search").latest("id")
    assert event.object_ids == [mine.pk]


def test_client_search_needs_a_name(client, login, tenant):
    login(tenant.cbo_staff)
    response = client.post(INBOX, {"client_name": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_filter_by_client_id(client, login, tenant):
    person = client_of(tenant)
    theirs = referral(tenant, client=person)
    referral(tenant)
    login(tenant.cbo_staff)
    assert row_ids(client.get(INBOX, {"client": person.pk})) == [theirs.pk]


def test_the_list_is_audited_once_with_every_id_shown(client, login, tenant, mixed):
    login(tenant.cbo_staff)
    before = AuditEvent.objects.count()
    response = client.get(INBOX)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.action == "list"
    assert event.object_type == "referral"
    assert sorted(event.object_ids) == sorted(row_ids(response))
    assert set(event.clients.values_list("client_id", flat=True)) == {
        Referral.objects.get(pk=i).client_id for i in row_ids(response)
    }


def test_names_show_only_where_releases_allow(client, login, tenant):
    named = client_of(tenant, given_name="Philippa", family_name="Oakenshaw")
    referral(tenant, client=named)
    unnamed = ClientFactory(
        created_by_organization=tenant.hco, given_name="Hortensia", family_name="Vexley"
    )
    release_for(
        unnamed, organization=tenant.hco, recipients=[tenant.cbo], categories=("referrals",)
    )
    hidden_row = referral(tenant, client=unnamed)
    login(tenant.cbo_staff)
    body = client.get(INBOX).content.decode()
    assert "Philippa Oakenshaw" in body
    assert "Vexley" not in body
    assert f"Client #{hidden_row.client_id}" in body


def test_an_outsider_sees_none_of_it(client, login, tenant, foreign_tenant):
    referral_for(tenant)
    login(foreign_tenant.cbo_staff)
    response = client.get(INBOX, {"tab": "all"})
    assert row_ids(response) == []
    assert tenant.client.family_name not in response.content.decode()


def _queries_for(client, url, django_assert_max_num_queries) -> int:
    # The queries of one list page, whatever its length (20 today):
    #   session, user, memberships and the OTP device (middleware); the SAVEPOINT/RELEASE
    #   pairs of the request's atomic blocks; the open referrals counted per status; the
    #   closed ones counted up to the cap (these two give every tab and the paginator its
    #   count); the page of rows (clients, programs, organizations and people joined); the
    #   needs of those rows (one prefetch); which of the page's clients the organization may
    #   name (the "active partner" check and one query over the page's client ids); the
    #   audit event and its client index rows; the program choices of the filter; saving
    #   the session. The bell's count loads in its own request after the page.
    with django_assert_max_num_queries(20) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", [INBOX, SENT])
def test_query_count_does_not_grow_with_the_list(
    client, login, tenant, django_assert_max_num_queries, url
):
    pantry = ProgramFactory(organization=tenant.cbo)
    assignee = member(tenant.cbo, Role.STAFF)
    user = tenant.cbo_staff if url == INBOX else tenant.hco_navigator
    login(user)
    for i in range(5):
        referral(tenant, pantry, assigned_to=assignee, created_at=NOW - timedelta(minutes=i))
    few = _queries_for(client, url, django_assert_max_num_queries)
    for i in range(55):
        referral(
            tenant,
            ProgramFactory(organization=tenant.cbo),
            assigned_to=assignee,
            created_at=NOW - timedelta(hours=i),
        )
    many = _queries_for(client, url, django_assert_max_num_queries)
    assert Referral.objects.count() == 60
    assert many == few


def test_closed_referrals_are_counted_up_to_a_cap(client, login, tenant, monkeypatch):
    from referrals import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    pantry = ProgramFactory(organization=tenant.cbo)
    for i in range(5):
        referral(tenant, pantry, status="cancelled", created_at=NOW - timedelta(hours=i))
    referral(tenant, pantry)
    login(tenant.cbo_staff)
    response = client.get(INBOX, {"tab": "closed"})
    body = response.content.decode()
    assert 'data-testid="count-closed">3+<' in body
    assert 'data-testid="count-all">4+<' in body
    assert 'data-testid="count-open">1<' in body
    assert "More than 3 referrals: the newest 3 are listed" in body
    assert len(row_ids(response)) == 3
