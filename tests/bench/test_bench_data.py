"""The benchmarks' data builders, run small inside the suite: the sweep benchmark writes its
million rows with raw SQL for speed, so a model change (a new NOT NULL column) would break
`make bench` without failing a test. Here it fails a test."""

from __future__ import annotations

import pytest

from bench import bench_sweep
from referrals.models import Referral, Reminder

pytestmark = pytest.mark.django_db


def test_the_sweep_benchmark_builds_its_rows_and_sweeps_them(monkeypatch):
    monkeypatch.setattr(bench_sweep, "REFERRALS", 2_000)
    monkeypatch.setattr(bench_sweep, "RUNS", 1)
    world = bench_sweep._build_world()
    bench_sweep._add_referrals(world)

    assert Referral.objects.count() == 2_000
    assert Referral.objects.filter(status="completed").count() == 1_800
    # One in ten is open and, at this size, every open one is due.
    assert len(bench_sweep._due_set()) == 200
    # The timed sweep checks that it made one overdue reminder per due referral (it raises
    # otherwise), then puts the due set back for the next run.
    milliseconds, queries = bench_sweep._median_sweep_ms(world)
    assert milliseconds > 0 and queries > 0
    assert Reminder.objects.count() == 0
    assert len(bench_sweep._due_set()) == 200
