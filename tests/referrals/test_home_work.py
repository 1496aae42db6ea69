"""Issue 17, point 2: each role's home shows what needs that person now — new referrals to
answer, due today, overdue, mine; for a coordinator, referrals with news, answers overdue
and clients due for rescreening; for the backbone, organizations falling behind — with the
next referrals due, named only as releases allow, and the read audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client as HttpClient

from assessments.models import Assessment
from audit.models import AuditEvent
from referrals.models import Notification
from tests.factories import ClientFactory, ProgramFactory, assessment_for

from .test_pages_lists import referral

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Chicago


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def stat(html: str, key: str) -> int:
    match = re.search(rf'data-testid="work-{key}"><strong>(\d+)</strong>', html)
    assert match, f"no {key} on the home page"
    return int(match.group(1))


@pytest.fixture
def work(tenant):
    pantry = ProgramFactory(organization=tenant.cbo, name="Pantry")
    made = {
        "late": referral(tenant, pantry, status="requested", ack_due_at=NOW - timedelta(days=2)),
        "today": referral(tenant, pantry, status="requested", ack_due_at=NOW + timedelta(hours=3)),
        "later": referral(tenant, pantry, status="requested", ack_due_at=NOW + timedelta(days=2)),
        "mine": referral(
            tenant,
            pantry,
            status="accepted",
            assigned_to=tenant.cbo_staff,
            update_due_at=NOW + timedelta(days=5),
        ),
        "held": referral(tenant, pantry, status="on-hold"),
        "closed": referral(tenant, pantry, status="cancelled", ack_due_at=NOW - timedelta(days=9)),
    }
    return made


def test_receiving_staff_see_their_queues_and_what_is_due_next(client, login, tenant, work):
    login(tenant.cbo_staff)
    response = client.get("/")
    html = response.content.decode()
    assert stat(html, "to-answer") == 3
    assert stat(html, "due-today") == 1
    assert stat(html, "overdue") == 1
    assert stat(html, "mine") == 1
    due = re.findall(r'<li data-referral-id="(\d+)"', html)
    assert due == [str(work[k].pk) for k in ("late", "today", "later", "mine")]
    # The CBO's release names it: it may see the names; the read is audited as a list.
    assert work["late"].client.display_name in html
    event = AuditEvent.objects.filter(actor=tenant.cbo_staff, object_type="referral").latest("pk")
    assert event.action == AuditEvent.Action.LIST
    assert set(event.object_ids) == {work[k].pk for k in ("late", "today", "later", "mine")}
    # Each count leads to the list holding those referrals.
    assert 'href="/referrals/inbox/?overdue=on" data-testid="work-overdue"' in html


def test_a_client_the_receiver_may_not_name_is_shown_by_number(client, login, tenant):
    pantry = ProgramFactory(organization=tenant.cbo, name="Pantry")
    hidden = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    row = referral(
        tenant, pantry, client=hidden, status="requested", ack_due_at=NOW + timedelta(days=1)
    )
    login(tenant.cbo_staff)
    html = client.get("/").content.decode()
    assert f"Client #{hidden.pk}" in html
    assert hidden.family_name not in html
    assert f'data-referral-id="{row.pk}"' in html


def test_the_coordinator_sees_news_overdue_answers_and_rescreenings(client, login, tenant, work):
    Notification.objects.create(
        user=tenant.hco_navigator, referral=work["mine"], kind="accepted", message="Accepted"
    )
    Notification.objects.create(
        user=tenant.hco_navigator, referral=work["mine"], kind="note", message="A note"
    )
    screened = _completed_assessment(tenant, rescreen_due_at=NOW - timedelta(days=1))
    _completed_assessment(tenant, rescreen_due_at=NOW + timedelta(days=30))
    navigator = login(tenant.hco_navigator, HttpClient())
    html = navigator.get("/").content.decode()
    assert stat(html, "news") == 1  # one referral, two unread notifications
    assert stat(html, "waiting-overdue") == 1  # "late": sent, the CBO's answer overdue
    assert stat(html, "rescreen") == 1
    assert screened.client_id
    # The clinic receives nothing: its inbox queues are empty and say so.
    assert stat(html, "to-answer") == 0
    assert 'data-testid="nothing-due"' in html


def test_the_backbone_sees_the_organizations_falling_behind(client, login, tenant, work):
    login(tenant.backbone_admin)
    html = client.get("/").content.decode()
    table = re.search(r'data-testid="falling-behind">(.*?)</table>', html, re.S).group(1)
    assert tenant.cbo.name in table
    assert re.search(rf"<td>{re.escape(tenant.cbo.name)}</td><td>1</td><td>5</td>", table)


def test_the_home_page_reads_a_constant_number_of_queries(
    client, login, tenant, work, django_assert_max_num_queries
):
    login(tenant.cbo_staff)
    client.get("/")
    with django_assert_max_num_queries(40) as few:
        client.get("/")
    pantry = work["late"].program
    for _ in range(6):
        referral(tenant, pantry, status="requested", ack_due_at=NOW + timedelta(hours=1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/")


def _completed_assessment(tenant, *, rescreen_due_at):
    """A screening the clinic recorded (the real service), its rescreen date set."""
    person = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    made = assessment_for(person, organization=tenant.hco, actor=tenant.hco_navigator)
    Assessment.objects.filter(pk=made.pk).update(rescreen_due_at=rescreen_due_at)
    return made
