"""Incremental rollups: changes recorded as they happen, only their cells recomputed.

Property: after a full rollup, a random history of changes (referrals created, moved
across months, closed, entered in error, deleted; contacts; routed referrals; client
demographics; screenings with needs, matrices; outcome results) applied incrementally
leaves exactly the rows a full recompute writes. Then the beat task, the nightly run's
report of disagreements, and the dashboard's "as of" and refresh."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assessments.models import Need
from metrics import engine, incremental
from metrics.models import OutcomeMeasure, OutcomeResult, Rollup, RollupChange, RollupRun
from metrics.services import rollup_changes_apply, rollup_run_execute_now
from metrics.tasks import rollup_incremental, rollup_nightly
from referrals.models import Referral, ReferralEvent, ReferralNeed
from tests.factories import ProgramFactory
from tests.metrics.helpers import clients, referrals
from tests.metrics.test_rollup_property import (
    BOUNDED,
    NOW,
    START,
    _anchored,
    _assessment,
    _clients,
    _close,
    _referral,
)

pytestmark = pytest.mark.calendar

CLOSED = ["completed", "rejected", "failed", "cancelled", "entered-in-error"]

op = st.one_of(
    st.fixed_dictionaries(
        {
            "op": st.just("create"),
            "client": st.integers(0, 5),
            "receiver": st.integers(0, 1),
            "hours": st.integers(0, 24 * 170),
            "status": st.sampled_from(["requested", "accepted", *CLOSED]),
            "contacts": st.integers(0, 2),
            "food": st.booleans(),
        }
    ),
    st.fixed_dictionaries(
        {"op": st.just("close"), "ref": st.integers(0, 20), "status": st.sampled_from(CLOSED)}
    ),
    # Across month and quarter ends, and into another period entirely.
    st.fixed_dictionaries(
        {"op": st.just("move"), "ref": st.integers(0, 20), "hours": st.integers(0, 24 * 170)}
    ),
    st.fixed_dictionaries({"op": st.just("delete"), "ref": st.integers(0, 20)}),
    st.fixed_dictionaries(
        {"op": st.just("contact"), "ref": st.integers(0, 20), "hours": st.integers(0, 24 * 70)}
    ),
    st.fixed_dictionaries(
        {"op": st.just("route"), "ref": st.integers(0, 20), "receiver": st.integers(0, 1)}
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("client"),
            "client": st.integers(0, 5),
            "insurance": st.sampled_from(["medicaid", "uninsured", "commercial"]),
            "born": st.sampled_from([date(1950, 6, 20), date(2010, 3, 1), date(2001, 1, 31)]),
        }
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("screening"),
            "client": st.integers(0, 5),
            "hours": st.integers(0, 24 * 170),
            "food": st.booleans(),
        }
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("matrix"),
            "client": st.integers(0, 5),
            "hours": st.integers(0, 24 * 170),
            "score": st.integers(1, 5),
        }
    ),
    st.fixed_dictionaries(
        {"op": st.just("move_assessment"), "ref": st.integers(0, 20), "hours": st.integers(0, 4000)}
    ),
    st.fixed_dictionaries({"op": st.just("delete_assessment"), "ref": st.integers(0, 20)}),
    st.fixed_dictionaries(
        {"op": st.just("outcome"), "client": st.integers(0, 5), "day": st.integers(0, 190)}
    ),
    st.fixed_dictionaries(
        {"op": st.just("move_outcome"), "ref": st.integers(0, 20), "day": st.integers(0, 190)}
    ),
)


def _rows(run) -> dict:
    return {
        (
            r.partnership_id,
            r.organization_id,
            r.period_kind,
            r.period_start,
            r.measure,
            r.breakdown,
            r.breakdown_value,
        ): (r.numerator, r.denominator, r.value)
        for r in Rollup.objects.filter(run=run)
    }


def _assert_same_rows(kept, full) -> None:
    got, wanted = _rows(kept), _rows(full)
    assert set(got) - set(wanted) == set(), "extra rows"
    assert set(wanted) - set(got) == set(), "missing rows"
    for key, (num, den, value) in wanted.items():
        assert got[key][:2] == (num, den), (key, got[key], wanted[key])
        assert _close(got[key][2], value), (key, got[key], wanted[key])


class World:
    """The tenant's people, programs and the rows a history works on."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.clients = _clients(tenant)
        self.programs = [
            ProgramFactory(organization=tenant.cbo, name="Pantry"),
            ProgramFactory(organization=tenant.backbone, name="Hub"),
        ]
        self.referrals: list[Referral] = []
        self.assessments = []
        self.results: list[OutcomeResult] = []
        self.measure = OutcomeMeasure.objects.create(
            partnership=tenant.partnership, name="HbA1c", unit="%", goal="below", threshold=8
        )

    def _pick(self, rows: list, i: int):
        rows[:] = [r for r in rows if type(r).objects.filter(pk=r.pk).exists()]
        return rows[i % len(rows)] if rows else None

    def apply(self, step: dict) -> None:
        getattr(self, "_" + step["op"])(step)

    def _create(self, s):
        spec = _anchored(
            status=s["status"],
            client=s["client"],
            receiver=s["receiver"],
            contacts=0,
            overdue=s["hours"] % 2 == 0,
        )
        sent = START + timedelta(hours=s["hours"])
        client, program = self.clients[s["client"]], self.programs[s["receiver"]]
        referral = _referral(spec, self.tenant, client, program, sent)
        if s["food"]:
            ReferralNeed.objects.create(referral=referral, code="food-insecurity")
        for i in range(s["contacts"]):
            self._contact({"referral": referral, "hours": 1 + i * 30})
        self.referrals.append(referral)

    def _close(self, s):
        r = self._pick(self.referrals, s["ref"])
        if r is None or r.status in CLOSED:
            return
        r.status = s["status"]
        r.outcome = "need-met" if r.status == "completed" else ""
        r.closed_at = r.sent_at + timedelta(days=3)
        if r.status in ("completed", "failed"):
            r.accepted_at = r.accepted_at or r.sent_at + timedelta(hours=5)
        r.save()

    def _move(self, s):
        r = self._pick(self.referrals, s["ref"])
        if r is None or r.sent_at is None:
            return
        r.sent_at = START + timedelta(hours=s["hours"])
        r.save()

    def _delete(self, s):
        r = self._pick(self.referrals, s["ref"])
        if r is not None:
            Referral.objects.filter(part_of=r).delete()
            r.delete()

    def _contact(self, s):
        r = s.get("referral") or self._pick(self.referrals, s["ref"])
        if r is None or r.sent_at is None:
            return
        ReferralEvent.objects.create(
            referral=r,
            kind=ReferralEvent.Kind.CONTACT,
            organization=r.receiver_organization,
            occurred_at=r.sent_at + timedelta(hours=s["hours"]),
            contact_type="phone",
        )

    def _route(self, s):
        parent = self._pick(self.referrals, s["ref"])
        if parent is None or parent.sent_at is None or parent.part_of_id:
            return
        spec = _anchored(status="accepted", sender="backbone")
        at = parent.sent_at + timedelta(hours=3)
        program = self.programs[s["receiver"]]
        self.referrals.append(
            _referral(spec, self.tenant, parent.client, program, at, part_of=parent)
        )

    def _client(self, s):
        c = self.clients[s["client"]]
        c.insurance_type, c.date_of_birth = s["insurance"], s["born"]
        c.save()

    def _screening(self, s):
        when = START + timedelta(hours=s["hours"])
        status = "positive" if s["food"] else "negative"
        results = {
            d: {"status": status if d == "food" else "negative"}
            for d in ("living-situation", "food", "transportation", "utilities", "safety")
        }
        client = self.clients[s["client"]]
        a = _assessment(self.tenant, "screening", client, self.tenant.hco, when, True, results)
        if s["food"]:
            Need.objects.create(assessment=a, domain="food", category="food-insecurity")
        self.assessments.append(a)

    def _matrix(self, s):
        when = START + timedelta(hours=s["hours"])
        results = {"housing": {"score": s["score"]}, "income": {"score": 2}}
        client = self.clients[s["client"]]
        self.assessments.append(
            _assessment(self.tenant, "matrix", client, self.tenant.cbo, when, True, results)
        )

    def _move_assessment(self, s):
        a = self._pick(self.assessments, s["ref"])
        if a is not None:
            a.completed_at = a.started_at = START + timedelta(hours=s["hours"])
            a.save()

    def _delete_assessment(self, s):
        a = self._pick(self.assessments, s["ref"])
        if a is not None:
            a.answers.all().delete()
            a.delete()

    def _outcome(self, s):
        day = date(2025, 12, 20) + timedelta(days=s["day"])
        client = self.clients[s["client"]]
        if OutcomeResult.objects.filter(measure=self.measure, client=client, observed_on=day):
            return
        self.results.append(
            OutcomeResult.objects.create(
                measure=self.measure,
                client=client,
                organization=self.tenant.hco,
                recorded_by=self.tenant.hco_navigator,
                value=Decimal(s["day"] % 12),
                observed_on=day,
            )
        )

    def _move_outcome(self, s):
        r = self._pick(self.results, s["ref"])
        day = date(2025, 12, 20) + timedelta(days=s["day"])
        if r is None:
            return
        taken = OutcomeResult.objects.filter(measure=r.measure, client=r.client, observed_on=day)
        if not taken.exists():
            r.observed_on = day
            r.save()


def _full(tenant) -> RollupRun:
    run = RollupRun.objects.create(network=tenant.network)
    return rollup_run_execute_now(run_id=run.pk)


MOVES = [
    {
        "op": "create",
        "client": 0,
        "receiver": 0,
        "hours": 200,
        "status": "requested",
        "contacts": 1,
        "food": True,
    },
    {"op": "screening", "client": 0, "hours": 100, "food": True},
    {"op": "matrix", "client": 1, "hours": 10, "score": 1},
    {"op": "matrix", "client": 1, "hours": 2000, "score": 4},
    {"op": "outcome", "client": 2, "day": 11},
]
HISTORY = [
    {"op": "move", "ref": 0, "hours": 24 * 120},  # across months and quarters
    {"op": "contact", "ref": 0, "hours": 24 * 59},
    {"op": "client", "client": 0, "insurance": "uninsured", "born": date(2010, 3, 1)},
    {"op": "route", "ref": 0, "receiver": 1},
    {"op": "close", "ref": 0, "status": "entered-in-error"},
    {"op": "move_assessment", "ref": 1, "hours": 3000},
    {"op": "delete_assessment", "ref": 2},
    {"op": "move_outcome", "ref": 0, "day": 150},
    {"op": "delete", "ref": 0},
]

# A referral for food 5 days after a positive screening in the month before (SNS-E), and
# a contact 10 days after one, on a referral sent the month before it (connected within
# 60 days): only the screenings' month, in neither change's own periods, moves.
WINDOWS = [
    {"op": "screening", "client": 0, "hours": 24 * 40, "food": True},
    {"op": "screening", "client": 1, "hours": 24 * 40, "food": True},
    {
        "op": "create",
        "client": 1,
        "receiver": 0,
        "hours": 0,
        "status": "accepted",
        "contacts": 0,
        "food": False,
    },
]
WINDOWS_HISTORY = [
    {
        "op": "create",
        "client": 0,
        "receiver": 0,
        "hours": 24 * 45,
        "status": "requested",
        "contacts": 0,
        "food": True,
    },
    {"op": "contact", "ref": 0, "hours": 24 * 50},
]
# Entered in error: no longer the intervention for the screening the month before.
ERROR = {"op": "close", "ref": 0, "status": "entered-in-error"}
# A client's latest Self-Sufficiency Matrix dates the change since the first: a later one
# moves the row out of the old latest's month.
LATEST = [
    {"op": "matrix", "client": 1, "hours": 10, "score": 1},
    {"op": "matrix", "client": 1, "hours": 2000, "score": 4},
]


@pytest.mark.django_db
@settings(BOUNDED, max_examples=30)
@example(before=MOVES, history=HISTORY)
@example(before=WINDOWS, history=WINDOWS_HISTORY)
@example(before=LATEST, history=[LATEST[0] | {"hours": 3000}])
@example(before=WINDOWS[:1] + WINDOWS_HISTORY[:1], history=[ERROR])
@given(before=st.lists(op, max_size=8), history=st.lists(op, min_size=1, max_size=12))
def test_incremental_and_full_rollups_agree_on_random_histories(tenant, before, history):
    """A history applied incrementally to a full rollup's rows leaves exactly the rows a
    full recompute of the same data writes: every measure, scope, period and cell."""
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        world = World(tenant)
        for step in before:
            world.apply(step)
        kept = _full(tenant)
        # Applied up to here: only the history's own changes drive the recompute.
        RollupChange.objects.all().delete()
        for step in history:
            world.apply(step)
        rollup_changes_apply(network_id=tenant.network.pk)
        assert not RollupChange.objects.exists()
        full = RollupRun.objects.create(network=tenant.network, status="failed")
        engine.recompute([tenant.network.pk], run_id=full.pk, now=NOW)
        _assert_same_rows(kept, full)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_change_replaces_only_its_periods_cells(tenant):
    """A referral sent in March recomputes March and Q1; February's rows are untouched
    (the same rows), March's rows are replaced and count it."""
    with time_machine.travel(NOW, tick=False):
        people = clients(tenant, 3)
        referrals(tenant, people[:1], sent=datetime(2026, 2, 10, 15, tzinfo=UTC))
        referrals(tenant, people[1:2], sent=datetime(2026, 3, 10, 15, tzinfo=UTC))
        run = _full(tenant)
        RollupChange.objects.all().delete()
        sent = Rollup.objects.filter(run=run, measure="referrals_sent", breakdown="")
        february = set(sent.filter(period_start=date(2026, 2, 1)).values_list("pk", flat=True))
        referrals(tenant, people[2:], sent=datetime(2026, 3, 20, 15, tzinfo=UTC))
        assert rollup_changes_apply(network_id=tenant.network.pk) > 0
    assert set(sent.filter(period_start=date(2026, 2, 1)).values_list("pk", flat=True)) == february
    network = sent.filter(partnership=None, organization=None, period_kind="month")
    assert network.get(period_start=date(2026, 3, 1)).numerator == 2
    assert network.get(period_start=date(2026, 2, 1)).numerator == 1
    quarter = sent.get(partnership=None, organization=None, period_kind="quarter")
    assert quarter.numerator == 3
    run.refresh_from_db()
    assert run.changes_applied > 0 and run.data_as_of == NOW


@pytest.mark.django_db
def test_the_beat_task_applies_pending_changes(tenant, foreign_tenant):
    """rollup_incremental (every minute on beat) applies each network's changes."""
    with time_machine.travel(NOW, tick=False):
        people = clients(tenant, 2)
        referrals(tenant, people[:1])
        run = _full(tenant)
        foreign = _full(foreign_tenant)
    with time_machine.travel(NOW + timedelta(minutes=3), tick=False):
        referrals(tenant, people[1:])
        assert RollupChange.objects.filter(network=tenant.network).exists()
        rollup_incremental()
    assert not RollupChange.objects.exists()
    total = Rollup.objects.get(
        run=run,
        measure="referrals_sent",
        breakdown="",
        partnership=None,
        organization=None,
        period_kind="month",
    )
    assert total.numerator == 2
    run.refresh_from_db()
    foreign.refresh_from_db()
    assert run.data_as_of == NOW + timedelta(minutes=3)
    # Nothing pending there: its rows are as of this minute too.
    assert foreign.data_as_of == NOW + timedelta(minutes=3)


def test_beat_runs_the_incremental_rollup_every_minute():
    entry = next(
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "metrics.tasks.rollup_incremental"
    )
    schedule = entry["schedule"]
    seconds = schedule if isinstance(schedule, int | float) else schedule.total_seconds()
    assert seconds == 60


@pytest.mark.django_db
def test_changes_wait_while_a_full_recompute_is_under_way(tenant):
    """A full run reads the data after its start: changes recorded meanwhile wait, and are
    applied once it has finished — or failed, though it had marked them covered."""
    with time_machine.travel(NOW, tick=False):
        people = clients(tenant, 2)
        referrals(tenant, people[:1])
        _full(tenant)
        running = RollupRun.objects.create(network=tenant.network, status="running")
        referrals(tenant, people[1:])
        assert rollup_changes_apply(network_id=tenant.network.pk) is None
        assert RollupChange.objects.exists()
        RollupChange.objects.update(covered_by_run_id=running.pk)
        RollupRun.objects.filter(pk=running.pk).update(status="failed")
        assert rollup_changes_apply(network_id=tenant.network.pk) > 0
        assert not RollupChange.objects.exists()


@pytest.mark.django_db
def test_a_full_recompute_drops_the_changes_it_covers(tenant):
    with time_machine.travel(NOW, tick=False):
        people = clients(tenant, 2)
        referrals(tenant, people[:1])
        _full(tenant)
        referrals(tenant, people[1:])
        assert RollupChange.objects.exists()
        run = _full(tenant)
    assert not RollupChange.objects.exists()
    # Nothing was pending after the first run's own changes were covered: they agree.
    assert run.disagreements == 0


@pytest.mark.django_db
def test_nightly_run_reports_cells_where_incremental_and_full_disagree(
    tenant, caplog, django_capture_on_commit_callbacks
):
    """A change made without signals (queryset.update) never reaches the incremental
    rows: the nightly recompute finds the cells, logs them without client data, and
    counts them on the run."""
    with time_machine.travel(NOW, tick=False):
        people = clients(tenant, 3)
        made = referrals(tenant, people)
        first = _full(tenant)
        assert first.disagreements is None  # nothing to compare with
        referrals(tenant, clients(tenant, 1, family_name="Quillfeather"))
        rollup_changes_apply(network_id=tenant.network.pk)
        with django_capture_on_commit_callbacks(execute=True):
            rollup_nightly()
        agreed = RollupRun.objects.filter(network=tenant.network).latest("pk")
        assert agreed.status == "done" and agreed.disagreements == 0

        Referral.objects.filter(pk=made[0].pk).update(status="cancelled", outcome="")
        with (
            caplog.at_level(logging.WARNING, logger="metrics"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            rollup_nightly()
    night = RollupRun.objects.filter(network=tenant.network).latest("pk")
    assert night.status == "done" and night.disagreements > 0
    logged = caplog.text
    assert "cells differ" in logged and "month 2026-03-01" in logged
    assert "Quillfeather" not in logged and people[0].family_name not in logged
    # The full recompute's rows are now the ones read, and right.
    completed = Rollup.objects.get(
        run=night,
        measure="referrals_completed",
        breakdown="",
        partnership=None,
        organization=None,
        period_kind="month",
    )
    assert completed.numerator == 3


@pytest.mark.django_db
def test_the_dashboard_shows_as_of_and_its_refresh_takes_the_incremental_path(
    tenant, login, django_capture_on_commit_callbacks
):
    """Times shown in the network's zone (America/Chicago: 15:30 UTC is 09:30 in
    December)."""
    at = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        # Signed in at the frozen moment: a session from whenever the suite runs (a dated
        # run starts on other days) would have expired, or not have begun, by then.
        c = login(tenant.backbone_admin)
        people = clients(tenant, 2)
        referrals(tenant, people[:1], sent=at - timedelta(days=1))
        _full(tenant)
        assert "Measures as of 09:30" in c.get("/measures/").content.decode()
    with time_machine.travel(at + timedelta(minutes=7), tick=False):
        referrals(tenant, people[1:], sent=at)
        status = c.get("/measures/refresh/status/").content.decode()
        assert "Applying recent changes" in status and "hx-trigger" in status
        with django_capture_on_commit_callbacks(execute=True):
            response = c.post("/measures/refresh/", HTTP_HX_REQUEST="true")
            # The changes are applied in the background, once the request has committed:
            # the status polls meanwhile.
            assert "Applying recent changes" in response.content.decode()
        status = c.get("/measures/refresh/status/").content.decode()
        assert "as of 09:37" in status and "hx-trigger" not in status
        # No full recompute: the one run's rows were brought up to date.
        assert RollupRun.objects.filter(network=tenant.network).count() == 1
        assert not RollupChange.objects.exists()
        page = c.get("/measures/?kind=month&period=2026-12-01").content.decode()
    assert "Measures as of 09:37" in page
    run = RollupRun.objects.get(network=tenant.network)
    total = Rollup.objects.get(
        run=run,
        measure="referrals_sent",
        breakdown="",
        partnership=None,
        organization=None,
        period_kind="month",
        period_start=date(2026, 12, 1),
    )
    assert total.numerator == 2


@pytest.mark.django_db
def test_a_contact_recomputes_only_the_national_measures_it_can_move(tenant):
    """A contact on a referral sent after a positive screening the month before connects
    that screening (MIPS #498): the screening's month and quarter recompute the national
    measures that read connections, from the screening rows alone; the other national
    rows there (SDOH-1, SNS-E, ...) stay as they were. And the result is the full
    recompute's."""
    screened = {"op": "screening", "client": 0, "hours": 24 * 40, "food": True}  # Jan 29
    sent = {
        "op": "create",
        "client": 0,
        "receiver": 0,
        "hours": 24 * 45,  # Feb 3
        "status": "accepted",
        "contacts": 0,
        "food": False,
    }
    january = date(2026, 1, 1)
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        world = World(tenant)
        world.apply(screened)
        world.apply(sent)
        kept = _full(tenant)
        RollupChange.objects.all().delete()
        national = Rollup.objects.filter(
            run=kept, measure__in=engine.source_measures("national"), period_start=january
        )
        connected = set(engine.source_measures(engine.NATIONAL_CONNECTED))
        untouched = set(national.exclude(measure__in=connected).values_list("pk", flat=True))
        replaced = set(national.filter(measure__in=connected).values_list("pk", flat=True))
        assert connected == {"mips_498"} and untouched and replaced
        mips = {"measure": "mips_498", "breakdown": "", "partnership": None, "organization": None}
        assert national.get(**mips, period_kind="month").numerator == 0

        world.apply({"op": "contact", "ref": 0, "hours": 24 * 3})  # Feb 6
        cells = incremental.plan_changes(
            RollupChange.objects.values_list("what", "day", "client_ref")
        ).cells()
        assert cells[(engine.NATIONAL_CONNECTED, "month")] == {january}
        assert ("national", "month") not in cells
        rollup_changes_apply(network_id=tenant.network.pk)

        assert (
            set(national.exclude(measure__in=connected).values_list("pk", flat=True)) == untouched
        )
        assert (
            not set(national.filter(measure__in=connected).values_list("pk", flat=True)) & replaced
        )
        assert national.get(**mips, period_kind="month").numerator == 1
        assert national.get(**mips, period_kind="quarter").numerator == 1
        full = RollupRun.objects.create(network=tenant.network, status="failed")
        engine.recompute([tenant.network.pk], run_id=full.pk, now=NOW)
        _assert_same_rows(kept, full)
        transaction.set_rollback(True)


def test_a_part_is_not_recomputed_where_its_source_is():
    """Cells of engine.NATIONAL_CONNECTED that the national source's cells cover are left
    out (its statement writes those measures too: no row twice); a part wanted in every
    period beside some of its source's makes the source's every period."""
    plan = incremental.Plan()
    plan.add(["national"], [date(2026, 3, 5)])
    plan.add([engine.NATIONAL_CONNECTED], [date(2026, 3, 9), date(2026, 1, 9)])
    cells = plan.cells()
    assert cells[("national", "month")] == {date(2026, 3, 1)}
    assert cells[(engine.NATIONAL_CONNECTED, "month")] == {date(2026, 1, 1)}
    assert (engine.NATIONAL_CONNECTED, "quarter") not in cells

    plan.add_all([engine.NATIONAL_CONNECTED])
    cells = plan.cells()
    assert cells[("national", "month")] is None and cells[("national", "quarter")] is None
    assert not {k for k in cells if k[0] == engine.NATIONAL_CONNECTED}

    alone = incremental.Plan()
    alone.add_all([engine.NATIONAL_CONNECTED])
    assert alone.cells() == {
        (engine.NATIONAL_CONNECTED, "month"): None,
        (engine.NATIONAL_CONNECTED, "quarter"): None,
    }


def test_a_part_refuses_a_measure_that_could_count_the_rows_it_leaves_out(monkeypatch):
    """The connected part reads screening rows only: a measure reading `connected60` whose
    aggregate could count referral rows too (no flag those rows set false) is refused."""
    from metrics.registry import MEASURES, Measure

    loose = Measure(
        "loose",
        "Loose",
        "National",
        "",
        "rate",
        "national",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult AND connected60)",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult)",
    )
    monkeypatch.setattr(engine, "MEASURES", [*MEASURES, loose])
    with pytest.raises(ValueError, match="loose"):
        engine.source_measures(engine.NATIONAL_CONNECTED)
