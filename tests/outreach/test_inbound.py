"""Texts the client sends: the provider's webhook, verified by Twilio's signature, and what
STOP, HELP and START do. Replies go out through the fake Twilio (real HTTP)."""

from __future__ import annotations

import pytest

from outreach.models import ClientReport, ContactPreference, InboundMessage, Message
from outreach.services import message_queue
from tests.factories import ClientFactory

from .conftest import CLIENT_PHONE, inbound, signed_post, texting_preference
from .fake_twilio import ACCOUNT_SID, FROM_NUMBER

pytestmark = pytest.mark.django_db

STOPPED = "Linkage: you will not get any more texts from us. Reply START to get texts again."
STARTED = "Linkage: you will get texts from us again. Reply STOP to stop, HELP for help."
HELPED = (
    "Linkage sends texts about your referrals. Reply STOP to stop all texts, START to get "
    "them again. For help, call the organization that referred you."
)


@pytest.fixture
def texting(world, twilio, django_capture_on_commit_callbacks, client):
    """`texting("STOP")`: the client texts us, and whatever we answer goes out."""

    def send(body: str, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = inbound(client, body, **kwargs)
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "text/xml"
        return response

    return send


def reminder(world) -> Message | None:
    return message_queue(
        client=world.client, organization=world.tenant.cbo, kind=Message.Kind.REMINDER
    )


# --- the signature ---------------------------------------------------------------------------

PARAMS = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": ACCOUNT_SID,
    "From": CLIENT_PHONE,
    "To": FROM_NUMBER,
    "Body": "STOP",
}


@pytest.mark.parametrize(
    "how",
    ["no signature", "wrong token", "tampered body", "other url"],
)
def test_a_request_not_signed_by_the_provider_is_refused(world, twilio, client, how):
    from django.conf import settings
    from twilio.request_validator import RequestValidator

    if how == "no signature":
        response = client.post("/outreach/sms/inbound/", PARAMS)
    elif how == "wrong token":
        response = signed_post(client, PARAMS, token="not-the-token")
    elif how == "tampered body":
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            f"{settings.SITE_URL}/outreach/sms/inbound/", PARAMS
        )
        response = signed_post(client, {**PARAMS, "Body": "START"}, signature=signature)
    else:
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            "https://elsewhere.test/outreach/sms/inbound/", PARAMS
        )
        response = signed_post(client, PARAMS, signature=signature)
    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    world.preference.refresh_from_db()
    assert world.preference.texts_allowed


def test_only_post(world, client):
    assert client.get("/outreach/sms/inbound/").status_code == 405


# --- STOP, HELP, START -------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "StopAll", "UNSUBSCRIBE", "cancel", "End", "QUIT"]
)
def test_stop_ends_all_texts_at_once_and_says_so(world, twilio, texting, word):
    texting(word)
    world.preference.refresh_from_db()
    assert not world.preference.texts_allowed and world.preference.text_opt_out_at is not None
    assert twilio.bodies_to(CLIENT_PHONE) == [STOPPED]
    # From now on nothing is texted.
    assert reminder(world) is None
    assert Message.objects.get(kind="reminder").reason == "The client opted out of texts (STOP)."
    assert twilio.bodies_to(CLIENT_PHONE) == [STOPPED]
    logged = InboundMessage.objects.get()
    assert (logged.client_id, logged.meaning, logged.body) == (world.client.pk, "stop", word)


def test_stop_stops_every_client_who_uses_the_number(world, twilio, texting):
    sibling = ClientFactory(
        created_by_organization=world.tenant.hco, created_by=world.tenant.hco_navigator
    )
    texting_preference(sibling, world.tenant.hco_navigator, world.tenant.hco)
    texting("STOP")
    assert not any(p.texts_allowed for p in ContactPreference.objects.all())
    assert twilio.bodies_to(CLIENT_PHONE) == [STOPPED]  # one confirmation for the number


def test_a_message_queued_before_stop_does_not_go_after_it(world, twilio, texting):
    from outreach.delivery import message_send

    waiting = reminder(world)  # queued, its task not run yet (no commit in this test)
    texting("STOP")
    assert message_send(message_id=waiting.pk) is False
    waiting.refresh_from_db()
    assert waiting.status == Message.Status.SKIPPED
    assert twilio.bodies_to(CLIENT_PHONE) == [STOPPED]


def test_help_answers_and_changes_nothing(world, twilio, texting):
    texting("help")
    texting("INFO")
    assert twilio.bodies_to(CLIENT_PHONE) == [HELPED, HELPED]
    world.preference.refresh_from_db()
    assert world.preference.texts_allowed


def test_start_resumes_texts_recorded_as_an_opt_in_by_keyword(
    world, twilio, texting, django_capture_on_commit_callbacks
):
    texting("STOP")
    texting("UNSTOP")
    world.preference.refresh_from_db()
    assert world.preference.texts_allowed
    assert world.preference.text_opt_in_method == ContactPreference.OptInMethod.KEYWORD
    assert world.preference.text_opt_in_by is None
    with django_capture_on_commit_callbacks(execute=True):
        assert reminder(world) is not None
    assert twilio.bodies_to(CLIENT_PHONE) == [
        STOPPED,
        STARTED,
        "Reminder: you have an appointment coming up. Reply STOP to stop texts.",
    ]


def test_the_same_webhook_twice_acts_once(world, twilio, texting):
    texting("STOP", sid="SM" + "7" * 32)
    texting("STOP", sid="SM" + "7" * 32)
    assert InboundMessage.objects.count() == 1
    assert twilio.bodies_to(CLIENT_PHONE) == [STOPPED]


def test_an_answer_with_no_question_is_logged_not_reported(world, twilio, texting):
    texting("3")
    logged = InboundMessage.objects.get()
    assert logged.meaning == InboundMessage.Meaning.OTHER
    assert not ClientReport.objects.exists()
    assert twilio.accepted == []


def test_a_stranger_s_text_is_logged_and_not_answered(world, twilio, texting):
    texting("HELP", sender="+15555550199")
    logged = InboundMessage.objects.get()
    assert logged.client_id is None and logged.from_number == "+15555550199"
    assert twilio.accepted == []
