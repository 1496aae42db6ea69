"""The business case: the projection computed by hand (the arithmetic is in the comments),
and the page (defaults from a case-rate term, bad input, who may see it, small counts)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from payments.business_case import (
    Inputs,
    Subsidy,
    break_even_volume,
    project,
    roi_ratio,
)
from payments.models import PaymentTerm, Statement, SubsidyShare
from tests.factories import ClientFactory, ReferralFactory, referral_program

CHICAGO = ZoneInfo("America/Chicago")
D = Decimal


# --- the computation ----------------------------------------------------------------------


def test_the_issue_example_by_hand():
    # 350 clients at $2,900 = $1,015,000.00 a year; three years = $3,045,000.00.
    # Savings: 350 x $10,000 x 3 = $10,500,000.00; ROI 10,500,000 / 3,045,000 = 3.448.. → 3.45.
    # Year 1: 6 months at 80% and 6 at 60%: (480 + 360) / 1200 = 0.7 of $1,015,000.00
    # = $710,500.00 subsidized, the HCO pays $304,500.00; years 2 and 3 the HCO pays all.
    result = project(
        Inputs(
            cost_per_client=D("2900.00"),
            clients_per_year=350,
            savings_per_client=D("10000.00"),
            years=3,
            subsidies=(Subsidy(D("80"), 6), Subsidy(D("60"), 6)),
        )
    )
    assert result.total_cost == D("3045000.00")
    assert result.total_savings == D("10500000.00")
    assert result.net == D("7455000.00")
    assert result.roi == D("3.45")
    assert [(y.cost, y.subsidy, y.hco) for y in result.years] == [
        (D("1015000.00"), D("710500.00"), D("304500.00")),
        (D("1015000.00"), D("0.00"), D("1015000.00")),
        (D("1015000.00"), D("0.00"), D("1015000.00")),
    ]
    assert result.years[0].hco_percent == D("30.0")
    assert result.subsidy_months == 12
    assert result.hco_after_subsidy == D("1015000.00")
    # No fixed cost: any volume breaks even (0 / 7,100 = 0).
    assert result.break_even == 0


def test_escalator_fixed_cost_and_a_subsidy_ending_mid_year():
    # Year 1: $50,000 + 7 x $2,899.99 ($20,299.93) = $70,299.93.
    # Year 2: the rate grows 3%: 2,899.99 x 1.03 = 2,986.9897 → $2,986.99;
    #   $50,000 + 7 x $2,986.99 ($20,908.93) = $70,908.93.
    # Subsidy 80% for 6 months: year 1 pays 480 / 1200 = 0.4 of $70,299.93 = 28,119.972
    #   → $28,119.97; the HCO $42,179.96. It ends in year 1, so year 2 is the HCO's in full.
    # Break-even: $50,000 / ($9,000 - $2,899.99 = $6,100.01) = 8.19.. → 9 clients.
    result = project(
        Inputs(
            cost_per_client=D("2899.99"),
            clients_per_year=7,
            savings_per_client=D("9000.00"),
            years=2,
            fixed_cost=D("50000.00"),
            escalator_percent=D("3.00"),
            subsidies=(Subsidy(D("80"), 6),),
        )
    )
    assert [y.cost for y in result.years] == [D("70299.93"), D("70908.93")]
    assert result.years[0].subsidy == D("28119.97")
    assert result.years[0].hco == D("42179.96")
    assert result.years[1].hco == D("70908.93")
    assert result.total_cost == D("141208.86")
    # 7 x 9,000 x 2 = 126,000.00; 126,000 / 141,208.86 = 0.8922.. → 0.89.
    assert result.total_savings == D("126000.00")
    assert result.roi == D("0.89")
    assert result.break_even == 9
    assert result.hco_after_subsidy == D("70908.93")


def test_a_subsidy_running_into_year_two_and_rounding_half_up():
    # 80% for 6 months then 60% for 12: year 1 (480 + 360) / 1200 = 0.7, year 2 6 x 60 /
    # 1200 = 0.3; the subsidy's last month is 18, so year 3 is the first without it.
    result = project(
        Inputs(
            cost_per_client=D("1000.00"),
            clients_per_year=10,
            savings_per_client=D("0"),
            years=3,
            subsidies=(Subsidy(D("80"), 6), Subsidy(D("60"), 12)),
        )
    )
    assert [y.subsidy for y in result.years] == [D("7000.00"), D("3000.00"), D("0.00")]
    assert result.subsidy_months == 18
    assert result.hco_after_subsidy == D("10000.00")
    assert result.roi == D("0.00")
    assert result.break_even is None  # saves nothing: no volume breaks even
    # $100.01 at 50% all year: 50.005 → $50.01 half-up (not banker's $50.00).
    half = project(
        Inputs(
            cost_per_client=D("100.01"),
            clients_per_year=1,
            savings_per_client=D("0"),
            years=1,
            subsidies=(Subsidy(D("50"), 12),),
        )
    )
    assert (half.years[0].subsidy, half.years[0].hco) == (D("50.01"), D("50.00"))
    # No subsidy: no "after".
    plain = project(Inputs(D("10"), 1, D("20"), 1))
    assert plain.hco_after_subsidy is None and plain.subsidy_months == 0


def test_break_even_and_roi_edges():
    # $71,000 / ($10,000 - $2,900) = 10 exactly; a cent more needs an 11th client.
    assert break_even_volume(D("71000.00"), D("2900.00"), D("10000.00")) == 10
    assert break_even_volume(D("71000.01"), D("2900.00"), D("10000.00")) == 11
    assert break_even_volume(D("1"), D("10000.00"), D("10000.00")) is None
    assert roi_ratio(D("1.00"), D("0.00")) is None
    # 2 / 3 = 0.666.. → 0.67; 1 / 8 = 0.125 → 0.13 half-up.
    assert roi_ratio(D("2.00"), D("3.00")) == D("0.67")
    assert roi_ratio(D("1.00"), D("8.00")) == D("0.13")


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def frozen():
    with time_machine.travel(datetime(2032, 2, 10, 9, 0, tzinfo=CHICAGO), tick=False):
        yield


def _url(tenant) -> str:
    return reverse("payment_business_case", args=[tenant.partnership.pk])


def _case_rate(tenant) -> PaymentTerm:
    term = PaymentTerm.objects.create(
        partnership=tenant.partnership,
        name="Care coordination case rate",
        kind=PaymentTerm.Kind.CASE_RATE,
        payer=tenant.hco,
        payee=tenant.cbo,
        effective_from=date(2031, 7, 1),
        unit_amount=D("2875.50"),
        contracted_volume=300,
    )
    SubsidyShare.objects.create(
        term=term, funder_name="State fund", month_from=1, month_to=6, percent=D("80")
    )
    SubsidyShare.objects.create(
        term=term, funder_name="State fund", month_from=7, month_to=12, percent=D("60")
    )
    return term


def _served(tenant, count: int) -> None:
    """`count` clients each with a referral completed last month."""
    program = referral_program(tenant)
    for i in range(count):
        moment = datetime(2032, 1, 5 + i, 12, 0, tzinfo=CHICAGO)
        ReferralFactory(
            client=ClientFactory(created_by_organization=tenant.hco),
            program=program,
            status="completed",
            outcome="need-met",
            closed_at=moment,
            created_at=moment,
        )


@pytest.mark.django_db
def test_defaults_come_from_the_case_rate_term(tenant, login, frozen):
    _case_rate(tenant)
    response = login(tenant.hco_admin).get(_url(tenant))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["cost_per_client"].value() == D("2875.50")
    assert form["clients_per_year"].value() == 300
    assert (form["subsidy_1_percent"].value(), form["subsidy_1_months"].value()) == (D("80"), 6)
    assert (form["subsidy_2_percent"].value(), form["subsidy_2_months"].value()) == (D("60"), 6)
    projection = response.context["projection"]
    # 300 x $2,875.50 = $862,650.00 a year, three years = $2,587,950.00; year 1 the HCO
    # pays 0.3 of it: $258,795.00.
    assert projection.total_cost == D("2587950.00")
    assert projection.years[0].hco == D("258795.00")
    body = response.content.decode()
    assert "$2,587,950.00" in body
    assert "$258,795.00" in body
    assert "fixed cost ÷ (savings per client \u2212 cost per client)" in body
    assert "Care coordination case rate" in body


@pytest.mark.django_db
def test_inputs_from_the_query_string(tenant, login, frozen):
    query = {
        "cost_per_client": "1000",
        "clients_per_year": "10",
        "savings_per_client": "5000",
        "fixed_cost": "8000",
        "escalator_percent": "0",
        "subsidy_1_percent": "50",
        "subsidy_1_months": "12",
        "subsidy_2_percent": "0",
        "subsidy_2_months": "0",
        "years": "2",
    }
    response = login(tenant.backbone_admin).get(_url(tenant), query)
    assert response.status_code == 200
    projection = response.context["projection"]
    # $8,000 + 10 x $1,000 = $18,000 a year; 2 years $36,000; savings 10 x 5,000 x 2 =
    # $100,000; ROI 2.78; break-even 8,000 / 4,000 = 2 clients.
    assert projection.total_cost == D("36000.00")
    assert projection.roi == D("2.78")
    assert projection.break_even == 2
    assert "2 clients a year" in response.content.decode()


@pytest.mark.django_db
def test_bad_input_is_a_message_not_a_500(tenant, login, frozen):
    response = login(tenant.hco_admin).get(
        _url(tenant), {"cost_per_client": "lots", "clients_per_year": "-3", "years": "2"}
    )
    assert response.status_code == 400
    assert response.context["projection"] is None
    body = response.content.decode()
    assert "Some inputs are not numbers in range" in body
    assert 'aria-invalid="true"' in body


@pytest.mark.django_db
def test_outsiders_get_404_and_staff_403(tenant, foreign_tenant, neighbour, login, client):
    assert login(neighbour.admin).get(_url(tenant)).status_code == 404
    client.logout()
    assert login(foreign_tenant.hco_admin).get(_url(tenant)).status_code == 404
    client.logout()
    assert login(tenant.hco_staff).get(_url(tenant)).status_code == 403
    client.logout()
    assert login(tenant.backbone_admin).get(_url(tenant)).status_code == 200


@pytest.mark.django_db
def test_small_actuals_are_suppressed(tenant, login, frozen, settings):
    settings.METRICS_SUPPRESSION_THRESHOLD = 11
    term = _case_rate(tenant)
    _served(tenant, 3)
    Statement.objects.create(
        term=term,
        period_start=date(2032, 1, 1),
        period_end=date(2032, 1, 31),
        status=Statement.Status.PAID,
        subtotal=D("900.00"),
        total=D("900.00"),
    )
    response = login(tenant.hco_admin).get(_url(tenant))
    body = response.content.decode()
    actuals = response.context["actuals"]
    assert (actuals.clients_served, actuals.completed_referrals) == (3, 3)
    assert actuals.clients_text == actuals.referrals_text == "fewer than 11"
    assert "fewer than 11" in body
    assert actuals.cost_per_client is None  # it would give the count away
    assert "$900.00" in body


@pytest.mark.django_db
def test_actuals_over_the_threshold_and_cost_per_client(tenant, login, frozen, settings):
    settings.METRICS_SUPPRESSION_THRESHOLD = 2
    term = _case_rate(tenant)
    _served(tenant, 3)
    # Outside the twelve months (February 2032 is the current month): not counted.
    ReferralFactory(
        client=ClientFactory(created_by_organization=tenant.hco),
        program=referral_program(tenant),
        status="completed",
        outcome="need-met",
        closed_at=datetime(2032, 2, 3, 12, 0, tzinfo=CHICAGO),
    )
    for start, end, status in (
        (date(2032, 1, 1), date(2032, 1, 31), Statement.Status.PAID),
        (date(2031, 12, 1), date(2031, 12, 31), Statement.Status.SUBMITTED),
    ):
        Statement.objects.create(
            term=term,
            period_start=start,
            period_end=end,
            status=status,
            subtotal=D("1000.00"),
            total=D("1000.00"),
        )
    response = login(tenant.hco_admin).get(_url(tenant))
    actuals = response.context["actuals"]
    assert actuals.clients_text == "3"
    # Only the paid statement counts: $1,000.00 / 3 = 333.333.. → $333.33.
    assert actuals.paid == D("1000.00")
    assert actuals.cost_per_client == D("333.33")
    assert 'data-testid="actual-cost-per-client">$333.33<' in response.content.decode()
