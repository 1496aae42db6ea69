"""The referral API at its floor cost, without weakening it: a fixed number of queries per
page and per detail whatever the page's length, the key's last use written at most once a
minute, the page's audit rows written in one statement (the same rows as before), the same
JSON as ReferralSerializer, consent decided once per page by the policy's own rule."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils.functional import lazy
from rest_framework.renderers import JSONRenderer

from api.renderers import OrjsonRenderer
from api.serializers.referrals import REFERRAL_ROW_FIELDS, ReferralSerializer
from apikeys.models import ApiKey
from apikeys.services import api_key_mark_used
from audit.models import AuditEvent, AuditEventClient
from audit.services import audit_record, audit_record_one_statement
from consent import policy
from referrals.models import Referral
from tests.factories import (
    ClientFactory,
    ReferralFactory,
    referral_program,
    release_for,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/referrals/"


def _referrals(tenant, count: int) -> list[Referral]:
    """`count` referrals from the HCO to the CBO's pantry, each for a client of its own:
    every third client's release leaves out referral details (redacted for the CBO), every
    fifth carries no release at all; some carry coded concepts and closing details."""
    program = referral_program(tenant)
    made = []
    for n in range(count):
        client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
        if n % 5:
            categories = ("demographics", "social_needs")
            if n % 3:
                categories += ("referrals",)
            release_for(
                client, organization=tenant.hco, recipients=[tenant.cbo], categories=categories
            )
        fields = {"reason": f"Reason {n}", "status_reason": "Waiting" if n % 2 else ""}
        if n % 4 == 0:
            fields["requested_service"] = {
                "system": "http://snomed.info/sct",
                "code": "467771000124109",
                "display": "Pantry",
            }
        if n % 4 == 1:
            fields.update(
                status="completed",
                outcome="need-met",
                outcome_note="Enrolled",
                resulting_activity={"code": "1", "display": "Food box", "performed": "2026-01-05"},
                accepted_at=datetime(2026, 1, 2, 12, 30, tzinfo=UTC),
            )
        needs = ["housing-instability", "food-insecurity"] if n % 2 else ["food-insecurity"]
        made.append(ReferralFactory(client=client, program=program, needs=needs, **fields))
    return made


def _queries(api, url, **params) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url, params)
        assert response.status_code == 200, response.content
    return [q["sql"] for q in ctx.captured_queries]


def _expected(referrals, organization) -> list[dict]:
    """What ReferralSerializer (the instance path, and the API's representation before
    it read rows) says of `referrals`, as JSON."""
    instances = (
        Referral.objects.filter(pk__in=[r.pk for r in referrals])
        .select_related("client")
        .prefetch_related("needs")
        .order_by("-id")
    )
    data = ReferralSerializer(instances, many=True, context={"organization": organization}).data
    return _json(JSONRenderer().render(data))


def _expected_one(referral, organization):
    """ReferralSerializer on one instance: the per-referral consent path."""
    instance = Referral.objects.select_related("client").get(pk=referral.pk)
    data = ReferralSerializer(instance, context={"organization": organization}).data
    return _json(JSONRenderer().render(data))


def _json(content: bytes):
    import json

    # Pairs, not dicts: the keys' order counts too.
    return json.loads(content, object_pairs_hook=list)


# --- the same JSON ------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["cbo", "hco"])
def test_list_and_detail_answer_as_the_serializer_did(tenant, make_key, bearer, side):
    referrals = _referrals(tenant, 12)
    org = getattr(tenant, side)
    api = bearer(make_key(org)[1])
    response = api.get(LIST, {"page_size": 5})
    body = _json(response.content)
    assert [k for k, _ in body] == ["next", "previous", "results"]
    expected = _expected(referrals, org)
    assert body[2][1] == expected[:5]
    # The pagination links are DRF's own: the next page follows on.
    second = api.get(dict(body)["next"])
    assert _json(second.content)[2][1] == expected[5:10]
    # Whole and redacted referrals alike (the CBO sees some with details withheld).
    withheld = [dict(r)["withheld"] for r in expected]
    assert any(withheld) == (side == "cbo")
    for referral, one in zip(sorted(referrals, key=lambda r: -r.pk), expected, strict=True):
        detail = api.get(f"{LIST}{referral.pk}/")
        assert _json(detail.content) == one == _expected_one(referral, org)
    # Byte for byte what DRF's own renderer writes for the same data.
    assert response.content == JSONRenderer().render(response.data)


def test_a_logged_referral_and_a_stranger(tenant, make_key, bearer, foreign_tenant):
    """A referral the receiver logged itself (no sender on the platform): the receiver is
    its author. Another tenant's key sees nothing of it."""
    client = ClientFactory(created_by_organization=tenant.cbo)
    logged = ReferralFactory(
        client=client,
        program=referral_program(tenant),
        sender_organization=None,
        source="phone",
        reason="Walked in",
    )
    api = bearer(make_key(tenant.cbo)[1])
    assert _json(api.get(f"{LIST}{logged.pk}/").content) == _expected_one(logged, tenant.cbo)
    stranger = bearer(make_key(foreign_tenant.cbo)[1])
    assert stranger.get(f"{LIST}{logged.pk}/").status_code == 404
    assert stranger.get(LIST).json()["results"] == []


def test_page_sights_are_the_per_referral_rule(tenant):
    """The policy's page entry point gives each referral the answer `referral_sight` gives
    it alone."""
    referrals = _referrals(tenant, 10)
    rows = Referral.objects.filter(pk__in=[r.pk for r in referrals]).values(*REFERRAL_ROW_FIELDS)
    parties = [
        policy.ReferralParties(
            r["id"],
            r["client_id"],
            r["client__created_by_organization_id"],
            r["sender_organization_id"],
            r["receiver_organization_id"],
        )
        for r in rows
    ]
    for org in (tenant.cbo, tenant.hco, tenant.backbone, None):
        sights = policy.referral_sights_for_parties(org, parties)
        for referral in referrals:
            assert sights[referral.pk] == policy.referral_sight(org, referral), org
    assert policy.referral_sights_for_parties(tenant.cbo, []) == {}


# --- queries per page ---------------------------------------------------------------------

# The request's savepoint; the key (its organization, network, membership and user in one
# join); the page of referrals (with their clients' creators); the page's audit event and
# its client rows (one statement); the page's needs; the consent policy's answers for the
# page (is the organization an active partner; the releases reaching it); the savepoint's
# release. The key's last use is written once a minute (the warm-up request wrote it).
# (Elsewhere than PostgreSQL the audit rows take audit_record's four statements.)
PAGE_QUERIES = 8 if connection.vendor == "postgresql" else 11
ONE_STATEMENT = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="one statement through PostgreSQL's CTEs"
)


def test_list_queries_do_not_grow_with_the_page(tenant, cbo_api):
    _referrals(tenant, 50)
    cbo_api.get(LIST)  # warm up: the key's first use
    five = _queries(cbo_api, LIST, page_size=5)
    fifty = _queries(cbo_api, LIST, page_size=50)
    assert len(five) == len(fifty) == PAGE_QUERIES
    # A filter asked for changes the page's WHERE, not the count.
    assert len(_queries(cbo_api, LIST, page_size=50, status="requested")) == PAGE_QUERIES
    assert not any(q.lstrip().upper().startswith("UPDATE") for q in five + fifty)


def test_detail_queries(tenant, cbo_api):
    (referral,) = _referrals(tenant, 1)
    cbo_api.get(LIST)
    assert len(_queries(cbo_api, f"{LIST}{referral.pk}/")) == PAGE_QUERIES


def test_an_empty_page_asks_no_more(tenant, cbo_api):
    cbo_api.get(LIST)
    # Nothing shown: no audit row, no needs, no consent questions.
    assert len(_queries(cbo_api, LIST)) == 4
    assert not AuditEvent.objects.filter(object_type="referral").exists()


# --- the key's last use -------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _touches(api) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert api.get("/api/v1/organizations/").status_code == 200
    return sum(
        1
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and "last_used_at" in q["sql"]
    )


def test_last_use_is_written_at_most_once_a_minute(tenant, make_key, bearer):
    key, raw = make_key(tenant.hco)
    api = bearer(raw)
    with time_machine.travel(T0, tick=False):
        assert _touches(api) == 1
        assert _touches(api) == 0
    with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
        assert _touches(api) == 0
    key.refresh_from_db()
    assert key.last_used_at == T0
    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        assert _touches(api) == 1
    key.refresh_from_db()
    assert key.last_used_at == T0 + timedelta(seconds=60)
    # A clock that went back is corrected rather than trusted for a minute.
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert _touches(api) == 1
    key.refresh_from_db()
    assert key.last_used_at == T0 + timedelta(seconds=30)


def test_two_requests_at_once_write_once(tenant, make_key):
    """Two workers holding the key as it was (never used): the first writes; the second's
    conditional UPDATE finds the use already recorded and writes nothing."""
    key, _ = make_key(tenant.hco)
    first, second = ApiKey.objects.get(pk=key.pk), ApiKey.objects.get(pk=key.pk)
    assert api_key_mark_used(api_key=first, now=T0)
    assert not api_key_mark_used(api_key=second, now=T0 + timedelta(seconds=1))
    key.refresh_from_db()
    assert key.last_used_at == T0


# --- the page's audit rows ----------------------------------------------------------------


@ONE_STATEMENT
def test_a_page_writes_its_audit_rows_in_one_statement(tenant, make_key, bearer):
    referrals = _referrals(tenant, 7)
    key, raw = make_key(tenant.cbo)
    api = bearer(raw)
    api.get(LIST, {"page_size": 1})
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(LIST, {"page_size": 5}, REMOTE_ADDR="203.0.113.9")
    audit_statements = [q["sql"] for q in ctx.captured_queries if "audit_" in q["sql"]]
    assert len(audit_statements) == 1
    assert "audit_auditeventclient" in audit_statements[0]
    page = sorted(referrals, key=lambda r: -r.pk)[:5]
    event = AuditEvent.objects.order_by("-id").first()
    # The rows audit_read wrote for the page before (tests/api/test_referrals.py): one
    # event for the page naming every referral shown, one client row per client.
    assert (event.action, event.object_type) == ("list", "referral")
    assert event.object_ids == sorted(r.pk for r in page)
    assert event.detail == {"categories": ["referrals"]}
    assert (event.actor_id, event.organization_id) == (key.user_id, tenant.cbo.pk)
    assert event.ip_address == "203.0.113.9"
    assert event.request_id == response["X-Request-ID"]
    clients = AuditEventClient.objects.filter(event=event).values_list("client_id", flat=True)
    assert sorted(clients) == sorted(r.client_id for r in page)
    # The detail: a "view" of the one referral.
    api.get(f"{LIST}{page[0].pk}/")
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.object_ids) == ("view", [page[0].pk])


def test_one_statement_writes_what_audit_record_writes(tenant):
    arguments = {
        "action": "list",
        "object_type": "referral",
        "object_ids": [5, 3, 3],
        "client_ids": [9, None, 7, 9],
        "actor": tenant.cbo_staff,
        "organization": tenant.cbo,
        "detail": {"categories": ["referrals"]},
    }
    before = audit_record(**arguments)
    after = AuditEvent.objects.get(pk=audit_record_one_statement(**arguments))

    def row(event):
        clients = sorted(event.clients.values_list("client_id", flat=True))
        return {**model_to_dict(event, exclude=["id", "occurred_at"]), "clients": clients}

    assert row(after) == row(before)
    assert row(after)["clients"] == [7, 9]
    bare = audit_record_one_statement(action="view", object_type="referral", object_ids=[1])
    assert not AuditEventClient.objects.filter(event_id=bare).exists()
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record_one_statement(action="peek", object_type="referral")
    with pytest.raises(ValueError, match="never free text"):
        audit_record_one_statement(
            action="view", object_type="referral", detail={"note": "Jane Doe"}
        )


# --- the renderer -------------------------------------------------------------------------


def test_the_renderer_writes_what_drfs_writes():
    data = {
        "moment": datetime(2026, 3, 2, 15, 0, 1, 5000, tzinfo=UTC),
        "day": datetime(2026, 3, 2, tzinfo=UTC).date(),
        "amount": Decimal("12.50"),
        "lazy": lazy(lambda: "Réponse", str)(),
        "separators": "a\u2028b\u2029c",
        "text": 'quote " backslash \\ tab \t newline \n ☃',
        "nested": [{"id": 1, "none": None, "yes": True}, (1, 2)],
    }
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)
    # What orjson refuses is DRF's to write (an integer beyond 64 bits).
    huge = {"id": 2**70}
    assert OrjsonRenderer().render(huge) == JSONRenderer().render(huge)
    assert OrjsonRenderer().render(None) == b""
    indented = OrjsonRenderer().render(data, "application/json; indent=2")
    assert indented == JSONRenderer().render(data, "application/json; indent=2")
