"""Recomputation runs: one at a time per network, claimed once, and never blocked for good
by a run whose message or worker was lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from metrics.models import Rollup, RollupRun
from metrics.services import rollup_run_execute_now, rollup_run_request
from tests.metrics.helpers import clients, referrals

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]


def test_a_second_request_while_one_is_pending_returns_it(tenant):
    first = rollup_run_request(network=tenant.network, requested_by=None)
    assert rollup_run_request(network=tenant.network, requested_by=None) == first
    assert RollupRun.objects.count() == 1


def test_an_abandoned_run_no_longer_blocks_a_new_one(tenant, settings, login):
    settings.METRICS_ROLLUP_STALE_MINUTES = 30
    lost = rollup_run_request(network=tenant.network, requested_by=None)  # message lost
    c = login(tenant.backbone_admin)
    assert "Recomputing measures" in c.get("/measures/refresh/status/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        # The page no longer shows it as running, and asking again queues a new run.
        assert "Recomputing measures" not in c.get("/measures/refresh/status/").content.decode()
        fresh = rollup_run_request(network=tenant.network, requested_by=None)
    assert fresh != lost
    lost.refresh_from_db()
    assert lost.status == RollupRun.Status.FAILED
    assert fresh.status == RollupRun.Status.QUEUED


def test_a_run_reporting_progress_is_alive(tenant, settings):
    settings.METRICS_ROLLUP_STALE_MINUTES = 30
    run = rollup_run_request(network=tenant.network, requested_by=None)
    later = timezone.now() + timedelta(minutes=29)
    with time_machine.travel(later):
        RollupRun.objects.filter(pk=run.pk).update(status="running", touched_at=timezone.now())
    with time_machine.travel(later + timedelta(minutes=29)):
        assert rollup_run_request(network=tenant.network, requested_by=None) == run


def test_a_run_delivered_twice_computes_once(tenant):
    referrals(tenant, clients(tenant, 3))
    run = RollupRun.objects.create(network=tenant.network)
    done = rollup_run_execute_now(run_id=run.pk)
    rows = Rollup.objects.filter(run=run).count()
    assert done.status == RollupRun.Status.DONE and rows > 0
    again = rollup_run_execute_now(run_id=run.pk)
    assert again.status == RollupRun.Status.DONE
    assert Rollup.objects.filter(run=run).count() == rows
    # A run another worker already started is left to it.
    other = RollupRun.objects.create(network=tenant.network, status=RollupRun.Status.RUNNING)
    assert rollup_run_execute_now(run_id=other.pk).status == RollupRun.Status.RUNNING
    assert not Rollup.objects.filter(run=other).exists()
