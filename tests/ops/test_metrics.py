"""/metrics: who may read it, route labels (never raw paths), and Linkage's own counters
moving when a reminder or a message to a client is really sent."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config import prometheus

pytestmark = pytest.mark.django_db


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- access ------------------------------------------------------------------------------


def test_loopback_may_read_others_get_404(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 404
    # A forwarded header is anyone's to write: not an address.
    spoofed = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert spoofed.status_code == 404


def test_configured_networks_may_read(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.2.3.4").status_code == 200
    assert client.get("/metrics").status_code == 404  # loopback no longer listed


def test_a_bearer_token_opens_it_from_anywhere_a_wrong_one_is_403(client, settings):
    settings.METRICS_TOKEN = "t0ken-for-prometheus"
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    good = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken-for-prometheus", **outside)
    assert good.status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **outside).status_code == 403
    assert client.get("/metrics", **outside).status_code == 404


# --- request latency by route ----------------------------------------------------------------


def test_latency_is_labelled_by_route_name_never_by_path(client, login, tenant):
    login(tenant.hco_navigator)
    path = f"/clients/{tenant.client.pk}/"
    assert client.get(path).status_code == 200
    before = scrape(client)
    client.get(path)
    text = client.get("/metrics").content.decode()
    after = scrape(client)
    name = "django_http_requests_latency_seconds_by_view_method_count"
    views = {dict(labels)["view"] for (n, labels) in after if n == name}
    assert "client_profile" in views
    assert value(after, name, view="client_profile", method="GET") == (
        value(before, name, view="client_profile", method="GET") + 1
    )
    assert path not in text and str(tenant.client.pk) not in {v.split(":")[-1] for v in views}
    assert tenant.client.family_name not in text


# --- Linkage's own counters ------------------------------------------------------------------


def test_delivering_a_reminder_counts_it(client, tenant):
    from referrals import tasks
    from referrals.models import Reminder
    from referrals.reminders.sweep import reminders_sweep
    from tests.reminders.support import START, Queue, build_world, send

    world = build_world(tenant)
    with time_machine.travel(START, tick=False) as clock:
        send(world)
        clock.move_to("2031-05-07 09:00:00-05:00")
        reminders_sweep(publish=Queue())
        reminder = Reminder.objects.get(kind="ack_overdue")
        before = scrape(client)
        # Through Celery (inline in tests), as the sweep hands it over.
        assert tasks.deliver_reminder.delay(reminder.pk).get() == 2
        assert tasks.deliver_reminder.delay(reminder.pk).get() == 0  # once: counted once
        after = scrape(client)
    name = "linkage_reminders_sent_total"
    assert value(after, name, kind="ack_overdue") == value(before, name, kind="ack_overdue") + 1
    task = "referrals.tasks.deliver_reminder"
    count = "linkage_celery_tasks_total"
    assert value(after, count, task=task, state="succeeded") == (
        value(before, count, task=task, state="succeeded") + 2
    )


def test_a_text_really_sent_to_a_client_counts_it(
    client, tenant, settings, django_capture_on_commit_callbacks
):
    from outreach.delivery import message_send
    from outreach.models import Message
    from tests.factories import ProgramFactory, referral_for
    from tests.outreach.conftest import texting_preference, twilio_settings
    from tests.outreach.fake_twilio import FakeTwilio

    fake = FakeTwilio().start()
    try:
        for key, setting in twilio_settings(fake).items():
            setattr(settings, key, setting)
        tenant.release.effective_at = timezone.now() - timedelta(days=1)
        tenant.release.save(update_fields=["effective_at"])
        texting_preference(tenant.client, tenant.hco_navigator, tenant.hco)
        program = ProgramFactory(organization=tenant.cbo, phone="(555) 010-0123")
        before = scrape(client)
        # Sending the referral queues the client's text; its task sends it once committed.
        with django_capture_on_commit_callbacks(execute=True):
            referral_for(tenant, program=program)
        message = Message.objects.get(kind=Message.Kind.REFERRAL_SENT)
        assert message.status == Message.Status.SENT
        assert message_send(message_id=message.pk) is False  # sent once: counted once
        after = scrape(client)
        assert len(fake.accepted) == 1
    finally:
        fake.stop()
    name = "linkage_client_messages_sent_total"
    assert value(after, name, channel="sms") == value(before, name, channel="sms") + 1
    task = ("linkage_celery_tasks_total", "outreach.tasks.send_message")
    assert value(after, task[0], task=task[1], state="succeeded") == (
        value(before, task[0], task=task[1], state="succeeded") + 1
    )


def test_failed_tasks_are_counted(client):
    from organizations.tasks import heartbeat

    before = scrape(client)
    heartbeat.apply(kwargs={"name": "x" * 500})  # longer than the column: the task fails
    after = scrape(client)
    name = "linkage_celery_tasks_total"
    task = "organizations.tasks.heartbeat"
    assert value(after, name, task=task, state="failed") == (
        value(before, name, task=task, state="failed") + 1
    )


def test_rollup_lag_is_the_age_of_the_oldest_pending_change(client, tenant):
    from metrics.models import RollupChange

    now = timezone.make_aware(datetime(2031, 5, 5, 9, 0))
    with time_machine.travel(now, tick=False):
        RollupChange.objects.all().delete()
        assert value(scrape(client), "linkage_rollup_lag_seconds") == 0.0
        for minutes in (7, 3):
            RollupChange.objects.create(
                network=tenant.network, what="referral", created_at=now - timedelta(minutes=minutes)
            )
        assert value(scrape(client), "linkage_rollup_lag_seconds") == 420.0
        assert now.astimezone(UTC)  # the lag does not depend on the time zone


# --- several processes -------------------------------------------------------------------


def test_multiprocess_mode_adds_up_every_process(client, tmp_path, monkeypatch):
    """Two processes (as two gunicorn workers, or a web and a worker container sharing the
    directory) count; the scrape adds them up."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = (
        "import django; django.setup()\n"
        "from config.prometheus import CLIENT_MESSAGES_SENT\n"
        "CLIENT_MESSAGES_SENT.labels(channel='email').inc(3)\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)
    assert value(samples, "linkage_client_messages_sent_total", channel="email") == 6.0
    assert "linkage_rollup_lag_seconds" in {name for name, _ in samples}
    assert prometheus.multiprocess_dir() == str(tmp_path)
