"""Prometheus metrics: Linkage's own counters, the scrape-time gauges and the `/metrics` view.

Request counts and latency by route come from django-prometheus's middleware (labelled by
URL name, never by raw path, so no id reaches a label). Linkage adds:

- `linkage_celery_tasks_total{task, state}`: tasks finished (succeeded, failed, retried),
  counted by Celery's signals in whichever process runs them (the worker; inline in tests);
- `linkage_reminders_sent_total{kind}` and `linkage_client_messages_sent_total{channel}`:
  incremented where referrals/reminders/delivery.py and outreach/delivery.py record them sent;
- `linkage_rollup_lag_seconds` and `linkage_heartbeat_age_seconds`: computed when scraped.

Labels hold names of tasks, kinds and channels only: never a client's data, never an id.

Several processes (gunicorn workers, the Celery worker): with PROMETHEUS_MULTIPROC_DIR set,
prometheus_client keeps each process's values in files there and `/metrics` adds them up.
This module is imported by config/celery.py, hence before any metric exists in any process,
as prometheus_client requires. Processes are told apart by host name and pid, so containers
(whose pids repeat) may share the directory on one volume.
"""

from __future__ import annotations

import hmac
import os
import socket
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from celery import signals
from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily


def _process_identifier() -> str:
    # The multiprocess collector splits file names on "_": none may be in the identifier.
    host = socket.gethostname().replace("_", "-") or "host"
    return f"{host}-{os.getpid()}"


def multiprocess_dir() -> str:
    """The shared directory of multiprocess mode, or "" (one process, in memory)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


if multiprocess_dir():
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)


CELERY_TASKS = Counter(
    "linkage_celery_tasks",
    "Celery tasks finished, by task name and state (succeeded, failed, retried).",
    ["task", "state"],
)
REMINDERS_SENT = Counter(
    "linkage_reminders_sent",
    "Reminders delivered (their in-app notifications made), by reminder kind.",
    ["kind"],
)
CLIENT_MESSAGES_SENT = Counter(
    "linkage_client_messages_sent",
    "Texts and emails to clients accepted by the provider, by channel.",
    ["channel"],
)


def _task_name(sender) -> str:
    return getattr(sender, "name", None) or "unknown"


@signals.task_success.connect(weak=False)
def _count_success(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), state="succeeded").inc()


@signals.task_failure.connect(weak=False)
def _count_failure(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), state="failed").inc()


@signals.task_retry.connect(weak=False)
def _count_retry(sender=None, **kwargs) -> None:
    CELERY_TASKS.labels(task=_task_name(sender), state="retried").inc()


class ScrapeTimeCollector:
    """Gauges read from the database when scraped: nothing to keep in step between
    processes, and the answer is as fresh as the scrape. Two indexed single-row reads."""

    def collect(self):
        try:
            oldest, seen = self._read()
        except DatabaseError:
            return  # the database is down: /health/ says so; the other metrics still count
        now = timezone.now()
        lag = GaugeMetricFamily(
            "linkage_rollup_lag_seconds",
            "Age of the oldest measure change not yet applied to the rollups (0: none pending).",
        )
        lag.add_metric([], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
        yield lag
        heartbeat = GaugeMetricFamily(
            "linkage_heartbeat_age_seconds",
            "Seconds since a worker last ran the heartbeat task that beat schedules "
            "(absent: never).",
        )
        if seen is not None:
            heartbeat.add_metric([], max((now - seen).total_seconds(), 0.0))
        yield heartbeat

    def _read(self):
        from metrics.models import RollupChange
        from organizations.models import Heartbeat

        oldest = RollupChange.objects.order_by("pk").values_list("created_at", flat=True).first()
        seen = Heartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
        return oldest, seen


class _ThisProcess:
    """The default registry's metrics (one process, values in memory)."""

    def collect(self):
        yield from REGISTRY.collect()


def render() -> bytes:
    """The exposition text: every process's metrics, then the scrape-time gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(ScrapeTimeCollector())
    return generate_latest(registry)


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address_allowed(remote_addr: str, entries: list[str]) -> bool:
    try:
        address = ip_address(remote_addr)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return any(address in network for network in _networks(tuple(entries)))


@transaction.non_atomic_requests
def metrics_view(request: HttpRequest) -> HttpResponse:
    """`/metrics` for Prometheus: from METRICS_ALLOWED_IPS (the connecting address, never a
    forwarded header, which anyone can write), or with `Authorization: Bearer
    <METRICS_TOKEN>`. A wrong token gets 403; anyone else a 404, as if there were nothing."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    token = settings.METRICS_TOKEN
    if token and scheme.lower() == "bearer":
        if not hmac.compare_digest(presented.strip().encode(), token.encode()):
            return HttpResponseForbidden("Forbidden\n", content_type="text/plain")
    elif not _address_allowed(request.META.get("REMOTE_ADDR", ""), settings.METRICS_ALLOWED_IPS):
        raise Http404
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


# Not a page: the second-factor gate has nothing to protect here.
metrics_view.two_factor_exempt = True
