"""Real Celery workers for the webhook tests (tests/workers.py's), with outbound settings
made for a loopback receiver and short backoffs."""

from __future__ import annotations

from pathlib import Path

from tests import workers

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
    """A worker as tests/workers.py starts one, with OUTBOUND_ENV (which `env` overrides)."""
    return workers.start_worker(tmp_path, queue, sink, name, *args, **{**OUTBOUND_ENV, **env})


logs = workers.logs
stop = workers.stop
