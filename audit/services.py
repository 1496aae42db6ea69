"""Writing the audit trail. Services and views call these explicitly (no signals)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

from config.request_id import current_request_id

from .models import AuditEvent, AuditEventClient


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry PROXY_COUNT hops back in
    X-Forwarded-For when the app runs behind that many trusted proxies."""
    if request is None:
        return None
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    object_type: str,
    object_ids: Iterable[int] = (),
    client_ids: Iterable[int] = (),
    actor=None,
    organization=None,
    request: HttpRequest | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one audit event. With `request`, the actor, active organization, address and
    request id come from it (explicit `actor`/`organization` win). `detail` holds
    non-PHI context only: category codes, field names — never values."""
    if request is not None:
        user = getattr(request, "user", None)
        if actor is None and user is not None and user.is_authenticated:
            actor = user
        if organization is None:
            organization = getattr(request, "organization", None)
    event = AuditEvent.objects.create(
        action=action,
        object_type=object_type,
        object_ids=sorted({int(i) for i in object_ids}),
        actor=actor,
        organization=organization,
        ip_address=client_ip(request),
        request_id=current_request_id() if request is not None else "",
        detail=detail or {},
    )
    clients = sorted({int(c) for c in client_ids})
    if clients:
        AuditEventClient.objects.bulk_create(
            [AuditEventClient(event=event, client_id=c) for c in clients]
        )
    return event


def audit_read(
    request: HttpRequest,
    *,
    object_type: str,
    objects: Iterable,
    client_id_attr: str = "client_id",
    categories: Iterable[str] = (),
    action: str = AuditEvent.Action.VIEW,
) -> AuditEvent | None:
    """Record that the objects were shown in this request (one event for a whole list).

    `client_id_attr` names the attribute holding each object's client id ("pk" for clients
    themselves). Nothing shown, nothing recorded.
    """
    objects = list(objects)
    if not objects:
        return None
    return audit_record(
        request=request,
        action=action,
        object_type=object_type,
        object_ids=[o.pk for o in objects],
        client_ids=[getattr(o, client_id_attr) for o in objects],
        detail={"categories": sorted(set(categories))} if categories else None,
    )
