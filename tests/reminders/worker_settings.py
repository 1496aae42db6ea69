"""Settings of the real worker processes the reminder tests start: Linkage's, with email
going to files the test counts (tests/reminders/mailsink.py), and the test's clock."""

import os
import time

from config.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.reminders.mailsink.EmailBackend"
MAILSINK_DIR = os.environ["MAILSINK_DIR"]
MAILSINK_GATE = os.environ.get("MAILSINK_GATE", "")

# The test process runs on a time_machine clock (a fixed Monday morning, ticking); the
# worker runs on the same one, set the same distance from real time, so that "now" in a
# task (a notification's creation, a delivery) is the test's "now" and not the real date.
_CLOCK_OFFSET = os.environ.get("TEST_CLOCK_OFFSET_SECONDS")
if _CLOCK_OFFSET:
    import time_machine

    time_machine.travel(time.time() + float(_CLOCK_OFFSET), tick=True).start()

    # Redis keeps every worker's unacknowledged messages in one index per database, stamped
    # with the receiving worker's clock; a worker (re)starting restores those older than the
    # visibility timeout by its own clock. Workers on a clock of their own keep an index of
    # their own (per test queue): they must not restore the messages other tests' workers
    # are running, nor have theirs restored by them.
    if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
        _queue = os.environ["CELERY_TASK_DEFAULT_QUEUE"]
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "unacked_key": f"unacked-{_queue}",
            "unacked_index_key": f"unacked_index-{_queue}",
            "unacked_mutex_key": f"unacked_mutex-{_queue}",
        }
