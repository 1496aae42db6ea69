"""The Celery app. Settings come from Django's settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("linkage")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Task counts for /metrics (Celery signals), and prometheus_client's multiprocess mode chosen
# before any metric exists: every process imports this module first.
from config import prometheus  # noqa: E402, F401
