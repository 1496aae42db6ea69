"""Writing the audit trail. Services and views call these explicitly (no signals)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

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


def audit_record_one_statement(
    *,
    action: str,
    object_type: str,
    object_ids: Iterable[int] = (),
    client_ids: Iterable[int | None] = (),
    actor=None,
    organization=None,
    request: HttpRequest | None = None,
    detail: dict | None = None,
) -> int:
    """`audit_record` written as one SQL statement: the event and its client index rows
    together, for reads on the hot path (a page of API results). The same rows as
    `audit_record` (same checks, same columns); returns the event's id.

    On PostgreSQL one `INSERT ... RETURNING` feeds the client rows' `INSERT` in a single
    statement (data-modifying CTEs), which is atomic by itself: no savepoint and one round
    trip instead of four. Other databases take `audit_record`'s path."""
    if connection.vendor != "postgresql":
        return audit_record(
            action=action,
            object_type=object_type,
            object_ids=object_ids,
            client_ids=client_ids,
            actor=actor,
            organization=organization,
            request=request,
            detail=detail,
        ).pk
    if action not in AuditEvent.Action.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    if request is not None:
        user = getattr(request, "user", None)
        if actor is None and user is not None and user.is_authenticated:
            actor = user
        if organization is None:
            organization = getattr(request, "organization", None)
    clients = sorted({int(c) for c in client_ids if c is not None})
    params = [
        timezone.now(),
        actor.pk if actor is not None else None,
        organization.pk if organization is not None else None,
        str(action),  # a TextChoices member as its value
        object_type,
        json.dumps(sorted({int(i) for i in object_ids})),
        json.dumps(_check_detail(dict(detail or {}))),
        client_ip(request),
        _request_id(request),
        clients,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ONE_STATEMENT_SQL, params)
        return cursor.fetchone()[0]


_ONE_STATEMENT_SQL = """
WITH event AS (
    INSERT INTO audit_auditevent
        (occurred_at, actor_id, organization_id, action, object_type, object_ids, detail,
         ip_address, request_id)
    VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::inet, %s)
    RETURNING id
), clients AS (
    INSERT INTO audit_auditeventclient (event_id, client_id)
    SELECT event.id, client_id FROM event, unnest(%s::bigint[]) AS client_id
)
SELECT id FROM event
"""


def audit_read_rows(
    request: HttpRequest,
    *,
    object_type: str,
    object_ids: Sequence[int],
    client_ids: Sequence[int | None],
    categories: Iterable[str] = (),
    action: str = AuditEvent.Action.VIEW,
) -> int | None:
    """`audit_read` for a page already read as rows (ids, not instances), written in one
    statement (`audit_record_one_statement`): the same event and client rows. Nothing
    shown, nothing recorded; returns the event's id."""
    if not object_ids:
        return None
    return audit_record_one_statement(
        request=request,
        action=action,
        object_type=object_type,
        object_ids=object_ids,
        client_ids=client_ids,
        detail={"categories": sorted(set(categories))} if categories else None,
    )
