"""The payments REST API for finance systems (`/api/v1/payment-terms/`, `/api/v1/statements/`):
read-only, visible to payer, payee and backbone only, money as two-place decimal strings,
sums that hold, line clients only as `payments.selectors.statement_lines` allows, every
statement read audited, the list at a fixed number of queries, the schema still clean."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from audit.models import AuditEvent, AuditEventClient
from organizations.roles import Role
from payments.models import PaymentTerm, Statement, SubsidyShare
from payments.services import (
    statement_approve,
    statement_correct,
    statement_generate,
    statement_line_withdraw,
    statement_submit,
)
from tests.api.test_schema import _schema, _validate
from tests.factories import ClientFactory, ReferralFactory, referral_program

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
D = Decimal
MONEY = re.compile(r"^-?\d+\.\d{2}$")
TERMS, STATEMENTS = "/api/v1/payment-terms/", "/api/v1/statements/"
MARCH, APRIL, MAY = date(2031, 3, 1), date(2031, 4, 1), date(2031, 5, 1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2032, 2, 10, 9, 0, tzinfo=CHICAGO), tick=False):
        yield


# The two helpers below are tests/payments/test_statements.py's `closed` and `term`, cut down.
def closed(tenant, day: date, *, status="completed", outcome="need-met", client=None):
    """A referral to the CBO's pantry closed at noon (Chicago) on `day`."""
    client = client or ClientFactory(created_by_organization=tenant.hco)
    moment = datetime(day.year, day.month, day.day, 12, 0, tzinfo=CHICAGO)
    return ReferralFactory(
        client=client,
        program=referral_program(tenant),
        status=status,
        outcome=outcome if status == "completed" else "",
        closed_at=moment,
        created_at=moment,
    )


def term(tenant, **fields) -> PaymentTerm:
    fields.setdefault("effective_from", date(2031, 1, 1))
    fields.setdefault("unit_amount", D("100.00"))
    made = PaymentTerm.objects.create(
        partnership=tenant.partnership,
        name=fields.pop("name", "Pantry fee for service"),
        kind=fields.pop("kind", PaymentTerm.Kind.FEE_FOR_SERVICE),
        payer=fields.pop("payer", tenant.hco),
        payee=fields.pop("payee", tenant.cbo),
        **fields,
    )
    made.programs.set([referral_program(tenant)])
    return made


def generate(tenant, t: PaymentTerm, month: date) -> Statement:
    return statement_generate(term=t, month=month, actor=tenant.cbo_staff, organization=tenant.cbo)


@pytest.fixture
def world(tenant):
    """A fee-for-service term (120 need met, 60 attempted, 4% withheld against a measure not
    yet computed, 80% of months 1-6 paid by a state fund) and its March 2031 statement:
    three referrals, one line withdrawn by the CBO."""
    t = term(
        tenant,
        amount_need_met=D("120.00"),
        amount_attempted=D("60.00"),
        outcome_mode=PaymentTerm.OutcomeMode.WITHHOLD,
        outcome_measure="loop_closure_rate",
        outcome_target=D("0.6"),
        withhold_percent=D("4"),
    )
    SubsidyShare.objects.create(
        term=t, funder_name="State innovation fund", month_from=1, month_to=6, percent=D("80")
    )
    SubsidyShare.objects.create(
        term=t,
        funder=tenant.backbone,
        funder_name="Backbone bridge fund",
        month_from=7,
        month_to=12,
        percent=D("60"),
    )
    released = closed(tenant, date(2031, 3, 2), client=tenant.client)  # CBO named in a release
    private = closed(tenant, date(2031, 3, 3))  # the HCO's client, no release
    failed = closed(tenant, date(2031, 3, 4), status="failed")  # attempted: 60.00
    statement = generate(tenant, t, MARCH)
    line = statement.lines.get(referral=failed)
    statement_line_withdraw(line_id=line.pk, actor=tenant.cbo_staff, organization=tenant.cbo)
    statement.refresh_from_db()
    return {
        "term": t,
        "statement": statement,
        "released": released,
        "private": private,
        "failed": failed,
    }


@pytest.fixture
def key_for(make_key, bearer):
    """`key_for(org, role=org_admin)` -> an APIClient with that organization's key."""

    def _api(org, role=Role.ORG_ADMIN):
        return bearer(make_key(org, role=role)[1])

    return _api


# --- payment terms ------------------------------------------------------------------------------


def test_a_payment_term_reads_with_its_rates_outcome_part_and_subsidies(tenant, world, key_for):
    t = world["term"]
    api = key_for(tenant.hco)
    listed = api.get(TERMS)
    assert listed.status_code == 200
    [item] = listed.json()["results"]
    detail = api.get(f"{TERMS}{t.pk}/")
    assert detail.status_code == 200
    assert detail.json() == item
    assert item == {
        "id": t.pk,
        "partnership": tenant.partnership.pk,
        "name": "Pantry fee for service",
        "kind": "fee_for_service",
        "payer_organization": tenant.hco.pk,
        "payee_organization": tenant.cbo.pk,
        "parent": None,
        "programs": [referral_program(tenant).pk],
        "effective_from": "2031-01-01",
        "effective_to": None,
        "currency": "USD",
        "unit_amount": "100.00",
        "amount_need_met": "120.00",
        "amount_attempted": "60.00",
        "contracted_volume": None,
        "escalator_percent": "0.00",
        "outcome": {
            "mode": "withhold",
            "measure": "loop_closure_rate",
            "direction": "at_least",
            "target": "0.6000",
            "withhold_percent": "4.00",
            "bonus_amount": "0.00",
        },
        "subsidies": [
            {
                "funder_organization": None,
                "funder_name": "State innovation fund",
                "month_from": 1,
                "month_to": 6,
                "percent": "80.00",
            },
            {
                "funder_organization": tenant.backbone.pk,
                "funder_name": "Backbone bridge fund",
                "month_from": 7,
                "month_to": 12,
                "percent": "60.00",
            },
        ],
    }


def test_a_sub_term_names_its_parent_and_a_plain_term_has_no_outcome_part(tenant, key_for):
    contract = term(tenant, name="Care coordination contract", payee=tenant.backbone)
    sub = term(
        tenant,
        name="Pantry sub-term",
        payer=tenant.backbone,
        parent=contract,
        kind=PaymentTerm.Kind.CASE_RATE,
        unit_amount=D("2990.5"),
        contracted_volume=350,
        escalator_percent=D("3"),
    )
    body = key_for(tenant.cbo).get(f"{TERMS}{sub.pk}/").json()
    assert body["parent"] == contract.pk
    assert body["outcome"] is None
    assert (body["kind"], body["unit_amount"], body["contracted_volume"]) == (
        "case_rate",
        "2990.50",
        350,
    )
    assert body["escalator_percent"] == "3.00"
    assert body["amount_need_met"] is None
    # The CBO is party to the sub-term only, not to the HCO's contract with the backbone.
    assert [r["id"] for r in key_for(tenant.cbo).get(TERMS).json()["results"]] == [sub.pk]
    assert key_for(tenant.cbo).get(f"{TERMS}{contract.pk}/").status_code == 404


# --- statements: shape and sums -----------------------------------------------------------------

STATEMENT_FIELDS = [
    "id",
    "partnership",
    "term",
    "payer_organization",
    "payee_organization",
    "period_start",
    "period_end",
    "status",
    "currency",
    "adjusts",
    "lines",
    "subtotal",
    "outcome_adjustment",
    "total",
    "shares",
]
LINE_FIELDS = [
    "kind",
    "date",
    "referral",
    "pathway",
    "client",
    "description",
    "quantity",
    "unit_amount",
    "amount",
    "withdrawn",
    "dispute",
]


def _money_strings(body: dict) -> list[str]:
    values = [body["subtotal"], body["outcome_adjustment"], body["total"]]
    values += [s["amount"] for s in body["shares"]]
    for line in body["lines"] or []:
        values += [line["quantity"], line["unit_amount"], line["amount"]]
    return values


def _sums_hold(body: dict) -> None:
    counted = sum((D(line["amount"]) for line in body["lines"] if not line["withdrawn"]), D(0))
    assert D(body["subtotal"]) == counted
    assert D(body["total"]) == D(body["subtotal"]) + D(body["outcome_adjustment"])
    assert sum((D(s["amount"]) for s in body["shares"]), D(0)) == D(body["total"])


def test_a_statement_reads_exactly_with_sums_that_hold(tenant, world, key_for):
    statement = world["statement"]
    body = key_for(tenant.hco).get(f"{STATEMENTS}{statement.pk}/").json()
    assert list(body) == STATEMENT_FIELDS
    assert all(list(line) == LINE_FIELDS for line in body["lines"])
    assert {k: body[k] for k in STATEMENT_FIELDS[:10]} == {
        "id": statement.pk,
        "partnership": tenant.partnership.pk,
        "term": world["term"].pk,
        "payer_organization": tenant.hco.pk,
        "payee_organization": tenant.cbo.pk,
        "period_start": "2031-03-01",
        "period_end": "2031-03-31",
        "status": "draft",
        "currency": "USD",
        "adjusts": None,
    }
    assert all(isinstance(v, str) and MONEY.match(v) for v in _money_strings(body))
    lines = [(x["referral"], x["date"], x["amount"], x["withdrawn"]) for x in body["lines"]]
    assert lines == [
        (world["released"].pk, "2031-03-02", "120.00", False),
        (world["private"].pk, "2031-03-03", "120.00", False),
        (world["failed"].pk, "2031-03-04", "60.00", True),
    ]
    assert all(x["kind"] == "referral" and x["pathway"] is None for x in body["lines"])
    assert body["lines"][0]["quantity"] == "1.00"
    # By hand: 120 + 120 counted (the 60 withdrawn) = 240.00; 4% withheld (the measure is
    # not computed yet) = -9.60; total 230.40. Term month 3: the state fund pays 80% of each
    # counted line (96.00 + 96.00 = 192.00); the clinic the rest, 230.40 - 192.00 = 38.40.
    assert (body["subtotal"], body["outcome_adjustment"], body["total"]) == (
        "240.00",
        "-9.60",
        "230.40",
    )
    assert [(s["organization"], s["label"], s["amount"]) for s in body["shares"]] == [
        (None, "State innovation fund (subsidy: 80% of months 1 to 6)", "192.00"),
        (tenant.hco.pk, tenant.hco.name, "38.40"),
    ]
    _sums_hold(body)


def test_a_correction_adjusts_the_approved_statement(tenant, world, key_for):
    original = world["statement"]
    statement_submit(statement_id=original.pk, actor=tenant.cbo_staff, organization=tenant.cbo)
    statement_approve(statement_id=original.pk, actor=tenant.hco_admin, organization=tenant.hco)
    closed(tenant, date(2031, 3, 20))  # recorded late: the correction pays it
    correction = statement_correct(
        statement_id=original.pk, actor=tenant.cbo_staff, organization=tenant.cbo
    )
    body = key_for(tenant.cbo).get(f"{STATEMENTS}{correction.pk}/").json()
    assert body["adjusts"] == original.pk
    assert body["lines"][-1]["kind"] == "correction"
    assert body["lines"][-1]["referral"] is None and body["lines"][-1]["client"] is None
    assert all(MONEY.match(v) for v in _money_strings(body))
    _sums_hold(body)


def test_the_list_shows_statements_without_lines_and_filters(tenant, world, key_for):
    t = world["term"]
    closed(tenant, date(2031, 4, 2))
    april = generate(tenant, t, APRIL)
    statement_submit(statement_id=april.pk, actor=tenant.cbo_staff, organization=tenant.cbo)
    other = term(tenant, name="Second term")
    other_march = generate(tenant, other, MARCH)
    api = key_for(tenant.hco)

    def ids(**params):
        response = api.get(STATEMENTS, params)
        assert response.status_code == 200, response.json()
        return [s["id"] for s in response.json()["results"]]

    march = world["statement"]
    assert ids() == [other_march.pk, april.pk, march.pk]  # newest first
    listed = api.get(STATEMENTS).json()["results"]
    assert all(list(s) == STATEMENT_FIELDS and s["lines"] is None for s in listed)
    assert [s["total"] for s in listed if s["id"] == march.pk] == ["230.40"]
    assert ids(term=t.pk) == [april.pk, march.pk]
    assert ids(status="submitted") == [april.pk]
    assert ids(status=["draft", "submitted"], term=t.pk) == [april.pk, march.pk]
    assert ids(period_start_from="2031-04-01") == [april.pk]
    assert ids(period_start_to="2031-03-31") == [other_march.pk, march.pk]
    for bad in ({"status": "settled"}, {"term": "x"}, {"period_start_from": "March"}):
        response = api.get(STATEMENTS, bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["fields"], bad


# --- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("party", ["hco", "cbo", "backbone"])
def test_payer_payee_and_backbone_see_the_statement_and_term(tenant, world, key_for, party):
    api = key_for(getattr(tenant, party))
    statement, t = world["statement"], world["term"]
    assert api.get(f"{STATEMENTS}{statement.pk}/").status_code == 200
    assert [s["id"] for s in api.get(STATEMENTS).json()["results"]] == [statement.pk]
    assert api.get(f"{TERMS}{t.pk}/").status_code == 200
    assert [x["id"] for x in api.get(TERMS).json()["results"]] == [t.pk]


def _outsider_sees_nothing(api, world) -> None:
    statement, t = world["statement"], world["term"]
    for url in (f"{STATEMENTS}{statement.pk}/", f"{TERMS}{t.pk}/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["status"] == 404
    assert api.get(STATEMENTS).json()["results"] == []
    assert api.get(TERMS).json()["results"] == []


def test_an_organization_of_the_network_party_to_neither_side_sees_nothing(
    world, neighbour, key_for
):
    _outsider_sees_nothing(key_for(neighbour.organization), world)


@pytest.mark.parametrize("party", ["hco", "cbo", "backbone"])
def test_another_tenant_sees_nothing(tenant, world, foreign_tenant, key_for, party):
    _outsider_sees_nothing(key_for(getattr(foreign_tenant, party)), world)


@pytest.mark.parametrize("role", [Role.NAVIGATOR, Role.STAFF])
def test_money_is_for_organization_admins(tenant, world, key_for, role):
    api = key_for(tenant.hco, role=role)
    for url in (STATEMENTS, f"{STATEMENTS}{world['statement'].pk}/", TERMS):
        assert api.get(url).status_code == 403, url


def test_writes_are_not_offered(tenant, world, key_for):
    api = key_for(tenant.cbo)
    statement = world["statement"]
    assert api.post(STATEMENTS, {}, format="json").status_code == 405
    assert api.post(TERMS, {}, format="json").status_code == 405
    assert api.delete(f"{STATEMENTS}{statement.pk}/").status_code == 405
    statement.refresh_from_db()
    assert statement.status == Statement.Status.DRAFT


# --- consent and audit --------------------------------------------------------------------------


def _clients_read(api, statement) -> list:
    body = api.get(f"{STATEMENTS}{statement.pk}/").json()
    # The referral id and the date are there whatever the client field says.
    assert all(line["referral"] and line["date"] for line in body["lines"])
    return [line["client"] for line in body["lines"]]


def _last_statement_read(org) -> tuple[list[int], list[int]]:
    event = AuditEvent.objects.filter(
        organization=org, object_type="statement", action=AuditEvent.Action.VIEW
    ).latest("id")
    clients = AuditEventClient.objects.filter(event=event).values_list("client_id", flat=True)
    return event.object_ids, sorted(clients)


def test_line_clients_follow_the_consent_policy_and_each_read_is_audited(tenant, world, key_for):
    statement = world["statement"]
    released, private, failed = (world[k].client_id for k in ("released", "private", "failed"))
    # The HCO created every client record: it sees each id.
    assert _clients_read(key_for(tenant.hco), statement) == [released, private, failed]
    assert _last_statement_read(tenant.hco) == ([statement.pk], sorted([released, private, failed]))
    # The CBO only the client whose release names it.
    assert _clients_read(key_for(tenant.cbo), statement) == [released, None, None]
    assert _last_statement_read(tenant.cbo) == ([statement.pk], [released])
    # The backbone is named in no release: no client, the referral ids still there.
    assert _clients_read(key_for(tenant.backbone), statement) == [None, None, None]
    assert _last_statement_read(tenant.backbone) == ([statement.pk], [])


def test_lists_name_no_client(tenant, world, key_for):
    for url in (STATEMENTS, TERMS):
        response = key_for(tenant.hco).get(url)
        assert "client" not in response.content.decode()
    # Nothing about a client was shown, so nothing about one is recorded.
    assert not AuditEventClient.objects.filter(event__organization=tenant.hco).exists()


# --- queries ------------------------------------------------------------------------------------


def test_the_list_reads_in_a_fixed_number_of_queries(
    tenant, world, key_for, django_assert_max_num_queries
):
    api = key_for(tenant.hco)
    # The key's first use writes its last-used time (then at most once a minute): a warm-up
    # request, so the counts below compare like with like.
    api.get(STATEMENTS)
    # The request's savepoint and its release, the key (with its membership), the
    # statements of the page with their terms (one join), their shares (one prefetch):
    # however many statements, the same number.
    with django_assert_max_num_queries(6) as few:
        assert len(api.get(STATEMENTS).json()["results"]) == 1
    for month, day in ((APRIL, date(2031, 4, 2)), (MAY, date(2031, 5, 2))):
        closed(tenant, day)
        generate(tenant, world["term"], month)
    term(tenant, name="Second term")
    with django_assert_max_num_queries(6) as many:
        assert len(api.get(STATEMENTS).json()["results"]) == 3
    assert len(many.captured_queries) == len(few.captured_queries)
    # Terms: the same four, the page of terms, its programs and its subsidies (one prefetch
    # each).
    with django_assert_max_num_queries(7) as terms:
        assert len(api.get(TERMS).json()["results"]) == 2
    term(tenant, name="Third term")
    with django_assert_max_num_queries(len(terms.captured_queries)):
        assert len(api.get(TERMS).json()["results"]) == 3


def test_a_statement_reads_in_a_fixed_number_of_queries(
    tenant, world, key_for, django_assert_max_num_queries
):
    for _ in range(5):
        closed(tenant, date(2031, 3, 10))
    statement = generate(tenant, world["term"], MARCH)  # the draft again: now 8 lines
    # The same four, the statement with its term and its shares, its lines, the clients the
    # caller may see (two queries: the consent policy's partnership check, the clients), and
    # the audit event with its client rows (a savepoint and its release around them).
    api = key_for(tenant.hco)
    with django_assert_max_num_queries(13):
        response = api.get(f"{STATEMENTS}{statement.pk}/")
    assert len(response.json()["lines"]) == 8


# --- the schema ---------------------------------------------------------------------------------


def test_the_schema_generates_without_warnings(tmp_path):
    # Fails on any warning, e.g. an enum name collision from a new serializer.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_the_payment_routes_answer_as_documented(tenant, world, key_for, client):
    document = _schema(client)
    validate_schema(document)
    ids = {"term_id": world["term"].pk, "statement_id": world["statement"].pk}
    paths = [p for p in document["paths"] if p.startswith((TERMS, STATEMENTS))]
    assert sorted(paths) == [
        "/api/v1/payment-terms/",
        "/api/v1/payment-terms/{term_id}/",
        "/api/v1/statements/",
        "/api/v1/statements/{statement_id}/",
    ]
    for caller in ("hco", "cbo", "backbone"):
        api = key_for(getattr(tenant, caller))
        for path in paths:
            assert list(document["paths"][path]) == ["get"], path
            url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
            response = api.get(url)
            assert response.status_code == 200, f"GET {url} as {caller}"
            schema = document["paths"][path]["get"]["responses"]["200"]["content"]
            _validate(document, schema["application/json"]["schema"], response.json(), url)
