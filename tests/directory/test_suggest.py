"""suggest_programs: ranked by needs served, ZIP, language, then capacity; with reasons."""

import pytest

from directory.selectors import Suggestion, suggest_programs
from tests.factories import NetworkFactory, OrganizationFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def names(suggestions: list[Suggestion]) -> list[str]:
    return [s.program.name for s in suggestions]


def test_ranked_by_needs_then_zip_then_language_then_capacity(tenant):
    cbo = tenant.cbo
    ProgramFactory(organization=cbo, name="Housing only", categories=["housing-instability"])
    ProgramFactory(
        organization=cbo,
        name="Food and housing",
        categories=["food-insecurity", "housing-instability"],
        manual_waitlist=True,
    )
    ProgramFactory(organization=cbo, name="Food, our ZIP", zip_codes=["60601"])
    ProgramFactory(organization=cbo, name="Food, elsewhere", zip_codes=["60999"])
    ProgramFactory(organization=cbo, name="Food, any ZIP, Spanish", languages=[("es", "Spanish")])
    ProgramFactory(organization=cbo, name="Food, any ZIP")
    ProgramFactory(organization=cbo, name="Food, waitlisted", manual_waitlist=True)
    ProgramFactory(organization=cbo, name="Food, closed", accepting_referrals=False)
    ProgramFactory(organization=cbo, name="Food, unlisted", is_listed=False)
    ProgramFactory(organization=cbo, name="Transport", categories=["transportation-insecurity"])

    found = suggest_programs(
        network=tenant.network,
        needs=["food-insecurity", "housing-instability"],
        zip_code="60601-1234",
        language="Spanish",
    )
    assert names(found) == [
        "Food and housing",  # two needs served outweigh a waitlist
        "Food, our ZIP",
        "Food, any ZIP, Spanish",
        "Food, any ZIP",
        "Housing only",
        "Food, waitlisted",
        "Food, elsewhere",  # lists ZIPs, not the client's
    ]
    by_name = {s.program.name: s for s in found}
    assert by_name["Food and housing"].reasons == [
        "Serves food insecurity",
        "Serves housing instability",
        "Waitlist",
    ]
    assert by_name["Food and housing"].capacity_state == "waitlist"
    assert by_name["Food, our ZIP"].reasons == [
        "Serves food insecurity",
        "Serves ZIP 60601",
        "Accepting referrals",
    ]
    assert "Speaks Spanish" in by_name["Food, any ZIP, Spanish"].reasons
    assert "ZIP 60601 is not in its service area" in by_name["Food, elsewhere"].reasons
    assert by_name["Food, any ZIP"].capacity_state == "capacity"
    scores = [s.score for s in found]
    assert scores == sorted(scores, reverse=True)


def test_language_may_be_a_code_and_limit_cuts_the_list(tenant):
    for n in range(5):
        ProgramFactory(organization=tenant.cbo, name=f"Pantry {n}")
    ProgramFactory(organization=tenant.cbo, name="Zeta pantry", languages=[("es", "Spanish")])
    found = suggest_programs(
        network=tenant.network, needs=["food-insecurity"], language="es", limit=2
    )
    assert names(found) == ["Zeta pantry", "Pantry 0"]


def test_only_the_networks_programs_and_only_known_needs(tenant):
    elsewhere = OrganizationFactory(network=NetworkFactory())
    ProgramFactory(organization=elsewhere, name="Other network pantry")
    ProgramFactory(organization=tenant.cbo, name="Our pantry")
    assert names(suggest_programs(network=tenant.network, needs=["food-insecurity"])) == [
        "Our pantry"
    ]
    assert suggest_programs(network=tenant.network, needs=["hunger"]) == []


def test_query_count_does_not_depend_on_the_number_of_programs(tenant, django_assert_num_queries):
    for _ in range(3):
        ProgramFactory(organization=tenant.cbo, zip_codes=["60601"], languages=[("es", "Sp")])
    # Programs (with organization and network), categories, areas, languages.
    with django_assert_num_queries(4):
        suggest_programs(network=tenant.network, needs=["food-insecurity"], zip_code="60601")
    for _ in range(30):
        ProgramFactory(organization=tenant.cbo, zip_codes=["60601"], languages=[("es", "Sp")])
    with django_assert_num_queries(4):
        found = suggest_programs(
            network=tenant.network, needs=["food-insecurity"], zip_code="60601", limit=50
        )
    assert len(found) == 33
