"""Background work of the clients app. Tasks take ids only: never names or other PHI."""

from __future__ import annotations

import smtplib

from celery import shared_task

from .models import LeadNavigatorAssignment
from .services import lead_navigator_replaced_notify


@shared_task(
    ignore_result=True,
    autoretry_for=(smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def notify_lead_navigator_replaced(*, ended_assignment_id: int, new_assignment_id: int) -> None:
    """Email the previous lead navigator that the client has a new lead."""
    assignments = {
        a.pk: a
        for a in LeadNavigatorAssignment.objects.filter(
            pk__in=[ended_assignment_id, new_assignment_id]
        ).select_related("membership__user", "membership__organization")
    }
    ended, new = assignments.get(ended_assignment_id), assignments.get(new_assignment_id)
    if ended is None or new is None:
        # The client record was deleted in the meantime: nobody left to tell about it.
        return
    lead_navigator_replaced_notify(ended=ended, new=new)
