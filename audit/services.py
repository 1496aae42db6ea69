"""Writing the audit trail. Services and views call these explicitly (no signals)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from config.request_id import current_request_id

from .models import AuditEvent, AuditEventClient


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry PROXY_COUNT hops back in
    X-Forwarded-For when the app runs behind that many trusted proxies.

    Only the last PROXY_COUNT entries were written by our own proxies; anything before them
    is whatever the client sent. A value that is not an IP address (a misconfigured count
    reaching into client-written entries) falls back to REMOTE_ADDR rather than failing the
    audited request on the database's address column.
    """
    if request is None:
        return None
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            address = _valid_ip(hops[-proxies])
            if address:
                return address
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


# Detail values are codes and field names ("social_needs", "family_name", "in-progress",
# "Z59.0"): no spaces, no "@", short. That refuses the usual carriers of PHI (names, free-text
# reasons, emails, addresses) at the one place every audit row is written.
_CODE = re.compile(r"^[A-Za-z0-9_.:/+-]{1,64}$")


def _check_detail(detail: dict) -> dict:
    def ok(value) -> bool:
        if value is None or isinstance(value, bool | int):
            return True
        if isinstance(value, str):
            return bool(_CODE.match(value))
        return False

    for key, value in detail.items():
        if not (isinstance(key, str) and _CODE.match(key)):
            raise ValueError("Audit detail keys are short codes.")
        values = value if isinstance(value, list | tuple) else [value]
        if not all(ok(v) for v in values):
            # The message names the key, never the offending value.
            raise ValueError(
                f"Audit detail {key!r} must hold codes or field names only, never free text."
            )
    return detail


def _request_id(request: HttpRequest | None) -> str:
    """The id RequestIdMiddleware gave this request (and put in the X-Request-ID header)."""
    if request is None:
        return ""
    found = getattr(request, "request_id", None) or current_request_id()
    # "-" is the log filter's placeholder outside a request, not an id.
    return "" if found == "-" else found


@transaction.atomic
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
    non-PHI context only: category codes, field names — never values (a value with spaces
    or "@" raises ValueError)."""
    if action not in AuditEvent.Action.values:
        raise ValueError(f"Unknown audit action {action!r}.")
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
        request_id=_request_id(request),
        detail=_check_detail(dict(detail or {})),
    )
    # An object not tied to any client adds no index row.
    clients = sorted({int(c) for c in client_ids if c is not None})
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
