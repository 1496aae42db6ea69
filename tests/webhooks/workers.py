"""Real Celery workers for the webhook tests (the configured broker: Redis in CI, the
filesystem transport by default), with outbound settings made for a loopback receiver
and short backoffs. Waiting on them is polling against a deadline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.config import test_celery_worker as real_worker

ROOT = Path(__file__).resolve().parents[2]

OUTBOUND_ENV = {
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "WEBHOOK_REQUIRE_HTTPS": "false",
    "SITE_URL": "https://linkage.test",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.5",
    "WEBHOOK_RETRY_MAX_DELAY_SECONDS": "2",
    "WEBHOOK_CONNECT_TIMEOUT_SECONDS": "2",
    "WEBHOOK_READ_TIMEOUT_SECONDS": "5",
}


def start_worker(tmp_path: Path, queue: str, sink: Path, name: str, *args, **env):
    full_env = {
        **os.environ,
        "DATABASE_URL": real_worker.database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": "tests.reminders.worker_settings",
        "MAILSINK_DIR": str(sink),
        "PYTHONUNBUFFERED": "1",
        **OUTBOUND_ENV,
        **env,
    }
    log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue),
            *("-n", f"{name}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle"),
            *(args or ("--pool=solo",)),
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text()[-4000:] for p in sorted(tmp_path.glob("*.log")))


stop = real_worker.stop
