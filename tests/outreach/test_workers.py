"""Exactly once with real Celery workers (tests/workers.py) and the fake Twilio over HTTP:
a worker killed (SIGKILL) while the provider has the text in hand but has not accepted it
leaves the message queued; after a restart and a sweep it goes out once."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.delivery import messages_sweep
from outreach.models import Message
from outreach.services import message_queue
from tests.workers import logs, start_worker, stop, wait_for

from .conftest import CLIENT_PHONE, twilio_settings

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def sent(message: Message) -> bool:
    message.refresh_from_db()
    return message.status == Message.Status.SENT


def test_a_worker_killed_mid_send_leaves_the_text_to_be_sent_once(
    world, twilio, queue, sink, tmp_path
):
    env = twilio_settings(twilio)
    twilio.hold_next()
    stuck = start_worker(tmp_path, queue, sink, "stuck", "--pool=solo", **env)
    second = None
    try:
        # Outside any transaction: queued and handed to the broker at once.
        message = message_queue(
            client=world.client, organization=world.tenant.cbo, kind=Message.Kind.REMINDER
        )
        assert message is not None
        assert twilio.held.wait(90), logs(tmp_path)
        # The worker is in the middle of the provider's request, holding the row's lock.
        os.kill(stuck.pid, signal.SIGKILL)
        stuck.wait(timeout=20)
        twilio.release()
        message.refresh_from_db()
        assert message.status == Message.Status.QUEUED and message.attempts == 0
        assert twilio.accepted == []

        second = start_worker(tmp_path, queue, sink, "second", "--pool=solo", **env)
        # The next sweep queues it again (its last queueing is a whole interval old).
        assert messages_sweep(now=timezone.now() + timedelta(minutes=10)) == 1
        assert wait_for(lambda: sent(message), timeout=120), logs(tmp_path)
        # Another sweep and a duplicate delivery find it sent.
        assert messages_sweep(now=timezone.now() + timedelta(minutes=20)) == 0
    finally:
        stop(*(w for w in (stuck, second) if w is not None and w.poll() is None))

    assert twilio.bodies_to(CLIENT_PHONE) == [message.body]
    assert message.provider_id == twilio.accepted[0]["sid"] and message.attempts == 1
    # The workers' logs hold ids, never the number or the words.
    assert CLIENT_PHONE not in logs(tmp_path) and message.body not in logs(tmp_path)
