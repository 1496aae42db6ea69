"""The payment statement pages: the list and "generate", one statement and each step of its
workflow from the right side and the wrong one, the CSV and the printable statement, the
audit rows they write, and a client's name shown only as the consent policy allows."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse

from audit.models import AuditEvent
from organizations.roles import Role
from payments.models import PaymentTerm, Statement, StatementLine
from payments.services import statement_approve, statement_dispute, statement_submit
from tests.factories import ClientFactory, ReferralFactory, member, referral_program

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
D = Decimal
JANUARY = date(2032, 1, 1)
# The statement list, whatever its length (see the test at the end for what they are).
QUERIES = 13


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2032, 2, 10, 9, 0, tzinfo=CHICAGO), tick=False):
        yield


def closed(tenant, day: date, *, client=None):
    """A referral to the pantry completed (need met) at noon, Chicago, on `day`."""
    moment = datetime(day.year, day.month, day.day, 12, 0, tzinfo=CHICAGO)
    return ReferralFactory(
        client=client or ClientFactory(created_by_organization=tenant.hco),
        program=referral_program(tenant),
        status="completed",
        outcome="need-met",
        closed_at=moment,
        created_at=moment,
    )


@pytest.fixture
def cbo_admin(tenant):
    return member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@marrowdale.test")


@pytest.fixture
def term(tenant) -> PaymentTerm:
    made = PaymentTerm.objects.create(
        partnership=tenant.partnership,
        name="Pantry fee for service",
        kind=PaymentTerm.Kind.FEE_FOR_SERVICE,
        payer=tenant.hco,
        payee=tenant.cbo,
        effective_from=date(2031, 1, 1),
        unit_amount=D("100.00"),
    )
    made.programs.set([referral_program(tenant)])
    return made


@pytest.fixture
def referrals(tenant, term):
    """January's two completed referrals: the tenant's client (released to the CBO, not to
    the backbone) and another of the HCO's clients."""
    return [
        closed(tenant, date(2032, 1, 5), client=tenant.client),
        closed(tenant, date(2032, 1, 20)),
    ]


@pytest.fixture
def as_cbo(login, cbo_admin):
    return login(cbo_admin)


@pytest.fixture
def as_hco(client, login, tenant):
    return login(tenant.hco_admin, HttpClient())


@pytest.fixture
def statement(as_cbo, term, referrals) -> Statement:
    response = as_cbo.post(
        reverse("payment_statement_generate"), {"term": term.pk, "month": JANUARY.isoformat()}
    )
    assert response.status_code == 302
    return Statement.objects.get(term=term)


def url(name: str, statement: Statement, **kwargs) -> str:
    return reverse(name, kwargs={"statement_id": statement.pk, **kwargs})


def refreshed(statement: Statement) -> Statement:
    statement.refresh_from_db()
    return statement


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the list and generating ------------------------------------------------------------------


def test_the_list_is_empty_at_first_and_offers_the_payee_its_terms(as_cbo, term):
    response = as_cbo.get(reverse("payment_statements"))
    assert response.status_code == 200
    assert b'data-testid="empty"' in response.content
    assert b"No statements yet. Generate one" in response.content
    form = response.context["generate"]
    assert list(form.fields["term"].queryset) == [term]
    assert ("2032-01-01", "January 2032") in form.fields["month"].choices
    assert b'href="/payments/statements/"' in response.content  # the nav link


def test_the_payer_gets_no_generate_form(as_hco, term):
    response = as_hco.get(reverse("payment_statements"))
    assert response.context["generate"] is None
    assert b"Generate a statement" not in response.content


def test_generate_makes_the_draft_and_shows_it(as_cbo, term, referrals):
    response = as_cbo.post(
        reverse("payment_statement_generate"), {"term": term.pk, "month": "2032-01-01"}
    )
    made = Statement.objects.get(term=term)
    assert response["Location"] == url("payment_statement", made)
    assert made.status == Statement.Status.DRAFT
    assert made.total == D("200.00")
    assert made.lines.count() == 2


def test_the_payer_cannot_generate(as_hco, term, referrals):
    response = as_hco.post(
        reverse("payment_statement_generate"),
        {"term": term.pk, "month": "2032-01-01"},
        follow=True,
    )
    assert "Choose one of your terms and a month from the lists." in messages_of(response)
    assert not Statement.objects.exists()


def test_generate_before_the_term_says_so_and_writes_nothing(as_cbo, term):
    term.effective_from = date(2032, 2, 1)
    term.save()
    response = as_cbo.post(
        reverse("payment_statement_generate"),
        {"term": term.pk, "month": "2032-01-01"},
        follow=True,
    )
    assert "The term is not in force in January 2032." in messages_of(response)
    assert not Statement.objects.exists()


def test_the_list_shows_each_side_its_statements_and_filters(
    as_hco, statement, login, client, foreign_tenant, neighbour
):
    response = as_hco.get(reverse("payment_statements"))
    rows = list(response.context["page"].object_list)
    assert rows == [statement]
    content = response.content.decode()
    assert "Pantry fee for service" in content and "USD 200.00" in content
    approved = as_hco.get(reverse("payment_statements"), {"status": "approved"})
    assert list(approved.context["page"].object_list) == []
    assert b"No statement matches these filters." in approved.content
    filtered = as_hco.get(
        reverse("payment_statements"), {"status": "draft", "term": statement.term_id}
    )
    assert list(filtered.context["page"].object_list) == [statement]
    for outsider in (foreign_tenant.hco_admin, neighbour.admin):
        other = login(outsider, HttpClient())
        page = other.get(reverse("payment_statements"))
        assert list(page.context["page"].object_list) == []


def test_staff_may_not_open_the_statements(login, tenant, statement):
    staff = login(tenant.cbo_staff, HttpClient())
    assert staff.get(reverse("payment_statements")).status_code == 403
    assert staff.get(url("payment_statement", statement)).status_code == 403
    home = staff.get("/")
    assert b'href="/payments/statements/"' not in home.content


# --- one statement ---------------------------------------------------------------------------


def test_the_detail_shows_lines_totals_and_shares_and_audits_the_names(as_hco, tenant, statement):
    before = AuditEvent.objects.count()
    response = as_hco.get(url("payment_statement", statement))
    assert response.status_code == 200
    content = response.content.decode()
    assert tenant.client.family_name in content
    first = statement.lines.get(position=1)
    assert f'href="/referrals/{first.referral_id}/"' in content
    assert "2032-01-05" in content
    assert 'data-testid="statement-total">USD 200.00' in content
    assert tenant.hco.name in content
    # The payer of a draft has nothing to do yet.
    assert b"Approve" not in response.content and b"dispute-form" not in response.content
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == AuditEvent.Action.VIEW and event.object_type == "statement_line"
    assert tenant.client.pk in set(event.clients.values_list("client_id", flat=True))


def test_the_backbone_sees_ids_and_dates_but_no_name_without_a_release(login, tenant, statement):
    backbone = login(tenant.backbone_admin, HttpClient())
    before = AuditEvent.objects.count()
    response = backbone.get(url("payment_statement", statement))
    assert response.status_code == 200
    content = response.content.decode()
    assert tenant.client.family_name not in content
    assert tenant.client.given_name not in content
    first = statement.lines.get(position=1)
    assert f"#{first.referral_id}" in content and "2032-01-05" in content
    assert 'data-testid="line-client">—<' in content
    # Nothing of a client shown: no audit row of a read.
    assert AuditEvent.objects.count() == before
    # The backbone only reads: no step offered.
    assert b"What you can do" not in response.content


def test_outsiders_get_404_on_every_face(login, client, statement, foreign_tenant, neighbour):
    for outsider in (foreign_tenant.hco_admin, neighbour.admin):
        other = login(outsider, HttpClient())
        for name in ("payment_statement", "payment_statement_csv", "payment_statement_print"):
            assert other.get(url(name, statement)).status_code == 404
        assert other.post(url("payment_statement_submit", statement)).status_code == 404
    assert refreshed(statement).status == Statement.Status.DRAFT


# --- the workflow ----------------------------------------------------------------------------


def test_the_payee_submits(as_cbo, statement):
    response = as_cbo.post(url("payment_statement_submit", statement), follow=True)
    assert "Submitted to the payer." in messages_of(response)
    assert refreshed(statement).status == Statement.Status.SUBMITTED


def test_the_payer_may_not_submit(as_hco, statement):
    assert as_hco.post(url("payment_statement_submit", statement)).status_code == 403
    assert refreshed(statement).status == Statement.Status.DRAFT


def test_submitting_twice_says_why_and_changes_nothing(as_cbo, statement):
    as_cbo.post(url("payment_statement_submit", statement))
    submitted_at = refreshed(statement).submitted_at
    response = as_cbo.post(url("payment_statement_submit", statement), follow=True)
    assert "A submitted statement cannot be submitted." in messages_of(response)
    assert refreshed(statement).submitted_at == submitted_at


def test_the_payer_disputes_a_line_with_a_comment(as_cbo, as_hco, statement):
    as_cbo.post(url("payment_statement_submit", statement))
    line = statement.lines.get(position=2)
    page = as_hco.get(url("payment_statement", statement))
    assert f'name="comment_{line.pk}"'.encode() in page.content
    response = as_hco.post(
        url("payment_statement_dispute", statement),
        {f"comment_{line.pk}": "Never seen at the pantry.", "comment_x": "ignored"},
        follow=True,
    )
    assert "Disputed: the payee sees your comments on the lines." in messages_of(response)
    assert refreshed(statement).status == Statement.Status.DISPUTED
    line.refresh_from_db()
    assert line.dispute == "Never seen at the pantry."
    payee_view = as_cbo.get(url("payment_statement", statement)).content.decode()
    assert "Payer's comment: Never seen at the pantry." in payee_view


def test_a_dispute_without_a_comment_is_refused(as_cbo, as_hco, statement):
    as_cbo.post(url("payment_statement_submit", statement))
    line = statement.lines.get(position=1)
    response = as_hco.post(
        url("payment_statement_dispute", statement), {f"comment_{line.pk}": "  "}, follow=True
    )
    assert "Say what is wrong with at least one line." in messages_of(response)
    assert refreshed(statement).status == Statement.Status.SUBMITTED


def test_the_payee_may_not_dispute(as_cbo, statement):
    as_cbo.post(url("payment_statement_submit", statement))
    line = statement.lines.first()
    response = as_cbo.post(url("payment_statement_dispute", statement), {f"comment_{line.pk}": "x"})
    assert response.status_code == 403
    assert refreshed(statement).status == Statement.Status.SUBMITTED


def _disputed(statement, tenant) -> StatementLine:
    line = statement.lines.get(position=2)
    statement_submit(statement_id=statement.pk, actor=None, organization=tenant.cbo)
    statement_dispute(
        statement_id=statement.pk,
        comments={line.pk: "Not ours."},
        actor=tenant.hco_admin,
        organization=tenant.hco,
    )
    return line


def test_the_payee_withdraws_a_disputed_line_and_submits_again(as_cbo, tenant, statement):
    line = _disputed(statement, tenant)
    response = as_cbo.post(
        url("payment_statement_line_withdraw", statement, line_id=line.pk),
        {"confirm": "on"},
        follow=True,
    )
    assert "Line 2 withdrawn; the totals are counted again." in messages_of(response)
    line.refresh_from_db()
    assert line.withdrawn
    assert refreshed(statement).total == D("100.00")
    content = response.content.decode()
    assert 'data-withdrawn="true"' in content and "<del>" in content
    as_cbo.post(url("payment_statement_submit", statement))
    assert refreshed(statement).status == Statement.Status.SUBMITTED


def test_withdrawing_needs_the_box_ticked(as_cbo, tenant, statement):
    line = _disputed(statement, tenant)
    response = as_cbo.post(
        url("payment_statement_line_withdraw", statement, line_id=line.pk), follow=True
    )
    assert "Tick the box beside line 2 to withdraw it." in messages_of(response)
    line.refresh_from_db()
    assert not line.withdrawn


def test_withdrawing_a_line_of_another_statement_is_404(as_cbo, tenant, statement, term):
    other = Statement.objects.create(
        term=term, period_start=date(2031, 12, 1), period_end=date(2031, 12, 31)
    )
    foreign_line = StatementLine.objects.create(
        statement=other,
        position=1,
        kind=StatementLine.Kind.REFERRAL,
        date=date(2031, 12, 3),
        description="x",
        quantity=1,
        unit_amount=1,
        amount=1,
    )
    response = as_cbo.post(
        url("payment_statement_line_withdraw", statement, line_id=foreign_line.pk),
        {"confirm": "on"},
    )
    assert response.status_code == 404
    foreign_line.refresh_from_db()
    assert not foreign_line.withdrawn


def test_the_payer_may_not_withdraw(as_hco, tenant, statement):
    line = _disputed(statement, tenant)
    response = as_hco.post(
        url("payment_statement_line_withdraw", statement, line_id=line.pk), {"confirm": "on"}
    )
    assert response.status_code == 403
    line.refresh_from_db()
    assert not line.withdrawn


def test_the_payer_approves_with_the_box_ticked(as_cbo, as_hco, statement):
    as_cbo.post(url("payment_statement_submit", statement))
    unticked = as_hco.post(url("payment_statement_approve", statement), follow=True)
    assert "Tick the box to approve: an approved statement is frozen." in messages_of(unticked)
    assert refreshed(statement).status == Statement.Status.SUBMITTED
    as_hco.post(url("payment_statement_approve", statement), {"confirm": "on"})
    assert refreshed(statement).status == Statement.Status.APPROVED


def test_a_draft_cannot_be_approved(as_hco, statement):
    response = as_hco.post(
        url("payment_statement_approve", statement), {"confirm": "on"}, follow=True
    )
    assert "A draft statement cannot be approved." in messages_of(response)
    assert refreshed(statement).status == Statement.Status.DRAFT


def test_the_payee_may_not_approve(as_cbo, statement):
    as_cbo.post(url("payment_statement_submit", statement))
    response = as_cbo.post(url("payment_statement_approve", statement), {"confirm": "on"})
    assert response.status_code == 403
    assert refreshed(statement).status == Statement.Status.SUBMITTED


def _approved(statement, tenant) -> None:
    statement_submit(statement_id=statement.pk, actor=None, organization=tenant.cbo)
    statement_approve(statement_id=statement.pk, actor=tenant.hco_admin, organization=tenant.hco)


def test_the_payer_records_the_payment(as_hco, tenant, statement):
    _approved(statement, tenant)
    page = as_hco.get(url("payment_statement", statement))
    assert b"Record the payment" in page.content
    missing = as_hco.post(
        url("payment_statement_mark_paid", statement), {"paid_on": "2032-02-09"}, follow=True
    )
    assert any(m.startswith("Payment not recorded:") for m in messages_of(missing))
    assert refreshed(statement).status == Statement.Status.APPROVED
    future = as_hco.post(
        url("payment_statement_mark_paid", statement),
        {"paid_on": "2032-03-01", "reference": "CHK-1"},
        follow=True,
    )
    assert "Payment not recorded: A payment date cannot be in the future." in messages_of(future)
    as_hco.post(
        url("payment_statement_mark_paid", statement),
        {"paid_on": "2032-02-09", "reference": "CHK-1042"},
    )
    statement = refreshed(statement)
    assert (statement.status, statement.paid_on, statement.payment_reference) == (
        Statement.Status.PAID,
        date(2032, 2, 9),
        "CHK-1042",
    )


def test_a_draft_cannot_be_marked_paid(as_hco, statement):
    response = as_hco.post(
        url("payment_statement_mark_paid", statement),
        {"paid_on": "2032-02-09", "reference": "CHK-1"},
        follow=True,
    )
    assert "A draft statement cannot be marked paid." in messages_of(response)
    assert refreshed(statement).status == Statement.Status.DRAFT


def test_the_payee_corrects_an_approved_statement(as_cbo, tenant, statement):
    _approved(statement, tenant)
    closed(tenant, date(2032, 1, 25))  # recorded late
    response = as_cbo.post(url("payment_statement_correct", statement), follow=True)
    correction = Statement.objects.get(adjusts=statement)
    assert response.redirect_chain[-1][0] == url("payment_statement", correction)
    assert correction.total == D("100.00")
    assert b'data-testid="adjusts"' in response.content
    original = as_cbo.get(url("payment_statement", statement)).content.decode()
    assert f'href="/payments/statements/{correction.pk}/"' in original


def test_a_draft_is_not_corrected(as_cbo, statement):
    response = as_cbo.post(url("payment_statement_correct", statement), follow=True)
    assert "Only an approved or paid statement is corrected this way." in messages_of(response)
    assert Statement.objects.count() == 1


def test_the_payee_generates_a_draft_again(as_cbo, tenant, statement):
    closed(tenant, date(2032, 1, 28))
    unticked = as_cbo.post(url("payment_statement_regenerate", statement), follow=True)
    assert "Tick the box to generate the statement again." in messages_of(unticked)
    assert statement.lines.count() == 2
    as_cbo.post(url("payment_statement_regenerate", statement), {"confirm": "on"})
    assert statement.lines.count() == 3
    assert refreshed(statement).total == D("300.00")


def test_a_submitted_statement_is_not_generated_again(as_cbo, statement):
    as_cbo.post(url("payment_statement_submit", statement))
    response = as_cbo.post(
        url("payment_statement_regenerate", statement), {"confirm": "on"}, follow=True
    )
    assert "A submitted statement cannot be generated again." in messages_of(response)
    assert statement.lines.count() == 2


# --- CSV and print ---------------------------------------------------------------------------


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_lists_the_lines_and_is_audited(as_hco, tenant, statement):
    response = as_hco.get(url("payment_statement_csv", statement))
    assert response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    assert rows[0][:6] == ["Line", "Kind", "Date", "Referral", "Pathway", "Client"]
    first = statement.lines.get(position=1)
    assert rows[1][:10] == [
        "1",
        "Completed referral",
        "2032-01-05",
        str(first.referral_id),
        "",
        f"{tenant.client.given_name} {tenant.client.family_name}",
        first.description,
        "1.00",
        "100.00",
        "100.00",
    ]
    event = AuditEvent.objects.order_by("-pk").first()
    assert event.action == AuditEvent.Action.EXPORT
    assert tenant.client.pk in set(event.clients.values_list("client_id", flat=True))


def test_the_backbone_csv_has_no_name(login, tenant, statement):
    rows = _rows(
        login(tenant.backbone_admin, HttpClient()).get(url("payment_statement_csv", statement))
    )
    first = statement.lines.get(position=1)
    assert rows[1][3] == str(first.referral_id) and rows[1][2] == "2032-01-05"
    assert rows[1][5] == ""
    assert tenant.client.family_name not in "".join(",".join(r) for r in rows)


def test_the_print_page_is_one_statement_and_is_audited(as_hco, tenant, statement):
    response = as_hco.get(url("payment_statement_print", statement))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Payment statement #" in content and "data-print" in content
    assert 'data-testid="statement-total">USD 200.00' in content
    assert tenant.client.family_name in content
    event = AuditEvent.objects.order_by("-pk").first()
    assert event.action == AuditEvent.Action.PRINT


def test_the_list_reads_in_a_fixed_number_of_queries(as_hco, term, django_assert_max_num_queries):
    for month in range(1, 13):
        Statement.objects.create(
            term=term, period_start=date(2031, month, 1), period_end=date(2031, month, 28)
        )
    as_hco.get(reverse("payment_statements"))  # the session and membership warmed once
    # Session, user, membership and its organization (and the nav's bell), the count and the
    # page of statements with their terms, parties and partnership in one join, the filter's
    # and the generate form's terms: never one query per statement.
    with django_assert_max_num_queries(QUERIES) as captured:
        response = as_hco.get(reverse("payment_statements"))
    assert len(response.context["page"].object_list) == 12
    assert not [q for q in captured.captured_queries if "payments_statementline" in q["sql"]]
