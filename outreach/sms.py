"""Sending texts: one small interface, a backend per provider (settings.OUTREACH_SMS_BACKEND).

- `ConsoleBackend` (the default) writes each text to standard output and `FileBackend` to a
  file per text under var/outbox/ — both for development, like Django's console and file
  email backends. Neither writes to the logging system: a text's body and number are client
  data and logs are not a place for them.
- `TwilioBackend` sends through Twilio's Programmable Messaging API with the official Python
  library. Another provider is one class with a `send` method.

A backend raises `SMSError` when the provider refused or could not be reached; `transient`
says whether trying again later may succeed. Its message never holds the number or the
body (the provider's own error text may quote the number, so only its code is kept).
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SentText:
    """What the provider answered: its id for the message."""

    provider_id: str


class SMSError(Exception):
    def __init__(self, reason: str, *, transient: bool):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class BaseBackend:
    """Send one text. Subclasses implement `send`."""

    def send(self, *, to: str, body: str, reference: str) -> SentText:
        """Send `body` to `to` (E.164). `reference` is Linkage's id for the message (for
        the provider's logs, never client data)."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Print the text to standard output (development; `make run` shows it)."""

    stream = None

    def send(self, *, to: str, body: str, reference: str) -> SentText:
        stream = self.stream or sys.stdout
        provider_id = f"console-{uuid.uuid4().hex}"
        stream.write(f"-- text {reference} to {to} ({provider_id})\n{body}\n--\n")
        stream.flush()
        return SentText(provider_id)


class FileBackend(BaseBackend):
    """Write each text to a file of its own (settings.OUTREACH_SMS_FILE_PATH, default
    var/outbox/)."""

    def send(self, *, to: str, body: str, reference: str) -> SentText:
        folder = Path(
            getattr(settings, "OUTREACH_SMS_FILE_PATH", "") or settings.BASE_DIR / "var" / "outbox"
        )
        folder.mkdir(parents=True, exist_ok=True)
        provider_id = f"file-{uuid.uuid4().hex}"
        tmp = folder / f".{provider_id}.txt"
        tmp.write_text(f"To: {to}\nReference: {reference}\n\n{body}\n", encoding="utf-8")
        # Renamed when complete: a reader never sees half a text.
        tmp.rename(folder / f"{provider_id}.txt")
        return SentText(provider_id)


class TwilioBackend(BaseBackend):
    """Twilio's Messages API (twilio-python). TWILIO_API_BASE_URL, when set, replaces
    https://api.twilio.com (the tests' local fake of the API)."""

    # Twilio answers 429 when rate-limited and 5xx when it has trouble: worth another try.
    # Other 4xx (an invalid or unsubscribed number, bad credentials) will not get better.
    TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})

    def __init__(self):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=15),
        )
        if settings.TWILIO_API_BASE_URL:
            # The API domain builds every URL from its base_url (twilio.base.domain.Domain).
            self.client.api.base_url = settings.TWILIO_API_BASE_URL.rstrip("/")

    def send(self, *, to: str, body: str, reference: str) -> SentText:
        from requests.exceptions import RequestException
        from twilio.base.exceptions import TwilioRestException

        try:
            message = self.client.messages.create(
                to=to, from_=settings.TWILIO_FROM_NUMBER, body=body
            )
        except TwilioRestException as error:
            # error.msg may quote the number: keep the codes only.
            raise SMSError(
                f"Twilio refused the message (HTTP {error.status}, error {error.code}).",
                transient=error.status in self.TRANSIENT_STATUSES,
            ) from None
        except RequestException as error:
            raise SMSError(
                f"Twilio could not be reached ({type(error).__name__}).", transient=True
            ) from None
        return SentText(message.sid)


def get_backend() -> BaseBackend:
    return import_string(settings.OUTREACH_SMS_BACKEND)()
