"""The client's appointment: the receiver records it, the client is texted the date at once
(in their language, named only as consent and sensitivity allow) and reminded the day
before, through the real Twilio library to the local fake of its API; a moved appointment
withdraws the earlier reminder, a closed referral withdraws what is still waiting. On a
frozen clock (America/Chicago, settings.TIME_ZONE)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from outreach.delivery import message_send, messages_sweep
from outreach.models import ContactPreference, Message
from referrals.events import STATUS, referral_changed
from referrals.models import Notification, Referral, ReferralEvent
from referrals.services import referral_schedule_appointment, referral_transition
from tests.factories import ProgramFactory, referral_for

from .conftest import CLIENT_PHONE

pytestmark = pytest.mark.django_db

STOP_FOOTER = " Reply STOP to stop texts."
# A Monday morning; the appointment is on Thursday afternoon.
MONDAY = "2031-05-05 10:00:00-05:00"
THURSDAY = datetime(2031, 5, 8, 14, 30)


def at(value: datetime) -> datetime:
    return timezone.make_aware(value)


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def accepted(world, capture, program=None, **fields) -> Referral:
    with capture(execute=True):
        referral = referral_for(world.tenant, program=program or world.program, **fields)
        return referral_transition(
            referral_id=referral.pk,
            move="accept",
            actor=world.tenant.cbo_staff,
            organization=world.tenant.cbo,
        )


def schedule(world, capture, referral, when: datetime, **fields) -> ReferralEvent:
    with capture(execute=True):
        return referral_schedule_appointment(
            referral=referral,
            actor=world.tenant.cbo_staff,
            organization=world.tenant.cbo,
            when=at(when),
            **fields,
        )


def appointment_texts(referral) -> dict[str, list[Message]]:
    out: dict[str, list[Message]] = {Message.Kind.NEXT_STEP: [], Message.Kind.REMINDER: []}
    for message in Message.objects.filter(referral=referral, kind__in=list(out)).order_by("id"):
        out[message.kind].append(message)
    return out


def test_the_client_is_texted_the_date_now_and_reminded_the_day_before(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    referral = accepted(world, django_capture_on_commit_callbacks)
    before = len(twilio.accepted)
    event = schedule(world, django_capture_on_commit_callbacks, referral, THURSDAY, note="Door B")

    referral.refresh_from_db()
    assert referral.business_status == Referral.BusinessStatus.SCHEDULED
    assert referral.appointment_at == at(THURSDAY)
    assert (event.kind, event.appointment_at, event.reason) == (
        ReferralEvent.Kind.SCHEDULED,
        at(THURSDAY),
        "Door B",
    )
    texts = appointment_texts(referral)
    [next_step] = texts[Message.Kind.NEXT_STEP]
    [reminder] = texts[Message.Kind.REMINDER]
    cbo = world.tenant.cbo.name
    assert next_step.status == Message.Status.SENT
    assert next_step.body == (
        f"Your appointment with {cbo} is on May 8, 2031, 2:30 p.m." + STOP_FOOTER
    )
    # The note for the sender never reaches the client.
    assert "Door B" not in next_step.body and "Door B" not in reminder.body
    assert [m["Body"] for m in twilio.accepted[before:]] == [next_step.body]
    assert twilio.accepted[-1]["To"] == CLIENT_PHONE

    # The reminder waits for Wednesday 14:30, then goes once.
    assert reminder.status == Message.Status.QUEUED
    assert reminder.scheduled_at == at(THURSDAY) - timedelta(days=1)
    assert reminder.body == (
        f"Reminder: your appointment with {cbo} is on May 8, 2031, 2:30 p.m." + STOP_FOOTER
    )
    assert messages_sweep() == 0
    clock.move_to("2031-05-07 14:29:00-05:00")
    assert messages_sweep() == 0 and message_send(message_id=reminder.pk) is False
    clock.move_to("2031-05-07 14:30:30-05:00")
    assert messages_sweep() == 1
    reminder.refresh_from_db()
    assert reminder.status == Message.Status.SENT
    assert twilio.accepted[-1]["Body"] == reminder.body
    assert messages_sweep() == 0 and message_send(message_id=reminder.pk) is False
    assert len(twilio.accepted) == before + 2


def test_the_sender_is_told_and_the_change_is_announced(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    referral = accepted(world, django_capture_on_commit_callbacks)
    heard = []

    def listener(sender, referral_id, change, object_id, **kwargs):
        heard.append((referral_id, change, object_id))

    referral_changed.connect(listener, dispatch_uid="test_appointment_listener")
    try:
        event = schedule(world, django_capture_on_commit_callbacks, referral, THURSDAY)
    finally:
        referral_changed.disconnect(dispatch_uid="test_appointment_listener")
    assert heard == [(referral.pk, STATUS, event.pk)]
    told = Notification.objects.filter(
        user=world.tenant.hco_navigator, kind="referral_scheduled", referral=referral
    )
    assert [n.message for n in told] == [
        f"Referral #{referral.pk} to {world.program.name}: the receiver scheduled the "
        "client's appointment."
    ]


def test_a_moved_appointment_withdraws_the_earlier_reminder(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    referral = accepted(world, django_capture_on_commit_callbacks)
    first = schedule(world, django_capture_on_commit_callbacks, referral, THURSDAY)
    later = THURSDAY + timedelta(days=7)
    second = schedule(world, django_capture_on_commit_callbacks, referral, later)

    texts = appointment_texts(referral)
    old_reminder, new_reminder = texts[Message.Kind.REMINDER]
    assert old_reminder.key == f"reminder:appointment-{first.pk}"
    assert old_reminder.status == Message.Status.SKIPPED
    assert old_reminder.reason == "The appointment was changed."
    assert new_reminder.key == f"reminder:appointment-{second.pk}"
    assert new_reminder.status == Message.Status.QUEUED
    assert new_reminder.scheduled_at == at(later) - timedelta(days=1)
    assert [m.status for m in texts[Message.Kind.NEXT_STEP]] == [Message.Status.SENT] * 2
    assert "May 15, 2031" in texts[Message.Kind.NEXT_STEP][1].body

    # The first appointment announced again (a replayed signal) queues nothing, and the
    # second one's again changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        for event in (first, second):
            referral_changed.send(
                sender=Referral, referral_id=referral.pk, change=STATUS, object_id=event.pk
            )
    assert Message.objects.filter(referral=referral).count() == 1 + 1 + 2 + 2
    new_reminder.refresh_from_db()
    assert new_reminder.status == Message.Status.QUEUED

    clock.move_to("2031-05-07 15:00:00-05:00")
    assert messages_sweep() == 0  # the withdrawn reminder's day: nothing goes


def test_a_closed_referral_withdraws_the_reminder_still_waiting(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    referral = accepted(world, django_capture_on_commit_callbacks)
    schedule(world, django_capture_on_commit_callbacks, referral, THURSDAY)
    with django_capture_on_commit_callbacks(execute=True):
        referral_transition(
            referral_id=referral.pk,
            move="cancel",
            actor=world.tenant.cbo_staff,
            organization=world.tenant.cbo,
            reason="The client moved away.",
        )
    [reminder] = appointment_texts(referral)[Message.Kind.REMINDER]
    assert reminder.status == Message.Status.SKIPPED
    assert reminder.reason == "The referral is no longer being worked."
    clock.move_to("2031-05-07 15:00:00-05:00")
    sent_before = len(twilio.accepted)
    assert messages_sweep() == 0 and len(twilio.accepted) == sent_before


def test_an_appointment_tomorrow_morning_gets_no_separate_reminder(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    referral = accepted(world, django_capture_on_commit_callbacks)
    # 25 hours ahead: the reminder would go an hour from now, right after the date itself.
    schedule(world, django_capture_on_commit_callbacks, referral, datetime(2031, 5, 6, 11, 0))
    texts = appointment_texts(referral)
    assert len(texts[Message.Kind.NEXT_STEP]) == 1 and texts[Message.Kind.REMINDER] == []


def test_a_reminder_due_in_quiet_hours_waits_for_their_end(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    ContactPreference.objects.filter(pk=world.preference.pk).update(
        quiet_start=time(21, 0), quiet_end=time(8, 0)
    )
    referral = accepted(world, django_capture_on_commit_callbacks)
    # A 7:30 appointment: its reminder would go at 7:30 the day before, inside quiet hours.
    schedule(world, django_capture_on_commit_callbacks, referral, datetime(2031, 5, 8, 7, 30))
    [reminder] = appointment_texts(referral)[Message.Kind.REMINDER]
    assert timezone.localtime(reminder.scheduled_at).isoformat(sep=" ") == (
        "2031-05-07 08:00:00-05:00"
    )


def test_the_appointment_text_is_in_the_clients_language(
    world, twilio, clock, spanish, django_capture_on_commit_callbacks
):
    ContactPreference.objects.filter(pk=world.preference.pk).update(language="es")
    referral = accepted(world, django_capture_on_commit_callbacks)
    schedule(world, django_capture_on_commit_callbacks, referral, THURSDAY)
    texts = appointment_texts(referral)
    [next_step], [reminder] = texts[Message.Kind.NEXT_STEP], texts[Message.Kind.REMINDER]
    cbo = world.tenant.cbo.name
    assert next_step.language == "es"
    assert next_step.body.startswith(f"Su cita con {cbo} es el 8 de mayo de 2031 a las 14:30")
    assert reminder.body.startswith(f"Recordatorio: su cita con {cbo} es el 8 de mayo de 2031")
    assert next_step.body.endswith("Responda STOP para dejar de recibir mensajes.")


def test_a_sensitive_service_s_appointment_names_nothing(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    shelter = ProgramFactory(
        organization=world.tenant.cbo,
        name="Safe Harbor Shelter",
        phone="(555) 010-0999",
        categories=["intimate-partner-violence"],
    )
    referral = accepted(
        world,
        django_capture_on_commit_callbacks,
        program=shelter,
        needs=("intimate-partner-violence",),
    )
    schedule(world, django_capture_on_commit_callbacks, referral, THURSDAY)
    texts = appointment_texts(referral)
    for message in (*texts[Message.Kind.NEXT_STEP], *texts[Message.Kind.REMINDER]):
        assert world.tenant.cbo.name not in message.body and "Shelter" not in message.body
    assert texts[Message.Kind.NEXT_STEP][0].body == (
        "Your appointment is on May 8, 2031, 2:30 p.m." + STOP_FOOTER
    )


def test_do_not_contact_records_the_appointment_and_texts_nothing(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    referral = accepted(world, django_capture_on_commit_callbacks, do_not_contact=True)
    schedule(world, django_capture_on_commit_callbacks, referral, THURSDAY)
    texts = appointment_texts(referral)
    assert [m.status for m in texts[Message.Kind.NEXT_STEP]] == [Message.Status.SKIPPED]
    assert all(m.body == "" for m in texts[Message.Kind.NEXT_STEP] + texts[Message.Kind.REMINDER])
    assert twilio.accepted == []


# --- who may, when --------------------------------------------------------------------------


def test_only_the_receiver_schedules_and_only_while_working_it(
    world, twilio, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        requested = referral_for(world.tenant, program=world.program)
    with pytest.raises(ValidationError, match="Accept the referral before"):
        referral_schedule_appointment(
            referral=requested,
            actor=world.tenant.cbo_staff,
            organization=world.tenant.cbo,
            when=at(THURSDAY),
        )
    referral = accepted(world, django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        referral_schedule_appointment(
            referral=referral,
            actor=world.tenant.hco_navigator,
            organization=world.tenant.hco,
            when=at(THURSDAY),
        )
    for when, words in (
        (datetime(2031, 5, 5, 9, 0), "must be in the future"),
        (datetime(2032, 6, 1, 9, 0), "within a year"),
    ):
        with pytest.raises(ValidationError, match=words):
            referral_schedule_appointment(
                referral=referral,
                actor=world.tenant.cbo_staff,
                organization=world.tenant.cbo,
                when=at(when),
            )
    referral.refresh_from_db()
    assert referral.appointment_at is None and referral.business_status == ""
    assert not ReferralEvent.objects.filter(kind=ReferralEvent.Kind.SCHEDULED).exists()
    assert not Message.objects.filter(kind=Message.Kind.NEXT_STEP).exists()


# --- the page ---------------------------------------------------------------------------------


def test_the_receiver_records_it_on_the_referral_page(
    world, twilio, clock, client, django_capture_on_commit_callbacks
):
    referral = accepted(world, django_capture_on_commit_callbacks)
    client.force_login(world.tenant.cbo_staff)
    page = client.get(reverse("referral_detail", args=[referral.pk]))
    assert b'data-testid="record-appointment"' in page.content

    url = reverse("referral_appointment", args=[referral.pk])
    bad = client.post(url, {"when": "next thursday"})
    assert bad.status_code == 400
    assert "Give the date and time like 2027-01-15 14:30." in bad.content.decode()
    past = client.post(url, {"when": "2031-05-01T09:00"})
    assert past.status_code == 400
    assert "The appointment must be in the future." in past.content.decode()
    assert not ReferralEvent.objects.filter(kind=ReferralEvent.Kind.SCHEDULED).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"when": "2031-05-08T14:30", "note": "Bring ID"})
    assert done.status_code == 302
    page = client.get(reverse("referral_detail", args=[referral.pk])).content.decode()
    assert 'data-testid="appointment">Thu, May 8, 2031 14:30<' in page
    assert "Appointment scheduled" in page and "Bring ID" in page
    assert "Change the appointment" in page
    assert Message.objects.get(kind=Message.Kind.NEXT_STEP).status == Message.Status.SENT

    # The sender sees the step but has no form.
    client.force_login(world.tenant.hco_navigator)
    seen = client.get(reverse("referral_detail", args=[referral.pk])).content.decode()
    assert "Appointment scheduled" in seen and 'data-testid="record-appointment"' not in seen
    assert client.post(url, {"when": "2031-05-09T10:00"}).status_code in (400, 403)
    referral.refresh_from_db()
    assert referral.appointment_at == at(THURSDAY)
