"""Real Celery processes for the tests that start them (marked `worker`): the configured
broker (Redis in CI, kombu's filesystem transport by default), the test database, a queue
of the test's own, and emails written to files the test counts (tests/reminders/mailsink.py).
Waiting on them is polling against a deadline: they are other processes.

Registered as a plugin by tests/conftest.py, so `queue` and `sink` are fixtures everywhere;
the helpers are imported (`from tests.workers import start_worker, stop, wait_for`).

Time: a worker started while this process's clock is travelled (time_machine) runs on the
same clock, set the same distance from real time (tests/reminders/worker_settings.py); a
worker started on the real clock stays on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database (not the configured one), as the worker's DATABASE_URL."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    host = s.get("HOST") or "127.0.0.1"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


def celery(
    args: list[str], queue: str, tmp_path: Path, *, log: str | None = None, **env
) -> subprocess.Popen:
    """`celery -A config <args>` on the test database with `queue` as its default queue,
    its output in tmp_path/<log>.log (by default named after the command: worker, beat)."""
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **env,
    }
    out = open(tmp_path / f"{log or args[0]}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def start_worker(tmp_path: Path, queue: str, sink: Path, name: str, *args, **env):
    """A worker `name` consuming `queue`, emailing into `sink`, on this process's clock;
    `args` are extra worker options (one solo process by default), `env` extra settings."""
    clock = {}
    if time_machine.escape_hatch.is_travelling():
        offset = timezone.now().timestamp() - time_machine.escape_hatch.time.time()
        clock["TEST_CLOCK_OFFSET_SECONDS"] = str(offset)
    return celery(
        [
            *("worker", "-Q", queue, "-n", f"{name}@%h", "--loglevel=INFO"),
            *("--without-gossip", "--without-mingle"),
            *(args or ("--pool=solo",)),
        ],
        queue,
        tmp_path,
        log=name,
        **{
            "DJANGO_SETTINGS_MODULE": "tests.reminders.worker_settings",
            "MAILSINK_DIR": str(sink),
            "PYTHONUNBUFFERED": "1",  # the log is read while the worker runs
            **clock,
            **env,
        },
    )


def logs(tmp_path: Path) -> str:
    """The end of every worker's log, for an assertion's message."""
    return "\n".join(p.read_text()[-4000:] for p in sorted(tmp_path.glob("*.log")))


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


@pytest.fixture
def queue(request):
    """A private queue: what the test (and its sweeps) queue goes to the workers it starts,
    and to no other test's."""
    name = f"{request.path.parent.name}-{uuid.uuid4().hex[:8]}"
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = name
    yield name
    celery_app.conf.task_default_queue = saved


@pytest.fixture
def sink(tmp_path, settings) -> Path:
    """Where every email goes, from the workers and from this process alike."""
    path = tmp_path / "mail"
    path.mkdir()
    settings.EMAIL_BACKEND = "tests.reminders.mailsink.EmailBackend"
    settings.MAILSINK_DIR = str(path)
    return path
