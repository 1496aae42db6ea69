"""Background work of the directory: HSDS imports."""

from celery import shared_task

from .models import HsdsImport
from .services import hsds_import_run


@shared_task(ignore_result=True)
def hsds_import_task(import_id: int) -> None:
    """Apply one uploaded HSDS dataset (the id only: the file is on the row). Running it
    twice is harmless: the service claims the row, and a second run finds it claimed."""
    found = HsdsImport.objects.select_related("network", "organization").filter(pk=import_id)
    if found:
        hsds_import_run(hsds_import=found[0])
