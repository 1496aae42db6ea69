"""Exactly once with real Celery workers (the configured broker: Redis in CI, the
filesystem transport by default) — and a private Redis server that the test stops.

- several sweeps and deliveries at once, plus workers consuming, over one due set: each
  reminder delivered once, each notification emailed once;
- the broker down while referrals are made through the page: they save, nobody sees an
  error; the broker back: the next sweep delivers everything, once;
- a worker killed (SIGKILL) in the middle of sending: after a restart and a sweep, the
  reminder's email goes out once.

Time: the clock starts at a fixed Monday morning and runs on, in this process and in the
workers alike (tests/workers.py, tests/reminders/worker_settings.py), so the
acknowledgements fall due on Wednesday, inside the sweep's three-day email retry window,
whatever the real date. Due moments are reached by passing the sweep a later `now`; waiting
on the worker processes is polling the database or a marker file against a deadline.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from referrals.models import Notification, Referral, Reminder
from referrals.reminders import delivery
from referrals.reminders.sweep import reminders_sweep
from referrals.services import referral_assign
from tests.factories import ProgramFactory
from tests.workers import logs, start_worker, stop, wait_for

from .mailsink import sent_messages
from .support import build_world, send

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A Monday morning in a month without a daylight-saving change. In the past, not the
# future: Redis restores other workers' unacknowledged messages older than the visibility
# timeout, and a worker on a future clock would find everyone's old (worker_settings.py).
MONDAY = "2025-05-05 09:00:00-05:00"


# --- harness -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clock():
    """This process's clock, from Monday 9:00 on: running, not frozen (the waits below and
    the broker client's retries are real). Autouse, so the tenant is made on it too."""
    with time_machine.travel(MONDAY, tick=True) as traveller:
        yield traveller


# `queue` (a private queue) and `sink` (where every email goes): tests/workers.py.


@pytest.fixture
def world(tenant):
    return build_world(tenant)


def emails_by_notification(sink: Path) -> Counter:
    return Counter(int(m["X-Linkage-Notification"]) for m in sent_messages(sink))


def all_delivered() -> bool:
    return (
        Reminder.objects.exists()
        and not Reminder.objects.filter(delivered_at__isnull=True).exists()
        and not Notification.objects.filter(emailed_at__isnull=True).exists()
    )


def in_thread(target, *args):
    """Run `target` in a thread with its own database connection (closed at the end)."""
    errors: list[BaseException] = []

    def run():
        try:
            target(*args)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def overdue_referrals(world, count: int) -> list[Referral]:
    """`count` referrals from the HCO to the CBO (its two staff told), each to a program
    of its own."""
    return [
        send(world, program=ProgramFactory(organization=world.tenant.cbo, name=f"P{i}"))
        for i in range(count)
    ]


def due_moment(referrals) -> timezone.datetime:
    """A moment when every one of these referrals is overdue once (not twice)."""
    return max(r.ack_due_at for r in referrals) + timedelta(minutes=1)


# --- 1. concurrent sweeps and deliveries ---------------------------------------------------


def test_concurrent_sweeps_and_deliveries_deliver_each_reminder_once(world, queue, sink, tmp_path):
    referrals = overdue_referrals(world, 12)
    now = due_moment(referrals)
    workers = [
        start_worker(tmp_path, queue, sink, f"w{i}", "--pool=threads", "--concurrency=3")
        for i in range(2)
    ]
    try:
        barrier = threading.Barrier(6)

        def sweeper():
            barrier.wait()
            for _ in range(3):
                reminders_sweep(now=now)

        def deliverer():
            barrier.wait()
            for _ in range(6):
                for pk in Reminder.objects.values_list("pk", flat=True):
                    delivery.reminder_deliver(reminder_id=pk)
                for pk in Notification.objects.values_list("pk", flat=True):
                    delivery.notification_email_send(notification_id=pk)

        started = [in_thread(sweeper) for _ in range(4)] + [in_thread(deliverer) for _ in range(2)]
        for thread, _ in started:
            thread.join(timeout=180)
        errors = [e for _, found in started for e in found]
        assert not errors, errors
        done = wait_for(all_delivered, timeout=120)
        assert done, logs(tmp_path)
    finally:
        stop(*workers)

    reminders = list(Reminder.objects.all())
    assert len(reminders) == 12  # one per referral: the key made every repeat nothing
    assert {r.kind for r in reminders} == {"ack_overdue"}
    assert all(r.state == Reminder.State.DELIVERED for r in reminders)
    told = Counter(
        Notification.objects.filter(reminder__isnull=False).values_list("reminder", "user")
    )
    assert len(told) == 24 and set(told.values()) == {1}  # 12 reminders x 2 people, once each
    emailed = emails_by_notification(sink)
    everything = set(Notification.objects.values_list("pk", flat=True))
    assert set(emailed) == everything  # the referral emails and the reminders' alike
    assert set(emailed.values()) == {1}, emailed.most_common(3)


# --- 2. the broker down --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server(port: int, tmp_path: Path) -> subprocess.Popen:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: the broker-outage test needs it "
            "(apt-get install redis-server; CI installs it)."
        )
    server = subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(tmp_path), "--daemonize", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_for(lambda: _answers(port), timeout=20), "redis did not start"
    return server


def _answers(port: int) -> bool:
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


@contextmanager
def celery_broker(url: str, monkeypatch):
    """This process's Celery app publishing to `url`, with connection pools of its own (the
    app's usual pools are put back untouched afterwards). Celery reads CELERY_BROKER_URL
    from the environment before its configuration, so that is set too."""
    conf, amqp = celery_app.conf, celery_app.amqp
    saved = (conf.broker_url, conf.broker_transport_options, celery_app._pool, amqp._producer_pool)
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    conf.broker_url, conf.broker_transport_options = url, {}
    celery_app._pool, amqp._producer_pool = None, None
    try:
        assert conf.broker_write_url == url
        yield
    finally:
        if celery_app._pool is not None and celery_app._pool is not saved[2]:
            celery_app._pool.force_close_all()
        monkeypatch.undo()
        conf.broker_url, conf.broker_transport_options = saved[:2]
        celery_app._pool, amqp._producer_pool = saved[2:]


def test_with_the_broker_down_referrals_save_and_the_next_sweep_delivers_once(
    world, queue, sink, tmp_path, client, login, monkeypatch, caplog
):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = redis_server(port, tmp_path)
    worker = None
    try:
        with celery_broker(url, monkeypatch):
            worker = start_worker(tmp_path, queue, sink, "w", "--pool=solo", CELERY_BROKER_URL=url)
            programs = [
                ProgramFactory(organization=world.tenant.cbo, name=f"Outage {i}") for i in range(3)
            ]
            login(world.sender)
            server.kill()  # the broker goes away
            server.wait(timeout=20)
            caplog.set_level(logging.WARNING, logger="config.broker")
            for program in programs:
                response = client.post(
                    reverse("referral_new", args=[world.client.pk]),
                    {"needs": ["food-insecurity"], "program": program.pk, "urgency": "routine"},
                )
                # Saved, and the person lands on the referral: no error for them.
                assert response.status_code == 302, response.content[:2000]
                assert "/referrals/" in response["Location"]
            referrals = list(Referral.objects.filter(program__in=programs))
            assert len(referrals) == 3
            # The outage was felt (and logged without client data), not dodged.
            assert caplog.text.count("Broker unavailable") == 3
            assert world.client.family_name not in caplog.text
            assert Notification.objects.filter(emailed_at__isnull=True).count() == 6
            assert sent_messages(sink) == []

            server = redis_server(port, tmp_path)  # back, empty: every queued message is gone
            result = reminders_sweep(now=due_moment(referrals))
            assert result.queued == 3 and result.emails_queued == 6
            done = wait_for(all_delivered, timeout=120)
            assert done, logs(tmp_path)
    finally:
        if worker is not None:
            stop(worker)
        server.kill()
        server.wait(timeout=20)

    assert Reminder.objects.filter(state="delivered").count() == 3
    emailed = emails_by_notification(sink)
    # The six "new referral" emails lost with the broker, and the six reminder emails.
    assert len(emailed) == 12 and set(emailed.values()) == {1}
    assert set(emailed) == set(Notification.objects.values_list("pk", flat=True))


# --- 3. a worker killed mid-send -----------------------------------------------------------


def test_a_worker_killed_while_sending_leaves_the_email_to_be_sent_once(
    world, queue, sink, tmp_path
):
    [referral] = overdue_referrals(world, 1)
    # One person to tell (the assignee), and nothing else waiting to be emailed.
    referral_assign(
        referral=referral,
        assignee=world.receiver,
        actor=world.receiver,
        organization=world.tenant.cbo,
    )
    Notification.objects.update(emailed_at=timezone.now())
    gate = tmp_path / "gate"
    gate.mkdir()
    stuck = start_worker(tmp_path, queue, sink, "stuck", "--pool=solo", MAILSINK_GATE=str(gate))
    second = None
    try:
        now = due_moment([referral])
        reminders_sweep(now=now)
        entered = wait_for(lambda: any(gate.glob("entered-*")), timeout=60)
        assert entered, logs(tmp_path)
        # In the app already; the email is being sent, under the notification's row lock.
        notification = Notification.objects.get(reminder__isnull=False)
        assert notification.user_id == world.receiver.pk and notification.emailed_at is None
        os.kill(stuck.pid, signal.SIGKILL)
        stuck.wait(timeout=20)
        assert sent_messages(sink) == []

        second = start_worker(tmp_path, queue, sink, "second", "--pool=solo")
        # The next sweep: the reminder is delivered (in the app) and is not delivered again;
        # the notification's email, never recorded as sent, is queued again.
        result = reminders_sweep(now=now + timedelta(minutes=10))
        assert result.queued == 0 and result.emails_queued == 1
        done = wait_for(all_delivered, timeout=120)
        assert done, logs(tmp_path)
    finally:
        stop(*(w for w in (stuck, second) if w is not None and w.poll() is None))

    assert Notification.objects.filter(reminder__isnull=False).count() == 1
    assert emails_by_notification(sink) == Counter({notification.pk: 1})
