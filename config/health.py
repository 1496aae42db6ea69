"""`/health/` for load balancers and operators: is the database up, is the broker reachable,
did beat's heartbeat run lately. 200 when every check passes, 503 otherwise.

Public and cheap: no session, no audit, no rate limit, no read of client data (one `SELECT
1`, one row of organizations.Heartbeat, one broker connection), and nothing secret in the
answer (no broker URL, no error message: the error's type only).

`?only=database,broker` runs those checks alone: a container's own health check should not
fail because another container (beat) is down.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OK = "ok"
FAIL = "fail"
# What beat's heartbeat task writes (organizations.tasks.heartbeat): the worker ran a task
# that beat scheduled, so both run.
HEARTBEAT_NAME = "worker"


def check_database() -> dict:
    """`SELECT 1` on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return {"status": FAIL, "error": type(error).__name__}
    return {"status": OK}


def check_broker() -> dict:
    """One connection to the configured Celery broker, within HEALTH_BROKER_TIMEOUT_SECONDS.

    The default filesystem transport is embedded (no server): it is reported as such, and
    is healthy when its queue folder can be written."""
    url = settings.CELERY_BROKER_URL
    transport = url.split("://", 1)[0] or "unknown"
    if transport == "filesystem":
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
        writable = bool(folder) and os.access(folder, os.W_OK)
        return {"status": OK if writable else FAIL, "transport": transport, "embedded": True}
    from config.celery import app

    timeout = settings.HEALTH_BROKER_TIMEOUT_SECONDS
    connection_ = app.connection_for_write(
        url=url, connect_timeout=timeout, transport_options={"socket_timeout": timeout}
    )
    try:
        # No retry: a load balancer asks again soon enough.
        connection_.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=timeout
        )
    except Exception as error:  # each transport raises errors of its own
        return {"status": FAIL, "transport": transport, "error": type(error).__name__}
    finally:
        connection_.release()
    return {"status": OK, "transport": transport}


def check_beat(now: datetime | None = None) -> dict:
    """When the heartbeat task that beat schedules last ran on a worker; stale after
    HEALTH_BEAT_STALE_SECONDS (never run counts as stale)."""
    from organizations.models import Heartbeat

    now = now or timezone.now()
    stale_after = settings.HEALTH_BEAT_STALE_SECONDS
    try:
        seen = (
            Heartbeat.objects.filter(name=HEARTBEAT_NAME).values_list("seen_at", flat=True).first()
        )
    except DatabaseError as error:
        return {"status": FAIL, "error": type(error).__name__}
    if seen is None:
        return {"status": FAIL, "last_run": None, "stale_after_seconds": stale_after}
    age = max((now - seen).total_seconds(), 0.0)
    return {
        "status": OK if age <= stale_after else FAIL,
        "last_run": seen.isoformat(),
        "age_seconds": round(age, 1),
        "stale_after_seconds": stale_after,
    }


CHECKS = {"database": check_database, "broker": check_broker, "beat": check_beat}


@never_cache
@require_GET
@transaction.non_atomic_requests  # a down database must give 503, not fail the request
def health(request: HttpRequest) -> JsonResponse:
    """Every check's result and the overall status, 200 or 503."""
    asked = [name for name in request.GET.get("only", "").split(",") if name in CHECKS]
    results = {name: CHECKS[name]() for name in asked or CHECKS}
    failing = sorted(name for name, result in results.items() if result["status"] != OK)
    _log_change(tuple(results), failing)
    response = JsonResponse(
        {"status": FAIL if failing else OK, "checks": results}, status=503 if failing else 200
    )
    # Django's request logger would write an error (and, with ADMIN_EMAILS, mail one) for
    # every 503 a load balancer's probe gets: the change of state is logged above instead.
    response._has_been_logged = True
    return response


# What failed at the last probe, per set of checks asked for (a container's own probe may
# ask for fewer than the load balancer's).
_last_failing: dict[tuple[str, ...], list[str]] = {}


def _log_change(asked: tuple[str, ...], failing: list[str]) -> None:
    """One line when what fails changes (in this process), not one per probe."""
    if failing != _last_failing.get(asked, []):
        if failing:
            logger.warning("Health check failing: %s", ", ".join(failing))
        else:
            logger.info("Health checks pass again.")
    _last_failing[asked] = failing
