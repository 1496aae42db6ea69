"""Quiet hours: a message that falls due inside them waits for their end (local time, the
network's time zone), on a frozen clock."""

from __future__ import annotations

from datetime import time

import pytest
import time_machine
from django.utils import timezone

from outreach.delivery import message_send, messages_sweep
from outreach.models import ContactPreference, Message
from outreach.quiet import quiet_until
from outreach.services import message_queue

from .conftest import CLIENT_PHONE

pytestmark = pytest.mark.django_db

# America/Chicago (settings.TIME_ZONE), a Tuesday in May.
EVENING = "2031-05-06 22:30:00-05:00"
NEXT_MORNING = "2031-05-07 08:00:00-05:00"


@pytest.fixture
def quiet(world):
    ContactPreference.objects.filter(pk=world.preference.pk).update(
        quiet_start=time(21, 0), quiet_end=time(8, 0)
    )
    return world


def queue(world):
    return message_queue(
        client=world.client, organization=world.tenant.cbo, kind=Message.Kind.REMINDER
    )


def test_a_message_queued_in_quiet_hours_waits_for_the_morning(
    quiet, twilio, django_capture_on_commit_callbacks
):
    with time_machine.travel(EVENING, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            message = queue(quiet)
        assert message.status == Message.Status.QUEUED
        assert timezone.localtime(message.scheduled_at).isoformat(sep=" ") == NEXT_MORNING
        assert twilio.accepted == []
        # Not handed to a worker at night, and a delivery that runs anyway sends nothing.
        assert message.queued_at is None
        assert messages_sweep() == 0
        assert message_send(message_id=message.pk) is False

        clock.move_to("2031-05-07 07:59:00-05:00")
        assert messages_sweep() == 0 and twilio.accepted == []

        clock.move_to("2031-05-07 08:00:30-05:00")
        assert messages_sweep() == 1  # eager: sent now
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert twilio.bodies_to(CLIENT_PHONE) == [message.body]


def test_quiet_hours_that_began_after_queueing_hold_the_message(quiet, twilio):
    with time_machine.travel("2031-05-06 20:59:00-05:00", tick=False) as clock:
        message = queue(quiet)  # queued before 21:00; its worker runs late
        clock.move_to("2031-05-06 21:10:00-05:00")
        assert message_send(message_id=message.pk) is False
        message.refresh_from_db()
        assert timezone.localtime(message.scheduled_at).isoformat(sep=" ") == NEXT_MORNING
        assert twilio.accepted == []


def test_answers_to_keywords_are_not_held(
    quiet, twilio, client, django_capture_on_commit_callbacks
):
    from .conftest import inbound

    with (
        time_machine.travel(EVENING, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert inbound(client, "HELP").status_code == 200
    assert len(twilio.accepted) == 1


@pytest.mark.parametrize(
    ("start", "end", "now", "until"),
    [
        ((21, 0), (8, 0), "2031-05-06 22:30:00-05:00", "2031-05-07T08:00:00-05:00"),
        ((21, 0), (8, 0), "2031-05-07 06:00:00-05:00", "2031-05-07T08:00:00-05:00"),
        ((21, 0), (8, 0), "2031-05-07 08:00:00-05:00", None),
        ((12, 0), (13, 0), "2031-05-07 12:30:00-05:00", "2031-05-07T13:00:00-05:00"),
        ((12, 0), (13, 0), "2031-05-07 11:59:00-05:00", None),
        # The night the clocks go forward (Chicago, 9 March 2031): 8:00 is still 8:00 local.
        ((21, 0), (8, 0), "2031-03-08 23:00:00-06:00", "2031-03-09T08:00:00-05:00"),
    ],
)
def test_quiet_until(start, end, now, until):
    from datetime import datetime

    ended = quiet_until(time(*start), time(*end), datetime.fromisoformat(now))
    assert (timezone.localtime(ended).isoformat() if ended else None) == until
