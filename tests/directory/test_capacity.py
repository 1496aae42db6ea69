"""Capacity state: closed when not accepting, waitlist by hand or at capacity, else open."""

import pytest

from directory.capacity import CapacityState, capacity_state
from directory.selectors import directory_programs
from organizations.sdoh import SDOHCategory
from tests.factories import ProgramFactory


@pytest.mark.parametrize(
    ("accepting", "manual_waitlist", "capacity", "open_referrals", "expected"),
    [
        (True, False, None, 0, CapacityState.OPEN),
        (True, False, None, 500, CapacityState.OPEN),  # no capacity set: never full
        (True, False, 10, 9, CapacityState.OPEN),
        (True, False, 10, 10, CapacityState.WAITLIST),  # reaching capacity is full
        (True, False, 10, 11, CapacityState.WAITLIST),
        (True, False, 0, 0, CapacityState.WAITLIST),
        (True, True, None, 0, CapacityState.WAITLIST),  # set by program staff
        (True, True, 10, 0, CapacityState.WAITLIST),
        (False, False, None, 0, CapacityState.CLOSED),
        (False, True, 10, 10, CapacityState.CLOSED),  # closed wins over everything
    ],
)
def test_capacity_state_rules(accepting, manual_waitlist, capacity, open_referrals, expected):
    state = capacity_state(
        accepting=accepting,
        manual_waitlist=manual_waitlist,
        capacity=capacity,
        open_referrals=open_referrals,
    )
    assert state is expected


def test_capacity_states_are_the_ig_codes():
    assert {s.value for s in CapacityState} == {"capacity", "waitlist", "no-capacity"}
    assert [s.label for s in CapacityState] == ["Open", "Waitlist", "Closed"]


def test_sdoh_categories_are_exactly_the_gravity_value_set():
    assert len(SDOHCategory.values) == 24
    assert {"food-insecurity", "housing-instability", "transportation-insecurity"} <= set(
        SDOHCategory.values
    )
    assert SDOHCategory.UTILITY_INSECURITY.label == "Utility Insecurity"


@pytest.mark.django_db
def test_programs_from_the_selector_carry_their_state(tenant):
    ProgramFactory(organization=tenant.cbo, name="Open")
    ProgramFactory(organization=tenant.cbo, name="Full", capacity=0)
    ProgramFactory(organization=tenant.cbo, name="Queue", manual_waitlist=True)
    ProgramFactory(organization=tenant.cbo, name="Shut", accepting_referrals=False)
    states = {p.name: p.capacity_state for p in directory_programs(tenant.cbo)}
    assert states == {
        "Open": CapacityState.OPEN,
        "Full": CapacityState.WAITLIST,
        "Queue": CapacityState.WAITLIST,
        "Shut": CapacityState.CLOSED,
    }
