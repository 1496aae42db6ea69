"""Background work of the organizations app."""

from celery import shared_task
from django.utils import timezone

from .directory_services import hsds_import_run
from .models import Heartbeat, HsdsImport


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> None:
    """Beat sends this every HEARTBEAT_INTERVAL_SECONDS; the health page shows its age, so
    a stopped worker or beat is visible."""
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


@shared_task(ignore_result=True)
def hsds_import_task(import_id: int) -> None:
    """Apply one uploaded HSDS dataset (the id only: the file is on the row). Running it
    twice is harmless: the service claims the row, and a second run finds it claimed."""
    found = HsdsImport.objects.select_related("network", "organization").filter(pk=import_id)
    if found:
        hsds_import_run(hsds_import=found[0])
