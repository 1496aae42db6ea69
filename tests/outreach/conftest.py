"""The outreach tests' world: the tenant (the HCO sends, the CBO receives), a client who
agreed to texts, the CBO's program with its phone, and a local fake of Twilio's API that
the real TwilioBackend talks to over HTTP (tests/outreach/fake_twilio.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from directory.models import Program
from outreach.models import ContactPreference
from tests.conftest import Tenant
from tests.factories import ProgramFactory

from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

CLIENT_PHONE = "+15555550100"
PROGRAM_PHONE = "(555) 010-0123"
FRAGMENT = Path(django_settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


@dataclass
class World:
    tenant: Tenant
    program: Program
    preference: ContactPreference

    @property
    def client(self):
        return self.tenant.client


def twilio_settings(fake: FakeTwilio) -> dict[str, str]:
    return {
        "OUTREACH_SMS_BACKEND": "outreach.sms.TwilioBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake.base_url,
    }


@pytest.fixture
def twilio(settings):
    """The fake Twilio, running; this process's settings send texts to it."""
    fake = FakeTwilio().start()
    for name, value in twilio_settings(fake).items():
        setattr(settings, name, value)
    yield fake
    fake.stop()


def texting_preference(client, by, organization, *, phone: str = CLIENT_PHONE, **fields):
    return ContactPreference.objects.create(
        client=client,
        channel=ContactPreference.Channel.TEXT,
        phone=phone,
        text_opt_in_at=timezone.now(),
        text_opt_in_method=ContactPreference.OptInMethod.VERBAL,
        text_opt_in_by=by,
        text_opt_in_organization=organization,
        **fields,
    )


@pytest.fixture
def world(tenant) -> World:
    # The tenant's release runs for decades: the tests travel in time.
    tenant.release.effective_at = timezone.make_aware(datetime(2020, 1, 1))
    tenant.release.expires_at = timezone.make_aware(datetime(2045, 1, 1))
    tenant.release.save(update_fields=["effective_at", "expires_at"])
    program = ProgramFactory(organization=tenant.cbo, name="Weekly Groceries", phone=PROGRAM_PHONE)
    preference = texting_preference(tenant.client, tenant.hco_navigator, tenant.hco)
    return World(tenant=tenant, program=program, preference=preference)


def signed_post(client, params: dict, *, token: str = AUTH_TOKEN, signature: str | None = None):
    """POST `params` to the inbound webhook as Twilio does: form-encoded, signed with the
    auth token over the configured URL and the fields (RequestValidator)."""
    path = reverse("outreach_sms_inbound")
    url = f"{django_settings.SITE_URL}{path}"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


_sids = iter(range(10**6))


def inbound(client, body: str, *, sender: str = CLIENT_PHONE, sid: str | None = None):
    """The client texts `body` to our number."""
    return signed_post(
        client,
        {
            "MessageSid": sid or f"SMin{next(_sids):030d}",
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
        },
    )


@pytest.fixture
def spanish(settings, tmp_path):
    """The outreach fragment compiled into a locale folder ahead of the shared catalogue
    (until the lead merges it): Spanish messages render as the client will read them."""
    folder = tmp_path / "locale" / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    subprocess.run(
        ["msgfmt", "-o", str(folder / "django.mo"), str(FRAGMENT)], check=True, capture_output=True
    )
    settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]
    yield
