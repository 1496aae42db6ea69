"""The demo network's year of payment statements (demo/payments.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from demo.payments import seed_payments
from organizations.models import Network
from payments.models import PaymentTerm, Statement, StatementShare, SubsidyShare
from payments.statements import term_month

pytestmark = pytest.mark.django_db


def test_a_year_of_statements_under_several_terms(demo_network):
    statements = Statement.objects.filter(term__partnership__network__name__startswith="Riverbend")
    assert statements.count() >= 12
    kinds = set(statements.values_list("term__kind", flat=True))
    assert {PaymentTerm.Kind.FEE_FOR_SERVICE, PaymentTerm.Kind.CASE_RATE} <= kinds
    statuses = list(statements.values_list("status", flat=True))
    assert statuses.count(Statement.Status.DISPUTED) == 1
    assert statuses.count(Statement.Status.PAID) >= 12
    # The latest month of each term waits for its payer.
    for term in PaymentTerm.objects.filter(statements__isnull=False).distinct():
        latest = term.statements.order_by("-period_start").first()
        assert latest.status == Statement.Status.SUBMITTED
        assert term.statements.filter(status=Statement.Status.PAID).exists()
    disputed = statements.get(status=Statement.Status.DISPUTED)
    assert disputed.lines.exclude(dispute="").count() == 1
    # Statements are made from the demo's referrals: money was earned under both terms.
    for kind in (PaymentTerm.Kind.FEE_FOR_SERVICE, PaymentTerm.Kind.CASE_RATE):
        assert sum(s.total for s in statements.filter(term__kind=kind)) > 0


def test_totals_add_up_and_shares_cover_them(demo_network):
    statements = Statement.objects.all()
    assert statements.exists()
    for statement in statements:
        counted = statement.lines.filter(withdrawn=False)
        assert statement.subtotal == sum((line.amount for line in counted), Decimal("0.00"))
        assert statement.total == statement.subtotal + statement.outcome_adjustment
        assert statement.total == sum(
            (share.amount for share in statement.shares.all()), Decimal("0.00")
        )


def test_the_subsidized_term_splits_80_then_60(demo_network):
    term = PaymentTerm.objects.filter(subsidies__isnull=False).distinct().get()
    assert list(term.subsidies.values_list("month_from", "month_to", "percent")) == [
        (1, 6, Decimal("80.00")),
        (7, 12, Decimal("60.00")),
    ]
    seen = set()
    for statement in term.statements.all():
        funder = StatementShare.objects.filter(statement=statement, organization=None).first()
        lines = list(statement.lines.filter(withdrawn=False))
        if not lines:
            assert funder is None
            continue
        k = term_month(term, statement.period_start)
        percent = Decimal("80") if k <= 6 else Decimal("60")
        seen.add(percent)
        expected = sum(
            ((line.amount * percent / 100).quantize(Decimal("0.01")) for line in lines),
            Decimal("0.00"),
        )
        assert funder.amount == expected
        assert f"{percent.normalize():f}%" in funder.label
        payer = statement.shares.get(organization=term.payer)
        assert payer.amount == statement.total - expected
    # Both phases of the subsidy have money in them.
    assert seen == {Decimal("80"), Decimal("60")}
    assert SubsidyShare.objects.filter(term=term).count() == 2


def test_seeding_again_creates_nothing(demo_network):
    before = (PaymentTerm.objects.count(), Statement.objects.count(), SubsidyShare.objects.count())
    network = Network.objects.get(name="Riverbend Community Health Network")
    assert seed_payments(network) == 0
    after = (PaymentTerm.objects.count(), Statement.objects.count(), SubsidyShare.objects.count())
    assert after == before


def test_the_business_case_page_reads_the_demo_terms(demo_network, login):
    from django.urls import reverse

    from organizations.models import Partnership, User

    partnership = Partnership.objects.get(name="Eastside Clinic + Food Bank: Food as Medicine")
    from tests.factories import PASSWORD

    admin = User.objects.get(email="clinic.admin@demo.linkage.test")
    admin.set_password(PASSWORD)  # the test sign-in's password, not the demo's
    admin.save()
    response = login(admin).get(reverse("payment_business_case", args=[partnership.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["cost_per_client"].value() == Decimal("2900.00")
    assert form["clients_per_year"].value() == 120
    assert (form["subsidy_1_percent"].value(), form["subsidy_2_percent"].value()) == (
        Decimal("80.00"),
        Decimal("60.00"),
    )
    # The paid statements of the past twelve months are on the record.
    assert response.context["actuals"].paid > 0
