""" "Overdue" is one rule (referrals.models.OVERDUE_DEADLINES): the inbox, the backbone's
stalled list and dashboard count, the measures' SQL, the metrics drill-down and the
reminder sweep all read it, so a food bank's inbox and the backbone's dashboard never
disagree again ("No stalled referrals" beside 15 overdue)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from metrics.engine import overdue_sql
from metrics.models import PeriodKind, Rollup, RollupRun
from metrics.services import rollup_run_execute_now
from organizations.roles import Role
from referrals.models import Referral, Reminder
from referrals.reminders.sweep import reminders_sweep
from tests.factories import ClientFactory, ProgramFactory, member

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2031-05-14T10:00:00-05:00")
SECOND = timedelta(seconds=1)
DAYS = timedelta(days=3)
CLOSED = {"completed", "rejected", "cancelled", "failed", "entered-in-error"}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _referral(tenant, status: str, **fields) -> Referral:
    """A row from the tenant's clinic to its food bank, sent a week ago, each for a client
    and program of its own (one open referral per client and program)."""
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    program = ProgramFactory(organization=tenant.cbo)
    sent = NOW - timedelta(days=7)
    return Referral.objects.create(
        network=tenant.network,
        client=client,
        program=program,
        sender_organization=tenant.hco,
        sender_user=tenant.hco_navigator,
        receiver_organization=tenant.cbo,
        status=status,
        created_at=sent,
        updated_at=sent,
        sent_at=None if status == "draft" else sent,
        outcome="need-met" if status == "completed" else "",
        closed_at=NOW - DAYS if status in CLOSED else None,
        **fields,
    )


# Every case around the boundaries, and whether the rule calls it overdue at NOW.
CASES = [
    ("requested", {"ack_due_at": NOW - SECOND}, True),
    ("requested", {"ack_due_at": NOW}, True),  # the deadline has come
    ("requested", {"ack_due_at": NOW + SECOND}, False),
    ("requested", {"ack_due_at": None}, False),
    # Answering is owed, not updating: an update date does not make it overdue.
    ("requested", {"ack_due_at": NOW + DAYS, "update_due_at": NOW - DAYS}, False),
    ("accepted", {"update_due_at": NOW - SECOND}, True),
    ("accepted", {"update_due_at": NOW}, True),
    ("accepted", {"update_due_at": NOW + SECOND}, False),
    # The acknowledgement date lingers (as on the demo's rows): the stage's date counts.
    ("accepted", {"ack_due_at": NOW - DAYS, "update_due_at": NOW + DAYS}, False),
    ("in-progress", {"update_due_at": NOW - SECOND}, True),
    ("in-progress", {"ack_due_at": NOW - DAYS, "update_due_at": NOW + SECOND}, False),
    # On hold (waitlist, a revoked release): nothing is owed until it moves.
    ("on-hold", {"ack_due_at": NOW - DAYS, "update_due_at": NOW - DAYS}, False),
    ("draft", {"ack_due_at": NOW - DAYS}, False),
    ("completed", {"ack_due_at": NOW - DAYS, "update_due_at": NOW - DAYS}, False),
    ("rejected", {"ack_due_at": NOW - DAYS}, False),
    ("cancelled", {"update_due_at": NOW - DAYS}, False),
    ("failed", {"update_due_at": NOW - DAYS}, False),
    ("entered-in-error", {"ack_due_at": NOW - DAYS, "update_due_at": NOW - DAYS}, False),
]


def _build_cases(tenant) -> dict[int, bool]:
    return {_referral(tenant, status, **fields).pk: expected for status, fields, expected in CASES}


def _sql_overdue_ids(now: datetime) -> set[int]:
    """The measures' condition, run as the rollup runs it (a `now` parameter)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.id FROM referrals_referral r WHERE {overdue_sql('r')}",
            {"now": now},
        )
        return {row[0] for row in cursor.fetchall()}


def test_the_orm_the_row_and_the_sql_agree_on_every_boundary(tenant, frozen):
    expected = _build_cases(tenant)
    want = {pk for pk, late in expected.items() if late}
    orm = set(Referral.objects.overdue(NOW).values_list("pk", flat=True))
    rows = {r.pk for r in Referral.objects.all() if r.overdue_at(NOW)}
    sql = _sql_overdue_ids(NOW)
    assert orm == want
    assert rows == want
    assert sql == want
    # A second later and a second earlier they still agree (the boundaries move together).
    for moment in (NOW - SECOND, NOW + SECOND):
        assert (
            set(Referral.objects.overdue(moment).values_list("pk", flat=True))
            == (_sql_overdue_ids(moment))
            == {r.pk for r in Referral.objects.all() if r.overdue_at(moment)}
        )


def test_the_measure_counts_what_the_inbox_flags(tenant, frozen):
    """The rollup's "Referrals overdue now" for the food bank (every period) equals the
    food bank's overdue referrals."""
    _build_cases(tenant)
    run = RollupRun.objects.create(network=tenant.network, status=RollupRun.Status.QUEUED)
    rollup_run_execute_now(run_id=run.pk)
    measured = sum(
        Rollup.objects.filter(
            run=run,
            organization=tenant.cbo,
            partnership=None,
            period_kind=PeriodKind.MONTH,
            breakdown="",
            measure="referrals_overdue",
        ).values_list("numerator", flat=True)
    )
    inbox = Referral.objects.filter(receiver_organization=tenant.cbo).overdue(NOW).count()
    assert inbox == sum(1 for _, _, late in CASES if late)
    assert measured == inbox


def _demo_like(tenant) -> set[int]:
    """A food bank with a backlog the sweep never saw (no escalations), seeded as the demo
    seeds its open history: both due dates stamped in the past on every open referral,
    some on hold, some not yet due, and closed ones. Returns the overdue ids."""
    late = set()
    for i in range(15):
        status = ["requested", "accepted", "in-progress"][i % 3]
        r = _referral(
            tenant,
            status,
            ack_due_at=NOW - timedelta(days=5),
            update_due_at=NOW - timedelta(days=1, hours=i),
        )
        late.add(r.pk)
    for _ in range(3):
        _referral(tenant, "on-hold", ack_due_at=NOW - DAYS, update_due_at=NOW - DAYS)
        _referral(tenant, "requested", ack_due_at=NOW + DAYS)
        _referral(tenant, "accepted", ack_due_at=NOW - DAYS, update_due_at=NOW + DAYS)
        _referral(tenant, "completed", ack_due_at=NOW - DAYS, update_due_at=NOW - DAYS)
    return late


def _count(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}">(\d+)<', html)
    assert match, f"{testid} not on the page"
    return int(match.group(1))


def test_the_backbone_dashboard_and_the_food_bank_inbox_agree(tenant, frozen, login):
    late = _demo_like(tenant)
    assert Referral.objects.filter(escalated_at__isnull=False).count() == 0

    # The food bank's inbox, narrowed to overdue.
    web = login(tenant.cbo_staff, HttpClient())
    page = web.get(reverse("referral_inbox"), {"overdue": "on", "tab": "all"}).content.decode()
    inbox_count = _count(page, "count-all")
    assert inbox_count == len(late) == 15

    # The backbone's dashboard and its stalled list: the same referrals.
    backbone = login(tenant.backbone_admin, HttpClient())
    dashboard = backbone.get(reverse("dashboard")).content.decode()
    assert "No stalled referrals" not in dashboard
    assert _count(dashboard, "stalled-count") == inbox_count
    listed = set()
    for number in (1, 2):
        html = backbone.get(reverse("stalled_referrals"), {"page": number}).content.decode()
        listed |= {int(pk) for pk in re.findall(r'data-referral="(\d+)"', html)}
    assert listed == late

    # The food bank's admin's drill-down from the measures: the same referrals again.
    admin = member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@overdue.test")
    drill = login(admin, HttpClient())
    html = drill.get(reverse("metrics_stalled")).content.decode()
    assert html.count('data-testid="stalled-row"') == min(len(late), 25)


def test_when_the_food_bank_catches_up_the_backbone_sees_nothing_stalled(tenant, frozen, login):
    _demo_like(tenant)
    Referral.objects.filter(receiver_organization=tenant.cbo, status="requested").update(
        ack_due_at=NOW + DAYS
    )
    Referral.objects.filter(
        receiver_organization=tenant.cbo, status__in=["accepted", "in-progress"]
    ).update(update_due_at=NOW + DAYS)
    assert not Referral.objects.overdue(NOW).exists()
    backbone = login(tenant.backbone_admin, HttpClient())
    assert "No stalled referrals" in backbone.get(reverse("dashboard")).content.decode()


def test_the_sweep_reminds_exactly_the_referrals_the_rule_calls_overdue(tenant, frozen):
    """The sweep follows its own clock (`reminder_due_at`); where that clock ran ahead of a
    deadline moved later, the rule wins: no "overdue" reminder for what no inbox flags."""
    on_time = _referral(tenant, "requested", ack_due_at=NOW + DAYS, reminder_due_at=NOW - DAYS)
    late = _referral(tenant, "requested", ack_due_at=NOW - DAYS, reminder_due_at=NOW - DAYS)
    updating = _referral(
        tenant, "accepted", update_due_at=NOW - SECOND, reminder_due_at=NOW - SECOND
    )
    reminders_sweep(now=NOW, publish=lambda task, ids: [])
    reminded = set(
        Reminder.objects.filter(
            object_type=Reminder.ObjectType.REFERRAL,
            kind__in=[Reminder.Kind.ACK_OVERDUE, Reminder.Kind.UPDATE_OVERDUE],
        ).values_list("object_id", flat=True)
    )
    assert reminded == {late.pk, updating.pk}
    assert reminded == set(Referral.objects.overdue(NOW).values_list("pk", flat=True))
    on_time.refresh_from_db()
    # The clock now waits for the deadline itself.
    assert on_time.reminder_due_at == on_time.ack_due_at
