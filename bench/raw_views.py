"""The floor the REST API is measured against (bench_api): the referral list and detail
written by hand on a raw database cursor.

They run the API's SQL (the key looked up by its prefix, its last use written at most once
a minute, the page of referrals with their clients' creators, the page's needs, the
consent policy's two queries, the audit event and its client rows in one statement) and
answer with the same JSON, but without DRF or model instances: what is left of the API's
time above this is the cost of its framework. Consent is still decided by
`consent.policy` (the one place that decides) and the audit row written by
`audit.services`; everything else is hand-written here and used by nothing but the bench.
"""

from __future__ import annotations

import base64
import json
import zoneinfo

import orjson
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.utils.urls import replace_query_param

from apikeys.services import LAST_USED_RESOLUTION, hash_secret, split_key
from audit.services import audit_record_one_statement
from consent import policy
from organizations.models import Organization, User

RAW_PREFIX = "/bench/raw"
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200

KEY_SQL = """
SELECT k.id, k.salt, k.secret_hash, k.last_used_at, k.organization_id, o.network_id,
       k.user_id
FROM api_apikey k
JOIN organizations_organization o ON o.id = k.organization_id
JOIN organizations_user u ON u.id = k.user_id
WHERE k.prefix = %s AND k.revoked_at IS NULL AND o.is_active AND u.is_active
LIMIT 1
"""
TOUCH_SQL = """
UPDATE api_apikey SET last_used_at = %s
WHERE id = %s AND (last_used_at IS NULL OR last_used_at <= %s OR last_used_at > %s)
"""
COLUMNS = """
SELECT r.id, r.client_id, r.program_id, r.sender_organization_id, r.receiver_organization_id,
       r.source, r.status, r.business_status, r.status_reason, r.decline_reason, r.outcome,
       r.outcome_note, r.resulting_activity, r.urgency, r.do_not_contact, r.reason,
       r.requested_service, r.created_at, r.updated_at, r.sent_at, r.accepted_at,
       r.part_of_id, c.created_by_organization_id
FROM referrals_referral r JOIN clients_client c ON c.id = r.client_id
WHERE (r.sender_organization_id = %s OR r.receiver_organization_id = %s)
"""
LIST_SQL = COLUMNS + " ORDER BY r.id DESC LIMIT %s"
DETAIL_SQL = COLUMNS + " AND r.id = %s"
NEEDS_SQL = (
    "SELECT referral_id, code FROM referrals_referralneed WHERE referral_id = ANY(%s::bigint[])"
)

CONCEPT_KEYS = ("system", "code", "display")
ACTIVITY_KEYS = (*CONCEPT_KEYS, "performed")

UNAUTHORIZED = {
    "error": {
        "status": 401,
        "code": "authentication_failed",
        "message": "Invalid or revoked API key.",
        "fields": {},
    }
}


def referral_list(request):
    caller = _authenticate(request)
    if caller is None:
        return JsonResponse(UNAUTHORIZED, status=401)
    org, user = caller
    try:
        size = min(int(request.GET.get("page_size", PAGE_SIZE)), MAX_PAGE_SIZE)
    except ValueError:
        size = PAGE_SIZE
    with connection.cursor() as cursor:
        cursor.execute(LIST_SQL, [org.pk, org.pk, size + 1])
        rows = cursor.fetchall()
    page, more = rows[:size], len(rows) > size
    results = _represent(request, org, user, page, action="list")
    next_link = None
    if more:
        base = request.build_absolute_uri().replace(RAW_PREFIX, "", 1)
        cursor_token = base64.b64encode(f"p={page[-1][0]}".encode("ascii")).decode("ascii")
        next_link = replace_query_param(base, "cursor", cursor_token)
    return _json({"next": next_link, "previous": None, "results": results})


def referral_detail(request, referral_id: int):
    caller = _authenticate(request)
    if caller is None:
        return JsonResponse(UNAUTHORIZED, status=401)
    org, user = caller
    with connection.cursor() as cursor:
        cursor.execute(DETAIL_SQL, [org.pk, org.pk, referral_id])
        rows = cursor.fetchall()
    if not rows:
        return JsonResponse({"error": {"status": 404}}, status=404)
    return _json(_represent(request, org, user, rows, action="view")[0])


def _authenticate(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, raw = header.partition(" ")
    parts = split_key(raw) if scheme.lower() == "bearer" else None
    if parts is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(KEY_SQL, [parts[0]])
        row = cursor.fetchone()
        if row is None or hash_secret(parts[1], row[1]) != row[2]:
            return None
        key_id, _, _, last_used, org_id, network_id, user_id = row
        now = timezone.now()
        if last_used is None or not last_used <= now < last_used + LAST_USED_RESOLUTION:
            cursor.execute(TOUCH_SQL, [now, key_id, now - LAST_USED_RESOLUTION, now])
    return Organization(pk=org_id, network_id=network_id), User(pk=user_id)


def _represent(request, org, user, rows, *, action: str) -> list[dict]:
    ids = [r[0] for r in rows]
    audit_record_one_statement(
        request=request,
        action=action,
        object_type="referral",
        object_ids=ids,
        client_ids=[r[1] for r in rows],
        actor=user,
        organization=org,
        detail={"categories": ["referrals"]},
    )
    needs: dict[int, list[str]] = {pk: [] for pk in ids}
    with connection.cursor() as cursor:
        cursor.execute(NEEDS_SQL, [ids])
        for referral_id, code in cursor.fetchall():
            needs[referral_id].append(code)
    sights = policy.referral_sights_for_parties(
        org, [policy.ReferralParties(r[0], r[1], r[22], r[3], r[4]) for r in rows]
    )
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    out = []
    for r in rows:
        values = {
            "id": r[0],
            "client": r[1],
            "program": r[2],
            "sender_organization": r[3],
            "receiver_organization": r[4],
            "source": r[5],
            "status": r[6],
            "business_status": r[7],
            "status_reason": r[8],
            "decline_reason": r[9],
            "outcome": r[10],
            "outcome_note": r[11],
            "resulting_activity": _concept(r[12], ACTIVITY_KEYS),
            "urgency": r[13],
            "do_not_contact": r[14],
            "reason": r[15],
            "requested_service": _concept(r[16], CONCEPT_KEYS),
            "needs": sorted(needs[r[0]]),
            "created_at": _moment(r[17], tz),
            "updated_at": _moment(r[18], tz),
            "sent_at": _moment(r[19], tz),
            "accepted_at": _moment(r[20], tz),
            "part_of": r[21],
            "withheld": [],
        }
        shown = policy.redact_referral_fields(sights[r[0]], values)
        shown["withheld"] = sorted(k for k in values if values[k] != shown[k])
        out.append(shown)
    return out


def _concept(stored, keys):
    if stored is None:
        return None
    value = json.loads(stored) if isinstance(stored, str) else stored
    return {k: None if value[k] is None else str(value[k]) for k in keys if k in value}


def _moment(value, tz):
    if value is None:
        return None
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json(data) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), content_type="application/json")
