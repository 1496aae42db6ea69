"""/health/: 200 when the database, the broker and beat's heartbeat are fine, 503 otherwise."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from organizations.models import Heartbeat

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2031, 5, 5, 9, 0))


def closed_port() -> int:
    """A local port nothing listens on (bound, then let go): connecting is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def embedded_broker(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}


def beat_ran(at):
    Heartbeat.objects.update_or_create(name="worker", defaults={"seen_at": at})


def test_all_ok_is_200_with_the_embedded_broker(client, clock, embedded_broker, settings):
    beat_ran(NOW - timedelta(seconds=30))
    response = client.get("/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"] == {"status": "ok", "transport": "filesystem", "embedded": True}
    assert body["checks"]["beat"]["age_seconds"] == 30.0
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )


def test_a_real_redis_broker_answers(client, clock, settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("the configured broker is not Redis (CI's is)")
    beat_ran(NOW)
    response = client.get("/health/")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["broker"] == {"status": "ok", "transport": "redis"}


def test_broker_down_is_503_and_names_no_url(client, clock, settings):
    settings.CELERY_BROKER_URL = f"redis://:s3cret@127.0.0.1:{closed_port()}/0"
    beat_ran(NOW)
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker"] == {
        "status": "fail",
        "transport": "redis",
        "error": "OperationalError",
    }
    assert body["checks"]["database"]["status"] == "ok"
    assert "s3cret" not in response.content.decode()
    # A container's own probe may leave the broker out.
    assert client.get("/health/?only=database,beat").status_code == 200


def test_beat_goes_stale_after_the_configured_seconds(client, clock, embedded_broker, settings):
    settings.HEALTH_BEAT_STALE_SECONDS = 120
    beat_ran(NOW)
    clock.move_to(NOW + timedelta(seconds=119))
    assert client.get("/health/").status_code == 200
    clock.move_to(NOW + timedelta(seconds=121))
    response = client.get("/health/")
    assert response.status_code == 503
    beat = response.json()["checks"]["beat"]
    assert beat["status"] == "fail" and beat["age_seconds"] == 121.0
    assert (
        beat["last_run"] == NOW.astimezone(UTC).isoformat() and beat["stale_after_seconds"] == 120
    )


def test_beat_that_never_ran_is_503(client, clock, embedded_broker):
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["last_run"] is None


def test_the_real_heartbeat_task_makes_beat_healthy(client, clock, embedded_broker):
    from organizations.tasks import heartbeat

    assert client.get("/health/").status_code == 503
    heartbeat.delay()  # what beat schedules (run inline here)
    assert client.get("/health/").status_code == 200


def test_database_down_is_503_not_500(client, clock, embedded_broker, monkeypatch):
    from django.db import connection

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "status": "fail",
        "error": "OperationalError",
    }


def test_no_session_second_factor_or_login_needed(client, clock, embedded_broker, tenant):
    """An org admin who has not passed the second factor is redirected everywhere but here."""
    from tests.factories import PASSWORD

    beat_ran(NOW)
    client.post("/account/login/", {"username": tenant.hco_admin.email, "password": PASSWORD})
    assert client.get("/").status_code == 302
    assert client.get("/health/").status_code == 200
    assert client.get("/health/", REMOTE_ADDR="203.0.113.9").status_code == 200
