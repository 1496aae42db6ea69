"""Screening measures and the national ones (CMS SDOH-1, SDOH-2) on a known history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from metrics.models import Rollup
from referrals.models import ReferralEvent
from tests.factories import AHC_NEGATIVE, assessment_for
from tests.metrics.helpers import clients, referrals, rollup

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]

FOOD_POSITIVE = {**AHC_NEGATIVE, "123821": ("LA28397-0",), "123822": ("LA28397-0",)}
SAFETY_DECLINED = {
    **AHC_NEGATIVE,
    **dict.fromkeys(("123825", "123826", "123827", "123828"), "declined"),
}


def _value(network, measure, breakdown="", cell=""):
    row = Rollup.objects.get(
        network=network,
        partnership=None,
        organization=None,
        period_kind="month",
        period_start=date(2026, 3, 1),
        measure=measure,
        breakdown=breakdown,
        breakdown_value=cell,
    )
    return row.numerator, row.denominator


def test_screenings_and_sdoh_1_and_2(tenant):
    negative, positive, partial, referred_only = clients(tenant, 4, date_of_birth=date(1980, 1, 1))
    (child,) = clients(tenant, 1, date_of_birth=date(2015, 1, 1))
    with time_machine.travel(datetime(2026, 3, 15, 15, tzinfo=UTC)):
        assessment_for(negative, organization=tenant.hco, actor=tenant.hco_navigator)
        assessment_for(
            positive, organization=tenant.hco, actor=tenant.hco_navigator, answers=FOOD_POSITIVE
        )
        assessment_for(
            partial, organization=tenant.hco, actor=tenant.hco_navigator, answers=SAFETY_DECLINED
        )
        assessment_for(child, organization=tenant.hco, actor=tenant.hco_navigator)
    referrals(tenant, [referred_only], sent=datetime(2026, 3, 20, 15, tzinfo=UTC))
    # The food-positive client is referred for food 10 days later and the CBO reaches them.
    (food,) = referrals(
        tenant, [positive], status="accepted", sent=datetime(2026, 3, 25, 15, tzinfo=UTC)
    )
    food.needs.create(code="food-insecurity")
    food.events.create(
        kind=ReferralEvent.Kind.CONTACT,
        organization=tenant.cbo,
        occurred_at=datetime(2026, 4, 20, 15, tzinfo=UTC),
        contact_type="phone",
    )
    rollup(tenant)
    net = tenant.network
    assert _value(net, "screenings_done") == (4, None)
    assert _value(net, "clients_screened") == (4, None)
    assert _value(net, "screening_positive_share") == (1, 4)
    assert _value(net, "needs_identified", "sdoh_category", "food-insecurity") == (1, None)
    # SDOH-1: adults screened on all five domains / adults seen (screened or referred).
    assert _value(net, "sdoh_1") == (2, 4)
    # MIPS #498: the one adult positive was reached by a CBO within 60 days.
    assert _value(net, "mips_498") == (1, 1)
    # HEDIS SNS-E: 5 clients seen, 4 screened for food (the partial one answered food).
    assert _value(net, "sns_e_food_screening") == (4, 5)
    assert _value(net, "sns_e_food_intervention") == (1, 1)
    # Nobody screened positive for housing: a rate over nobody is not stored (reads as none).
    assert not Rollup.objects.filter(measure="sns_e_housing_intervention").exists()
    assert _value(net, "sns_e_food_screening", "age_band", "0-17") == (1, 1)
    # SDOH-2: of the adults screened on all five, those positive on one or more.
    assert _value(net, "sdoh_2") == (1, 2)
    # ... and per domain, as CMS reports it: food positive 1 of 2, the others 0 of 2.
    assert _value(net, "sdoh_2_food") == (1, 2)
    for domain in ("living_situation", "transportation", "utilities", "safety"):
        row = Rollup.objects.get(
            partnership=None,
            organization=None,
            period_kind="month",
            measure=f"sdoh_2_{domain}",
            breakdown="",
        )
        assert (row.numerator, row.denominator, row.value) == (0, 2, 0.0), domain
    # The screening organization's own rollup and its partnership's carry the same counts.
    org_row = Rollup.objects.get(
        organization=tenant.hco, period_kind="month", measure="screenings_done", breakdown=""
    )
    assert org_row.numerator == 4
    partnership_row = Rollup.objects.get(
        partnership=tenant.partnership, period_kind="month", measure="screenings_done", breakdown=""
    )
    assert partnership_row.numerator == 4
    assert _value(net, "screenings_done", "age_band", "0-17") == (1, None)


def test_self_sufficiency_change_between_first_and_latest(tenant):
    from assessments.models import Assessment
    from tests.factories import instrument

    matrix = instrument("self-sufficiency-matrix")
    better, worse, once = clients(tenant, 3, date_of_birth=date(1980, 1, 1))

    def taken(client, when, scores):
        Assessment.objects.create(
            instrument=matrix,
            client=client,
            organization=tenant.cbo,
            administered_by=tenant.cbo_staff,
            mode="in_person",
            status="completed",
            started_at=when,
            completed_at=when,
            domain_results={
                f"d{i}": {"status": "negative", "score": s} for i, s in enumerate(scores)
            },
        )

    taken(better, datetime(2026, 1, 5, 15, tzinfo=UTC), [1, 2, 2])  # 5
    taken(better, datetime(2026, 2, 5, 15, tzinfo=UTC), [2, 2, 2])  # (ignored middle) 6
    taken(better, datetime(2026, 3, 5, 15, tzinfo=UTC), [3, 3, 3])  # 9: +4
    taken(worse, datetime(2026, 1, 9, 15, tzinfo=UTC), [3, 3, 3])  # 9
    taken(worse, datetime(2026, 3, 9, 15, tzinfo=UTC), [2, 3, 2])  # 7: -2
    taken(once, datetime(2026, 3, 9, 15, tzinfo=UTC), [5, 5, 5])  # one matrix: not counted
    rollup(tenant)
    assert _value(tenant.network, "ssm_improved") == (1, 2)
    row = Rollup.objects.get(
        partnership=None,
        organization=None,
        period_kind="month",
        measure="ssm_mean_change",
        breakdown="",
    )
    assert (row.numerator, row.value) == (2, 1.0)  # (+4 - 2) / 2
