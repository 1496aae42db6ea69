"""A real Celery worker and beat start with the configured broker and do their work.

By default the broker is kombu's filesystem transport (no server); in CI it is Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from organizations.models import Heartbeat
from organizations.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    host = s.get("HOST") or "127.0.0.1"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


def start(args: list[str], queue: str, tmp_path: Path, **extra_env) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **extra_env,
    }
    log = open(tmp_path / f"{args[0]}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """Poll until true; the worker is another process, so there is no event to await."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def stop(*processes: subprocess.Popen) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def test_worker_runs_a_queued_task(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = start(["worker", "--pool=solo", "-Q", queue, "--loglevel=INFO"], queue, tmp_path)
    try:
        heartbeat.apply_async(kwargs={"name": "from-test"}, queue=queue)
        seen = wait_for(lambda: Heartbeat.objects.filter(name="from-test").exists())
        assert seen, (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        stop(worker)


def test_beat_schedules_the_heartbeat_and_the_worker_records_it(tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    fast = {"HEARTBEAT_INTERVAL_SECONDS": "1"}
    worker = start(["worker", "--pool=solo", "-Q", queue], queue, tmp_path, **fast)
    beat = start(
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
