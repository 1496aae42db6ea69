"""A real Celery worker and beat start with the configured broker and do their work.

By default the broker is kombu's filesystem transport (no server); in CI it is Redis.
"""

from __future__ import annotations

import uuid

import pytest

from organizations.models import Heartbeat
from organizations.tasks import heartbeat
from tests.workers import celery, stop, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_runs_a_queued_task(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = celery(["worker", "--pool=solo", "-Q", queue, "--loglevel=INFO"], queue, tmp_path)
    try:
        heartbeat.apply_async(kwargs={"name": "from-test"}, queue=queue)
        seen = wait_for(lambda: Heartbeat.objects.filter(name="from-test").exists())
        assert seen, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        stop(worker)


def test_beat_schedules_the_heartbeat_and_the_worker_records_it(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    fast = {"HEARTBEAT_INTERVAL_SECONDS": "1"}
    worker = celery(["worker", "--pool=solo", "-Q", queue], queue, tmp_path, **fast)
    beat = celery(
        ["beat", f"--schedule={tmp_path / 'beat-schedule'}", "--loglevel=INFO"],
        queue,
        tmp_path,
        **fast,
    )
    try:
        seen = wait_for(lambda: Heartbeat.objects.filter(name="worker").exists())
        logs = "".join((tmp_path / f).read_text()[-2000:] for f in ("worker.log", "beat.log"))
        assert seen, logs
        assert "beat: Starting" in (tmp_path / "beat.log").read_text()
    finally:
        stop(beat, worker)
