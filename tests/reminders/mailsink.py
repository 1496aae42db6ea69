"""A test email backend: one file per message in settings.MAILSINK_DIR, so a test can count
what real worker processes sent. With settings.MAILSINK_GATE set, sending first leaves a
marker file there and waits until the test opens the gate (or kills the process): a worker
stopped mid-send, on cue, without the test sleeping."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        sink = Path(settings.MAILSINK_DIR)
        gate = getattr(settings, "MAILSINK_GATE", "")
        for message in email_messages:
            if gate:
                _wait_at(Path(gate))
            name = f"{os.getpid()}-{uuid.uuid4().hex}.eml"
            (sink / f".{name}").write_bytes(message.message().as_bytes())
            # Renamed when complete: a reader never counts a half-written message.
            (sink / f".{name}").rename(sink / name)
        return len(email_messages)


def _wait_at(gate: Path) -> None:
    (gate / f"entered-{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while not (gate / "open").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("The mail gate was never opened.")
        time.sleep(0.05)


def sent_messages(sink: Path) -> list[dict[str, str]]:
    """The messages in the sink: their headers (To, Subject, X-Linkage-Notification...)."""
    from email import message_from_bytes

    out = []
    for path in sorted(sink.glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes())
        out.append({k: str(v) for k, v in parsed.items()})
    return out
