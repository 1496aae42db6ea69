"""Settings of the real worker processes the reminder tests start: Linkage's, with email
going to files the test counts (tests/reminders/mailsink.py)."""

import os

from config.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.reminders.mailsink.EmailBackend"
MAILSINK_DIR = os.environ["MAILSINK_DIR"]
MAILSINK_GATE = os.environ.get("MAILSINK_GATE", "")
