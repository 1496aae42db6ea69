"""Statements per term type, each total computed by hand in the test (the arithmetic is in
the comments), on a frozen clock: subsidy months crossing a calendar month, a term that
changes mid-month, withhold and bonus at the target and just under it, the escalator at the
anniversary, half-up rounding."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from metrics.models import PeriodKind, Rollup, RollupRun
from payments import statements as calc
from payments.models import PanelMonth, PathwayInstance, PaymentTerm, SubsidyShare, SupportExpense
from referrals.models import Referral
from tests.factories import ClientFactory, ProgramFactory, ReferralFactory, referral_program
from tests.payments.helpers import pathway

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
D = Decimal


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2032, 2, 10, 9, 0, tzinfo=CHICAGO), tick=False):
        yield


def closed(tenant, day: date, *, status="completed", outcome="need-met", program=None, client=None):
    """A referral to the pantry closed at noon (Chicago) on `day`."""
    program = program or referral_program(tenant)
    client = client or ClientFactory(created_by_organization=tenant.hco)
    moment = datetime(day.year, day.month, day.day, 12, 0, tzinfo=CHICAGO)
    return ReferralFactory(
        client=client,
        program=program,
        status=status,
        outcome=outcome if status == "completed" else "",
        closed_at=moment,
        created_at=moment,
    )


def term(tenant, kind=PaymentTerm.Kind.FEE_FOR_SERVICE, **fields) -> PaymentTerm:
    fields.setdefault("effective_from", date(2031, 1, 1))
    fields.setdefault("unit_amount", D("100.00"))
    made = PaymentTerm.objects.create(
        partnership=tenant.partnership,
        name=fields.pop("name", "Pantry fee for service"),
        kind=kind,
        payer=fields.pop("payer", tenant.hco),
        payee=fields.pop("payee", tenant.cbo),
        **fields,
    )
    made.programs.set([referral_program(tenant)])
    return made


def amounts(computed) -> list[Decimal]:
    return [line.amount for line in computed.lines]


def test_fee_for_service_pays_by_outcome(tenant):
    t = term(tenant, amount_need_met=D("120.00"), amount_attempted=D("60.00"))
    closed(tenant, date(2031, 3, 2))
    closed(tenant, date(2031, 3, 31))
    closed(tenant, date(2031, 3, 15), outcome="need-partly-met")
    closed(tenant, date(2031, 3, 16), status="failed")
    closed(tenant, date(2031, 3, 17), status="rejected")  # declined: not paid
    closed(tenant, date(2031, 4, 1))  # next month
    closed(tenant, date(2031, 3, 5), program=ProgramFactory(organization=tenant.cbo))  # not covered
    computed = calc.compute(t, date(2031, 3, 1))
    # 2 x 120 (need met) + 2 x 60 (attempted: partly met, failed) = 360
    assert sorted(amounts(computed)) == [D("60.00"), D("60.00"), D("120.00"), D("120.00")]
    assert computed.subtotal == computed.total == D("360.00")
    assert [(s.label, s.amount) for s in computed.shares] == [(tenant.hco.name, D("360.00"))]
    assert all(line.referral_id and line.client_id for line in computed.lines)


def test_a_term_changed_mid_month_splits_the_month(tenant):
    first = term(tenant, effective_to=date(2031, 3, 15))
    second = term(tenant, name="Renewed", effective_from=date(2031, 3, 16), unit_amount=D("110.00"))
    closed(tenant, date(2031, 3, 15))
    closed(tenant, date(2031, 3, 16))
    a = calc.compute(first, date(2031, 3, 1))
    b = calc.compute(second, date(2031, 3, 1))
    assert (a.start, a.end, a.total) == (date(2031, 3, 1), date(2031, 3, 15), D("100.00"))
    assert (b.start, b.end, b.total) == (date(2031, 3, 16), date(2031, 3, 31), D("110.00"))
    assert calc.compute(first, date(2031, 4, 1)) is None
    assert calc.compute(second, date(2031, 2, 1)) is None


def test_case_rate_escalates_at_the_anniversary_and_stops_at_the_volume(tenant):
    t = term(
        tenant,
        PaymentTerm.Kind.CASE_RATE,
        effective_from=date(2030, 4, 1),
        unit_amount=D("2990.00"),
        contracted_volume=2,
        escalator_percent=D("3"),
    )
    a, b, c = (ClientFactory(created_by_organization=tenant.hco) for _ in range(3))
    closed(tenant, date(2031, 3, 31), client=a)  # year 1 of the term: 2,990.00
    closed(tenant, date(2031, 4, 1), client=a)  # the anniversary: a new term year, counted again
    closed(tenant, date(2031, 4, 2), client=b)
    closed(tenant, date(2031, 4, 3), client=b)  # once a year
    closed(tenant, date(2031, 4, 4), client=c)  # third client: beyond the contracted 2
    march = calc.compute(t, date(2031, 3, 1))
    assert [line.client_id for line in march.lines] == [a.pk]
    assert march.total == D("2990.00")
    april = calc.compute(t, date(2031, 4, 1))
    # 2,990.00 x 1.03 = 3,079.70 for a and b; c beyond the volume: 0. Total 6,159.40.
    assert [(line.client_id, line.amount) for line in april.lines] == [
        (a.pk, D("3079.70")),
        (b.pk, D("3079.70")),
        (c.pk, D("0.00")),
    ]
    assert "beyond the contracted volume" in april.lines[2].description
    assert april.total == D("6159.40")


def test_the_escalator_rounds_half_up(tenant):
    t = term(
        tenant, effective_from=date(2030, 3, 1), unit_amount=D("10.50"), escalator_percent=D("5")
    )
    closed(tenant, date(2031, 3, 1))
    # 10.50 x 1.05 = 11.025: half-up gives 11.03 (banker's rounding would give 11.02).
    assert amounts(calc.compute(t, date(2031, 3, 1))) == [D("11.03")]
    closed(tenant, date(2031, 2, 28))
    assert amounts(calc.compute(t, date(2031, 2, 1))) == [D("10.50")]  # the day before


def test_per_member_per_month_prorates_a_month_the_term_starts_in(tenant):
    t = term(tenant, PaymentTerm.Kind.PMPM, effective_from=date(2031, 3, 11), unit_amount=D("4.50"))
    PanelMonth.objects.create(term=t, month=date(2031, 3, 1), members=1200)
    PanelMonth.objects.create(term=t, month=date(2031, 4, 1), members=1200)
    march = calc.compute(t, date(2031, 3, 1))
    # 21 of 31 days: 1,200 x 21 / 31 = 812.903 -> 812.90 member-months x 4.50 = 3,658.05
    assert [(line.quantity, line.amount) for line in march.lines] == [(D("812.90"), D("3658.05"))]
    assert calc.compute(t, date(2031, 4, 1)).total == D("5400.00")  # 1,200 x 4.50
    assert calc.compute(t, date(2031, 5, 1)).total == D("0.00")  # no panel entered


def _measured(tenant, month: date, value: float) -> None:
    run = RollupRun.objects.create(
        network=tenant.network,
        status=RollupRun.Status.DONE,
        finished_at=datetime(2032, 1, 1, tzinfo=CHICAGO),
    )
    Rollup.objects.create(
        network=tenant.network,
        run=run,
        partnership=tenant.partnership,
        period_kind=PeriodKind.MONTH,
        period_start=month,
        measure="loop_closure_rate",
        value=value,
    )


@pytest.mark.parametrize(
    ("value", "adjustment"),
    [(0.6, D("0.00")), (0.59, D("-12.50"))],  # at the target: paid; one unit under: kept
    ids=["at-target", "one-under"],
)
def test_the_withhold_is_kept_only_under_the_target(tenant, value, adjustment):
    t = term(
        tenant,
        unit_amount=D("312.50"),
        outcome_mode=PaymentTerm.OutcomeMode.WITHHOLD,
        outcome_measure="loop_closure_rate",
        outcome_target=D("0.6"),
        withhold_percent=D("4"),
    )
    closed(tenant, date(2031, 3, 2))
    _measured(tenant, date(2031, 3, 1), value)
    computed = calc.compute(t, date(2031, 3, 1))
    # 4% of 312.50 = 12.50
    assert computed.subtotal == D("312.50")
    assert computed.outcome_adjustment == adjustment
    assert computed.total == D("312.50") + adjustment
    assert ("withheld" in computed.outcome_note) is bool(adjustment)


@pytest.mark.parametrize(("value", "bonus"), [(0.6, D("50.00")), (0.59, D("0.00"))])
def test_the_bonus_is_paid_at_the_target(tenant, value, bonus):
    t = term(
        tenant,
        outcome_mode=PaymentTerm.OutcomeMode.BONUS,
        outcome_measure="loop_closure_rate",
        outcome_target=D("0.6"),
        bonus_amount=D("50.00"),
    )
    closed(tenant, date(2031, 3, 2))
    _measured(tenant, date(2031, 3, 1), value)
    assert calc.compute(t, date(2031, 3, 1)).total == D("100.00") + bonus


def test_an_uncomputed_measure_keeps_the_withhold_and_says_so(tenant):
    t = term(
        tenant,
        outcome_mode=PaymentTerm.OutcomeMode.WITHHOLD,
        outcome_measure="loop_closure_rate",
        outcome_target=D("0.6"),
        withhold_percent=D("4"),
    )
    closed(tenant, date(2031, 3, 2))
    computed = calc.compute(t, date(2031, 3, 1))
    assert computed.outcome_adjustment == D("-4.00")
    assert "not yet computed" in computed.outcome_note


def test_subsidy_months_crossing_a_calendar_month_split_the_shares(tenant):
    t = term(tenant, effective_from=date(2031, 1, 15))
    SubsidyShare.objects.create(
        term=t, funder_name="State innovation fund", month_from=1, month_to=6, percent=D("80")
    )
    SubsidyShare.objects.create(
        term=t, funder_name="State innovation fund", month_from=7, month_to=12, percent=D("60")
    )
    # Term month 6 is Jun 15 - Jul 14; month 7 Jul 15 - Aug 14.
    closed(tenant, date(2031, 7, 14))
    closed(tenant, date(2031, 7, 15))
    computed = calc.compute(t, date(2031, 7, 1))
    assert computed.total == D("200.00")
    # 80% of 100 + 60% of 100 from the funders; the clinic pays the rest: 20 + 40.
    assert [s.amount for s in computed.shares] == [D("80.00"), D("60.00"), D("60.00")]
    assert computed.shares[-1].label == tenant.hco.name
    assert sum(s.amount for s in computed.shares) == computed.total
    # After month 12 (from Jan 15, 2032) the clinic pays all.
    closed(tenant, date(2032, 1, 20))
    later = calc.compute(t, date(2032, 1, 1))
    assert [(s.label, s.amount) for s in later.shares] == [(tenant.hco.name, D("100.00"))]


def test_term_months_follow_the_start_day():
    t = PaymentTerm(effective_from=date(2031, 1, 31))
    assert calc.term_month(t, date(2031, 1, 31)) == 1
    assert calc.term_month(t, date(2031, 2, 27)) == 1
    assert calc.term_month(t, date(2031, 2, 28)) == 2  # Jan 31 + 1 month = Feb 28
    assert calc.term_month(t, date(2032, 1, 30)) == 12
    assert calc.term_month(t, date(2032, 1, 31)) == 13
    assert calc.term_year(t, date(2032, 1, 31)) == 1


def test_support_funds_draw_down_the_yearly_allowance(tenant):
    t = term(tenant, PaymentTerm.Kind.SUPPORT_FUNDS, unit_amount=D("50.00"))
    a, b = (ClientFactory(created_by_organization=tenant.hco) for _ in range(2))
    for client, day, amount in (
        (a, date(2031, 2, 20), "30.00"),
        (a, date(2031, 3, 3), "15.00"),
        (a, date(2031, 3, 20), "30.00"),  # 5.00 left of a's 50.00
        (b, date(2031, 3, 4), "10.00"),
    ):
        SupportExpense.objects.create(
            term=t,
            client=client,
            date=day,
            amount=D(amount),
            purpose="Bus pass",
            recorded_by=tenant.cbo_staff,
        )
    computed = calc.compute(t, date(2031, 3, 1))
    assert amounts(computed) == [D("15.00"), D("10.00"), D("5.00")]
    assert computed.total == D("30.00")
    assert "5.00 left" in computed.lines[2].description


def test_pathway_payments_per_completed_pathway(tenant):
    t = term(tenant, PaymentTerm.Kind.PATHWAY, unit_amount=D("0.00"))
    housing = pathway(tenant, value=D("500.00"))
    PathwayInstance.objects.create(
        pathway=housing,
        client=tenant.client,
        organization=tenant.cbo,
        status=PathwayInstance.Status.COMPLETED,
        completed_on=date(2031, 3, 9),
    )
    PathwayInstance.objects.create(
        pathway=housing,
        client=ClientFactory(created_by_organization=tenant.hco),
        organization=tenant.cbo,
    )  # still open: not paid
    computed = calc.compute(t, date(2031, 3, 1))
    assert amounts(computed) == [D("500.00")]
    assert computed.lines[0].pathway_id is not None


def test_through_the_backbone_each_link_has_its_own_lines(tenant):
    contract = term(
        tenant,
        name="Health system care coordination contract",
        payee=tenant.backbone,
        unit_amount=D("20.00"),
    )
    contract.programs.clear()
    sub = term(tenant, name="Pantry sub-term", payer=tenant.backbone, parent=contract)
    closed(tenant, date(2031, 3, 2))
    closed(tenant, date(2031, 3, 3), status="failed")
    up = calc.compute(contract, date(2031, 3, 1))
    down = calc.compute(sub, date(2031, 3, 1))
    assert up.total == D("40.00") and down.total == D("200.00")
    assert [line.referral_id for line in up.lines] == [line.referral_id for line in down.lines]
    assert down.shares[-1].label == tenant.backbone.name
    assert Referral.objects.count() == 2
