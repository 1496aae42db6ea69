"""Issue 17, points 3 and 4: "respond by" / "update by" on rows and on the referral page,
lists of open work sorted by what is due first, "Overdue only" one tap away, and answering
from the inbox row (accept, assigning it to me unless I untick the box; decline with a
coded reason), back on the list afterwards."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client as HttpClient

from referrals.models import Referral, ReferralEvent
from tests.factories import ProgramFactory

from .test_pages_lists import INBOX, SENT, referral, row_ids

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def pantry(tenant):
    return ProgramFactory(organization=tenant.cbo, name="Pantry")


def row_of(html: str, pk: int) -> str:
    match = re.search(rf'data-referral-id="{pk}".*?</li>', html, re.S)
    assert match, f"no row for #{pk}"
    return match.group(0)


def test_open_work_is_sorted_by_what_is_due_first_and_closed_by_newest(
    client, login, tenant, pantry
):
    # Made in this order: an old unopened referral (long overdue), today's new one, an
    # accepted one whose update is due tomorrow, one on hold (owes nothing).
    old = referral(
        tenant,
        pantry,
        status="requested",
        created_at=NOW - timedelta(days=180),
        ack_due_at=NOW - timedelta(days=178),
    )
    new = referral(
        tenant, pantry, status="requested", created_at=NOW, ack_due_at=NOW + timedelta(days=2)
    )
    accepted = referral(
        tenant,
        pantry,
        status="accepted",
        created_at=NOW - timedelta(days=3),
        update_due_at=NOW + timedelta(days=1),
    )
    held = referral(tenant, pantry, status="on-hold", created_at=NOW - timedelta(hours=1))
    login(tenant.cbo_staff)

    response = client.get(INBOX)
    assert row_ids(response) == [old.pk, accepted.pk, new.pk, held.pk]
    html = response.content.decode()
    assert "What is due first" in html
    assert "Respond by Sun, Sep 14" in row_of(html, old.pk)  # 178 days before
    assert "5\xa0months overdue" in row_of(html, old.pk)
    assert 'class="overdue"' in row_of(html, old.pk)
    assert "Respond by Fri, Mar 13 (due in 2\xa0days)" in row_of(html, new.pk)
    assert "Update by Thu, Mar 12 (due in 1\xa0day)" in row_of(html, accepted.pk)
    assert 'data-testid="deadline"' not in row_of(html, held.pk)

    # The "New" tab too; the closed and all tabs stay newest first.
    assert row_ids(client.get(INBOX, {"tab": "requested"})) == [old.pk, new.pk]
    assert row_ids(client.get(INBOX, {"tab": "all"})) == [new.pk, held.pk, accepted.pk, old.pk]
    # The sender's "waiting for a response" is sorted the same way.
    clinic = login(tenant.hco_navigator, HttpClient())
    assert row_ids(clinic.get(SENT, {"tab": "requested"})) == [old.pk, new.pk]


def test_overdue_only_is_one_tap_away_not_under_filters(client, login, tenant, pantry):
    late = referral(tenant, pantry, status="requested", ack_due_at=NOW - timedelta(hours=1))
    referral(tenant, pantry, status="requested", ack_due_at=NOW + timedelta(days=1))
    login(tenant.cbo_staff)
    html = client.get(INBOX).content.decode()
    quick = re.search(r'data-testid="quick-filters">(.*?)</p>', html, re.S).group(1)
    link = re.search(r'href="([^"]+)"[^>]*data-testid="quick-overdue"', quick).group(1)
    assert html.index('data-testid="quick-filters"') < html.index('class="filters"')
    on = client.get(INBOX + link.replace("&amp;", "&"))
    assert row_ids(on) == [late.pk]
    assert 'aria-pressed="true" data-testid="quick-overdue"' in on.content.decode()


def test_the_referral_page_shows_the_deadline_and_that_it_is_overdue(client, login, tenant, pantry):
    late = referral(tenant, pantry, status="requested", ack_due_at=NOW - timedelta(hours=1))
    login(tenant.cbo_staff)
    html = client.get(f"/referrals/{late.pk}/").content.decode()
    assert re.search(r"<dt>Respond by</dt><dd data-testid=\"deadline\">Wed, Mar 11, 2026", html)
    assert 'data-testid="overdue">Overdue<' in html

    on_time = referral(tenant, pantry, status="accepted", update_due_at=NOW + timedelta(days=3))
    html = client.get(f"/referrals/{on_time.pk}/").content.decode()
    assert "<dt>Update by</dt>" in html
    assert 'data-testid="overdue"' not in html
    closed = referral(tenant, pantry, status="cancelled", ack_due_at=NOW - timedelta(days=9))
    assert 'data-testid="deadline"' not in client.get(f"/referrals/{closed.pk}/").content.decode()


def test_accept_from_the_row_assigns_it_to_me_and_comes_back_to_the_list(
    client, login, tenant, pantry
):
    mine, theirs = (
        referral(tenant, pantry, status="requested", ack_due_at=NOW + timedelta(days=1))
        for _ in range(2)
    )
    intake = referral(tenant, None, status="requested")
    Referral.objects.filter(pk=intake.pk).update(program=None)
    login(tenant.cbo_staff)
    html = client.get(INBOX).content.decode()
    assert 'data-testid="row-accept"' in row_of(html, mine.pk)
    # A referral sent to the organization needs its program chosen: on its page.
    assert 'data-testid="row-accept"' not in row_of(html, intake.pk)

    back = INBOX + "?tab=requested"
    response = client.post(
        f"/referrals/{mine.pk}/move/",
        {
            "move": "accept",
            "expected_status": "requested",
            "assign_to_me": "on",
            "next": back,
        },
    )
    assert response.status_code == 302 and response["Location"] == back
    mine.refresh_from_db()
    assert (mine.status, mine.assigned_to) == ("accepted", tenant.cbo_staff)
    assert mine.events.filter(kind=ReferralEvent.Kind.ASSIGNED).count() == 1
    listed = client.get(back).content.decode()
    assert f"Referral #{mine.pk} is now accepted, assigned to you." in listed
    assert row_ids(client.get(back)) == [theirs.pk, intake.pk]

    # Unticked: accepted, assigned to nobody.
    client.post(
        f"/referrals/{theirs.pk}/move/",
        {"move": "accept", "expected_status": "requested", "next": back},
    )
    theirs.refresh_from_db()
    assert (theirs.status, theirs.assigned_to) == ("accepted", None)


def test_decline_from_the_row_needs_a_coded_reason_and_writes_nothing_without_one(
    client, login, tenant, pantry
):
    target = referral(tenant, pantry, status="requested")
    login(tenant.cbo_staff)
    html = row_of(client.get(INBOX).content.decode(), target.pk)
    reasons = re.findall(r'<option value="([\w-]+)">', html)
    assert set(reasons) == set(Referral.DeclineReason.values)

    refused = client.post(
        f"/referrals/{target.pk}/move/",
        {"move": "reject", "expected_status": "requested", "next": INBOX},
    )
    assert refused.status_code == 400
    assert "reason" in refused.content.decode().lower()
    target.refresh_from_db()
    assert (
        target.status == "requested" and not target.events.exists()
    )  # the factory wrote none; the refusal wrote none

    done = client.post(
        f"/referrals/{target.pk}/move/",
        {
            "move": "reject",
            "expected_status": "requested",
            "decline_reason": "no-capacity",
            "next": INBOX,
        },
    )
    assert done.status_code == 302 and done["Location"] == INBOX
    target.refresh_from_db()
    assert (target.status, target.decline_reason) == ("rejected", "no-capacity")


def test_a_next_address_off_the_site_is_ignored(client, login, tenant, pantry):
    target = referral(tenant, pantry, status="requested")
    login(tenant.cbo_staff)
    response = client.post(
        f"/referrals/{target.pk}/move/",
        {"move": "accept", "expected_status": "requested", "next": "https://evil.test/"},
    )
    assert response["Location"] == f"/referrals/{target.pk}/"
