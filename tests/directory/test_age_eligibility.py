"""Issue 17: programs' stored age limits are used — in suggestions (an ineligible program is
listed last, saying why, and cannot be chosen) and at sending (refused with the reason)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from directory.selectors import suggest_programs
from referrals.models import Referral
from referrals.services import referral_send
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db

TODAY = "2026-03-11 12:00:00-06:00"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def programs(tenant):
    seniors = ProgramFactory(
        organization=tenant.cbo, name="Senior Meals", categories=["food-insecurity"], minimum_age=60
    )
    pantry = ProgramFactory(
        organization=tenant.cbo,
        name="Family Pantry",
        categories=["food-insecurity"],
        minimum_age=18,
        maximum_age=64,
    )
    return seniors, pantry


def test_ages_as_people_say_them(tenant):
    assert ProgramFactory(organization=tenant.cbo, minimum_age=18, maximum_age=64).age_range == (
        "ages 18 to 64"
    )
    assert ProgramFactory(organization=tenant.cbo, maximum_age=17).age_range == "ages up to 17"
    assert ProgramFactory(organization=tenant.cbo).age_refusal(5) == ""


def test_suggestions_put_the_ineligible_last_and_say_why(tenant, programs):
    found = suggest_programs(network=tenant.network, needs=["food-insecurity"], age=34)
    assert [s.program.name for s in found] == ["Family Pantry", "Senior Meals"]
    assert found[0].eligible and "Eligible by age (ages 18 to 64)" in found[0].reasons
    assert not found[1].eligible
    assert (
        found[1].reasons[0]
        == "Not eligible: Senior Meals serves ages 60 and over; the client is 34."
    )
    # Unknown age: no judgement either way.
    unknown = suggest_programs(network=tenant.network, needs=["food-insecurity"])
    assert all(s.eligible for s in unknown)


def test_sending_to_a_program_the_client_is_too_young_for_is_refused(tenant, programs):
    seniors, pantry = programs
    tenant.client.date_of_birth = date(1991, 3, 12)  # 34 today, 35 tomorrow
    tenant.client.save(update_fields=["date_of_birth"])
    with pytest.raises(ValidationError) as refused:
        referral_send(
            client=tenant.client,
            program=seniors,
            sender_organization=tenant.hco,
            sender_user=tenant.hco_navigator,
            needs=["food-insecurity"],
        )
    assert refused.value.message_dict["program"] == [
        "Not eligible: Senior Meals serves ages 60 and over; the client is 34."
    ]
    assert not Referral.objects.exists()
    referral_send(
        client=tenant.client,
        program=pantry,
        sender_organization=tenant.hco,
        sender_user=tenant.hco_navigator,
        needs=["food-insecurity"],
    )


def test_the_compose_page_shows_the_reason_and_disables_the_choice(client, login, tenant, programs):
    seniors, _ = programs
    tenant.client.date_of_birth = date(1991, 3, 12)
    tenant.client.save(update_fields=["date_of_birth"])
    login(tenant.hco_navigator)
    page = client.post(
        f"/clients/{tenant.client.pk}/referrals/new/",
        {"action": "suggest", "needs": ["food-insecurity"]},
    ).content.decode()
    assert f'id="suggestion-{seniors.pk}" disabled' in page
    assert "Senior Meals serves ages 60 and over; the client is 34." in page
