"""Messages the client receives: queued by the referral's steps and by other apps, worded by
consent and sensitivity, in the client's language, sent through the real Twilio library to
a local fake of its API (real HTTP), once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.utils import timezone

from clients.models import Client
from organizations.models import Organization
from outreach import tasks
from outreach.delivery import message_send, messages_sweep
from outreach.models import ClientReport, ContactPreference, Message
from outreach.selectors import client_reports_for
from outreach.services import message_queue
from referrals.events import STATUS, referral_changed
from referrals.models import Referral, ReferralEvent
from referrals.services import referral_transition
from tests.factories import OrganizationFactory, ProgramFactory, referral_for

from .conftest import CLIENT_PHONE, PROGRAM_PHONE, inbound
from .fake_twilio import FROM_NUMBER

pytestmark = pytest.mark.django_db

STOP_FOOTER = " Reply STOP to stop texts."


def send_referral(world, capture, **fields) -> Referral:
    with capture(execute=True):
        return referral_for(world.tenant, program=world.program, **fields)


def move(world, capture, referral, name, **fields) -> Referral:
    with capture(execute=True):
        return referral_transition(
            referral_id=referral.pk,
            move=name,
            actor=world.tenant.cbo_staff,
            organization=world.tenant.cbo,
            **fields,
        )


# --- the referral's steps, through Twilio ----------------------------------------------------


def test_a_sent_referral_texts_the_client_who_will_call_from_where(
    world, twilio, django_capture_on_commit_callbacks, monkeypatch
):
    handed = []
    original = tasks.send_message.delay
    monkeypatch.setattr(
        tasks.send_message, "delay", lambda *a, **kw: (handed.append((a, kw)), original(*a, **kw))
    )
    referral = send_referral(world, django_capture_on_commit_callbacks)

    message = Message.objects.get(kind=Message.Kind.REFERRAL_SENT)
    expected = (
        f"{world.tenant.cbo.name} will call you within 2 business days from {PROGRAM_PHONE}."
        + STOP_FOOTER
    )
    assert message.body == expected
    assert message.referral_id == referral.pk and message.organization_id == world.tenant.cbo.pk
    assert message.status == Message.Status.SENT and message.attempts == 1
    # Over HTTP to the provider, from our number, and recorded with the provider's id.
    [accepted] = twilio.accepted
    assert (accepted["To"], accepted["From"], accepted["Body"]) == (
        CLIENT_PHONE,
        FROM_NUMBER,
        expected,
    )
    assert message.provider_id == accepted["sid"]
    # The task was handed the message's id only: no number, body or link.
    assert handed == [((message.pk,), {})]


def test_accepted_then_completed_asks_and_the_reply_is_the_clients_own_report(
    world, twilio, django_capture_on_commit_callbacks, client
):
    referral = send_referral(world, django_capture_on_commit_callbacks)
    move(world, django_capture_on_commit_callbacks, referral, "accept")
    move(world, django_capture_on_commit_callbacks, referral, "complete", outcome="need-met")

    cbo = world.tenant.cbo.name
    assert twilio.bodies_to(CLIENT_PHONE)[1:] == [
        f"Good news: {cbo} accepted your referral. They will contact you about next steps."
        + STOP_FOOTER,
        f"{cbo} says your referral is complete. Did you get the help you needed? "
        "Reply 1 yes / 2 partly / 3 no" + STOP_FOOTER,
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert inbound(client, " 2 ").status_code == 200
    [report] = client_reports_for(referral.pk)
    assert (report.answer, report.client_id) == (ClientReport.Answer.PARTLY, world.client.pk)
    assert report.inbound.in_reply_to.kind == Message.Kind.COMPLETED_ASK
    # Nothing is texted back for an answer.
    assert len(twilio.accepted) == 3


def test_the_same_message_queued_twice_is_one_message(
    world, twilio, django_capture_on_commit_callbacks
):
    referral = send_referral(world, django_capture_on_commit_callbacks)
    event = ReferralEvent.objects.filter(referral=referral).latest("id")
    # The referral's change announced again (the interop sweep may): nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        referral_changed.send(
            sender=Referral, referral_id=referral.pk, change=STATUS, object_id=event.pk
        )
        again = message_queue(
            client=world.client,
            organization=world.tenant.cbo,
            kind=Message.Kind.REFERRAL_SENT,
            referral=referral,
        )
    assert Message.objects.filter(kind=Message.Kind.REFERRAL_SENT).count() == 1
    assert again == Message.objects.get(kind=Message.Kind.REFERRAL_SENT)
    assert len(twilio.accepted) == 1


# --- what a message may say ------------------------------------------------------------------


def test_an_organization_the_release_does_not_cover_is_not_named(
    world, twilio, django_capture_on_commit_callbacks
):
    stranger = OrganizationFactory(
        network=world.tenant.network, name="Quietwater Services", kind=Organization.Kind.CBO
    )
    with django_capture_on_commit_callbacks(execute=True):
        uncovered = message_queue(
            client=world.client,
            organization=stranger,
            kind=Message.Kind.REFERRAL_ACCEPTED,
            context={"key": "uncovered"},
        )
        covered = message_queue(
            client=world.client,
            organization=world.tenant.cbo,
            kind=Message.Kind.REFERRAL_ACCEPTED,
            context={"key": "covered"},
        )
    assert "Quietwater" not in uncovered.body
    assert uncovered.body == (
        "Good news: your referral was accepted. You will be contacted about next steps."
        + STOP_FOOTER
    )
    assert world.tenant.cbo.name in covered.body
    assert [m["Body"] for m in twilio.accepted] == [uncovered.body, covered.body]


def test_a_sensitive_service_is_never_named(world, twilio, django_capture_on_commit_callbacks):
    program = ProgramFactory(
        organization=world.tenant.cbo,
        name="Safe Harbor Shelter",
        phone="(555) 010-0999",
        categories=["intimate-partner-violence"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        referral = referral_for(world.tenant, program=program, needs=("intimate-partner-violence",))
        appointment = message_queue(
            client=world.client,
            organization=world.tenant.cbo,
            kind=Message.Kind.NEXT_STEP,
            referral=referral,
            context={"when": timezone.make_aware(datetime(2031, 5, 7, 14, 30))},
        )
    sent = Message.objects.get(kind=Message.Kind.REFERRAL_SENT, referral=referral)
    for message in (sent, appointment):
        assert "Safe Harbor" not in message.body and "Shelter" not in message.body
        assert world.tenant.cbo.name not in message.body and "0999" not in message.body
    assert sent.body.startswith("An organization will contact you within 2 business days")
    assert appointment.body.startswith("Your appointment is on ")
    assert {m["Body"] for m in twilio.accepted} == {sent.body, appointment.body}


def test_the_referral_s_own_do_not_contact_is_respected(
    world, twilio, django_capture_on_commit_callbacks
):
    referral = send_referral(world, django_capture_on_commit_callbacks, do_not_contact=True)
    message = Message.objects.get(referral=referral)
    assert message.status == Message.Status.SKIPPED
    assert message.reason == "The referral says not to contact the client."
    assert message.body == "" and twilio.accepted == []


def test_do_not_contact_overrides_everything(
    world, twilio, django_capture_on_commit_callbacks, client
):
    # A message waiting in the queue when the safety flag is set does not go out either.
    waiting = message_queue(
        client=world.client,
        organization=world.tenant.cbo,
        kind=Message.Kind.REMINDER,
        context={"key": "waiting"},
    )
    ContactPreference.objects.filter(pk=world.preference.pk).update(do_not_contact=True)
    assert message_send(message_id=waiting.pk) is False
    waiting.refresh_from_db()
    assert waiting.status == Message.Status.SKIPPED

    referral = send_referral(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        skipped = [
            referral,
            message_queue(
                client=world.client,
                organization=world.tenant.cbo,
                kind=Message.Kind.SUMMARY,
                context={"url": "https://x.test/s/1"},
            ),
        ]
        # Not even the answer to a keyword.
        assert inbound(client, "HELP").status_code == 200
        assert inbound(client, "STOP").status_code == 200
    assert skipped[1] is None
    assert twilio.accepted == []
    reasons = set(Message.objects.values_list("reason", flat=True))
    assert reasons == {"Do not contact (safety): no messages of any kind."}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"channel": "none"}, "The client chose not to get messages."),
        (
            {"channel": "phone"},
            "The client prefers phone calls: nothing is sent automatically.",
        ),
        ({"text_opt_in_at": None, "text_opt_in_method": ""}, "No opt-in to texts is recorded."),
        ({"text_opt_out_at": datetime(2030, 1, 1, tzinfo=UTC)}, None),
        ({"phone": ""}, "No phone number for texts."),
        ({"channel": "email", "email": ""}, "No email address."),
    ],
)
def test_no_channel_or_no_agreement_skips_and_says_why(world, twilio, change, reason):
    ContactPreference.objects.filter(pk=world.preference.pk).update(**change)
    result = message_queue(
        client=world.client, organization=world.tenant.cbo, kind=Message.Kind.REMINDER
    )
    assert result is None
    message = Message.objects.get()
    assert message.status == Message.Status.SKIPPED
    assert message.reason == (reason or "The client opted out of texts (STOP).")
    assert twilio.accepted == []


def test_no_preference_recorded_sends_nothing(world, twilio):
    world.preference.delete()
    assert (
        message_queue(client=world.client, organization=world.tenant.cbo, kind="reminder") is None
    )
    assert Message.objects.get().reason == "No contact preference is recorded for the client."


def test_email_goes_through_django_s_email_backend(world, django_capture_on_commit_callbacks):
    ContactPreference.objects.filter(pk=world.preference.pk).update(
        channel="email", email="client@mail.test"
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = message_queue(
            client=world.client,
            organization=world.tenant.cbo,
            kind=Message.Kind.REMINDER,
            context={"when": timezone.make_aware(datetime(2031, 5, 7, 14, 30))},
        )
    [email] = mail.outbox
    assert email.to == ["client@mail.test"]
    assert email.subject == "A message about your referral"
    assert email.body.startswith(f"Reminder: your appointment with {world.tenant.cbo.name} is on")
    assert "STOP" not in email.body
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.channel == "email"


# --- language -------------------------------------------------------------------------------


def test_spanish_for_a_client_who_reads_spanish(
    world, twilio, django_capture_on_commit_callbacks, spanish
):
    Client.objects.filter(pk=world.client.pk).update(preferred_language="es")
    world.client.refresh_from_db()
    send_referral(world, django_capture_on_commit_callbacks)
    [body] = twilio.bodies_to(CLIENT_PHONE)
    assert body == (
        f"{world.tenant.cbo.name} le llamará en un plazo de 2 días hábiles desde el "
        f"{PROGRAM_PHONE}. Responda STOP para dejar de recibir mensajes."
    )
    assert Message.objects.get().language == "es"


def test_other_languages_fall_back_to_english(world, twilio, spanish):
    Client.objects.filter(pk=world.client.pk).update(preferred_language="vi")
    world.client.refresh_from_db()
    message = message_queue(
        client=world.client, organization=world.tenant.cbo, kind=Message.Kind.REMINDER
    )
    assert message.language == "en"
    assert message.body == "Reminder: you have an appointment coming up." + STOP_FOOTER


# --- the provider refusing ------------------------------------------------------------------


def test_a_refused_number_fails_without_the_number_in_the_reason(world, twilio, caplog):
    twilio.fail_with = (400, 21610)  # Twilio: the recipient unsubscribed
    message = message_queue(
        client=world.client, organization=world.tenant.cbo, kind=Message.Kind.REMINDER
    )
    assert message_send(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert message.reason == "Twilio refused the message (HTTP 400, error 21610)."
    assert CLIENT_PHONE not in caplog.text and message.body not in caplog.text


def test_a_provider_outage_leaves_the_message_for_the_sweep(world, twilio):
    twilio.fail_with = (503, 20500)
    message = message_queue(
        client=world.client, organization=world.tenant.cbo, kind=Message.Kind.REMINDER
    )
    assert message_send(message_id=message.pk) is False
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.QUEUED, 1)

    twilio.fail_with = None
    assert messages_sweep() == 1  # eager: the sweep's task sends it now
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.SENT, 2)
    assert len(twilio.accepted) == 1
    # Sent is sent: another delivery of the same id does nothing.
    assert message_send(message_id=message.pk) is False
    assert messages_sweep() == 0
    assert len(twilio.accepted) == 1


def test_the_network_s_own_response_time_is_promised(
    world, twilio, django_capture_on_commit_callbacks
):
    from referrals.models import ReminderRules

    ReminderRules.objects.create(network=world.tenant.network, ack_business_days=1)
    send_referral(world, django_capture_on_commit_callbacks)
    assert twilio.bodies_to(CLIENT_PHONE) == [
        f"{world.tenant.cbo.name} will call you within 1 business day from {PROGRAM_PHONE}."
        + STOP_FOOTER
    ]
