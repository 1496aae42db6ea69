"""Background work of the payments app."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .pathways import pathway_checks_run


@shared_task(ignore_result=True)
def check_pathways() -> dict[str, int]:
    """Beat runs this each night: check every open pathway against its rule on the record
    (no arguments: what is open and what the record says are read from the database, so a
    run that is lost or repeated is made good or harmless by the next)."""
    return pathway_checks_run(timezone.localdate())
