"""Capacity: a program's state counts the referrals it really holds open; the receiver can
accept onto a waitlist and resume when room opens."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from directory.capacity import CapacityState, with_capacity
from directory.models import Program
from directory.selectors import DirectoryFilters, directory_search
from referrals.models import Notification, Referral
from referrals.selectors import HOLDS_A_PLACE, with_open_referrals
from referrals.services import referral_transition
from referrals.workflow import OPEN
from tests.factories import ClientFactory, ProgramFactory, release_for

from .workflow_support import at_status, parties, send, transitions

pytestmark = pytest.mark.django_db


def state(program: Program) -> tuple[int, str]:
    annotated = with_open_referrals(Program.objects.filter(pk=program.pk)).get()
    return annotated.open_referrals, annotated.capacity_state


def another_client(tenant):
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(
        client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    return client


def test_the_counted_statuses_are_the_sent_open_ones(tenant):
    assert set(HOLDS_A_PLACE) == set(OPEN) - {"draft"}
    # The directory, below referrals, counts through the seam referrals registers.
    p = parties(tenant, capacity=1)
    send(p)
    seen = with_capacity(Program.objects.filter(pk=p.program.pk)).get()
    assert (seen.open_referrals, seen.capacity_state) == (1, CapacityState.WAITLIST)


def test_a_program_with_capacity_n_and_n_open_referrals_is_waitlisted(tenant):
    p = parties(tenant, capacity=2)
    assert state(p.program) == (0, CapacityState.OPEN)
    send(p)
    assert state(p.program) == (1, CapacityState.OPEN)
    second = send(p, client=another_client(tenant))
    assert state(p.program) == (2, CapacityState.WAITLIST)
    # A place opens when a referral closes.
    referral_transition(
        referral_id=second.pk,
        move="reject",
        actor=p.receiver,
        organization=tenant.cbo,
        reason="Not eligible",
    )
    assert state(p.program) == (1, CapacityState.OPEN)


@pytest.mark.parametrize(
    ("status", "counted"),
    [
        ("draft", False),
        ("requested", True),
        ("accepted", True),
        ("in-progress", True),
        ("on-hold", True),
        ("rejected", False),
        ("completed", False),
        ("failed", False),
        ("cancelled", False),
        ("entered-in-error", False),
    ],
)
def test_which_referrals_hold_a_place(tenant, status, counted):
    p = parties(tenant, capacity=1)
    at_status(p, status)
    expected = (1, CapacityState.WAITLIST) if counted else (0, CapacityState.OPEN)
    assert state(p.program) == expected


def test_counts_are_per_program_and_listings_show_them(tenant):
    p = parties(tenant, capacity=1)
    other = ProgramFactory(organization=tenant.cbo, name="Diapers", capacity=1)
    send(p)
    send(p, client=another_client(tenant))  # over capacity: still counted
    listed = {
        pr.pk: (pr.open_referrals, pr.capacity_state)
        for pr in directory_search(tenant.hco, DirectoryFilters())
    }
    assert listed[p.program.pk] == (2, CapacityState.WAITLIST)
    assert listed[other.pk] == (0, CapacityState.OPEN)
    open_now = directory_search(tenant.hco, DirectoryFilters(accepting_now=True))
    assert [pr.pk for pr in open_now] == [other.pk]


def test_a_full_program_still_takes_referrals_onto_its_waitlist(tenant):
    p = parties(tenant, capacity=1)
    send(p)
    queued = send(p, client=another_client(tenant))
    assert queued.status == "requested"


def test_a_closed_program_takes_none(tenant):
    p = parties(tenant)
    Program.objects.filter(pk=p.program.pk).update(accepting_referrals=False)
    p.program.refresh_from_db()
    with pytest.raises(ValidationError, match="not accepting referrals"):
        send(p)
    assert Referral.objects.count() == 0


@pytest.mark.parametrize("status", ["requested", "accepted"])
def test_accepting_onto_the_waitlist_and_resuming(tenant, status):
    p = parties(tenant, capacity=1)
    referral = at_status(p, status)
    Notification.objects.all().delete()
    waitlisted = referral_transition(
        referral_id=referral.pk, move="waitlist", actor=p.receiver, organization=tenant.cbo
    )
    assert (waitlisted.status, waitlisted.business_status) == ("on-hold", "waitlisted")
    assert waitlisted.accepted_at is not None
    [event] = transitions(referral)
    assert (event.from_status, event.to_status, event.business_status) == (
        status,
        "on-hold",
        "waitlisted",
    )
    # The sender sees it: told, in words.
    [told] = Notification.objects.filter(user=p.sender)
    assert "waitlist" in told.message
    # Still holding its place in the count.
    assert state(p.program) == (1, CapacityState.WAITLIST)

    resumed = referral_transition(
        referral_id=referral.pk, move="resume", actor=p.receiver, organization=tenant.cbo
    )
    assert (resumed.status, resumed.business_status) == ("in-progress", "")
    assert [e.to_status for e in transitions(referral)] == ["on-hold", "in-progress"]
