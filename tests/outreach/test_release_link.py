"""Consent by link: when consent announces a link made for the client, outreach delivers
it by the channel staff chose. The link is in the stored body only: never in a task's
arguments or a log."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from consent.models import ConsentLink
from consent.signals import release_link_created
from outreach import tasks
from outreach.models import ContactPreference, Message

from .conftest import CLIENT_PHONE

pytestmark = pytest.mark.django_db

URL = "https://linkage.test/r/one-time-secret-token"


def make_link(world, channel: str) -> ConsentLink:
    now = timezone.now()
    return ConsentLink.objects.create(
        client=world.client,
        organization=world.tenant.hco,
        created_by=world.tenant.hco_navigator,
        created_at=now,
        expires_at=now + timedelta(days=7),
        token_hash="0" * 63 + channel[0],
        channel=channel,
        categories=["demographics"],
        purpose="care_coordination",
    )


def announce(link: ConsentLink, capture) -> None:
    with capture(execute=True):
        release_link_created.send(
            sender=ConsentLink, link_id=link.pk, url=URL, channel=link.channel
        )


def test_a_release_link_is_texted_once_and_never_logged(
    world, twilio, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    handed = []
    original = tasks.send_message.delay
    monkeypatch.setattr(tasks.send_message, "delay", lambda *a: (handed.append(a), original(*a))[1])
    link = make_link(world, "sms")
    announce(link, django_capture_on_commit_callbacks)
    announce(link, django_capture_on_commit_callbacks)  # announced twice: one message

    message = Message.objects.get(kind=Message.Kind.RELEASE_LINK)
    assert message.status == Message.Status.SENT
    assert message.organization_id == world.tenant.hco.pk
    assert message.created_by == world.tenant.hco_navigator
    assert twilio.bodies_to(CLIENT_PHONE) == [
        f"{world.tenant.hco.name} asks you to read and sign a release of information: {URL} "
        "(the link works once and expires). Reply STOP to stop texts."
    ]
    assert handed == [(message.pk,)]
    assert URL not in caplog.text and "secret-token" not in caplog.text


def test_an_emailed_link_uses_the_client_s_address_when_no_preference_has_one(
    world, django_capture_on_commit_callbacks
):
    ContactPreference.objects.all().delete()
    announce(make_link(world, "email"), django_capture_on_commit_callbacks)
    [email] = mail.outbox
    assert email.to == [world.client.email]
    assert URL in email.body


def test_a_texted_link_still_needs_the_opt_in(world, twilio, django_capture_on_commit_callbacks):
    ContactPreference.objects.update(text_opt_in_at=None, text_opt_in_method="")
    announce(make_link(world, "sms"), django_capture_on_commit_callbacks)
    message = Message.objects.get()
    assert message.status == Message.Status.SKIPPED and URL not in message.body
    assert twilio.accepted == []
