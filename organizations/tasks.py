"""Background work of the organizations app."""

from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> None:
    """Beat sends this every HEARTBEAT_INTERVAL_SECONDS; the health page shows its age, so
    a stopped worker or beat is visible."""
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})
