"""Building audit rows with a chosen time and request id, as if a request had written them."""

from __future__ import annotations

from datetime import datetime

import time_machine

from audit.models import AuditEvent, AuditEventClient


def make_event(
    *,
    organization,
    actor,
    action: str = AuditEvent.Action.VIEW,
    object_type: str = "client",
    object_ids=(),
    client_ids=(),
    when: datetime | None = None,
    request_id: str = "",
    detail: dict | None = None,
    ip_address: str | None = "192.0.2.10",
) -> AuditEvent:
    def create() -> AuditEvent:
        event = AuditEvent.objects.create(
            organization=organization,
            actor=actor,
            action=action,
            object_type=object_type,
            object_ids=list(object_ids),
            detail=detail or {},
            ip_address=ip_address,
            request_id=request_id,
        )
        AuditEventClient.objects.bulk_create(
            [AuditEventClient(event=event, client_id=c) for c in client_ids]
        )
        return event

    if when is None:
        return create()
    with time_machine.travel(when, tick=False):
        return create()
