"""Routing and its reflections at the same moment, on two real database connections.

Two backbone users routing the same referral: one wins, the other is told who routed it
where, and one routed referral exists. A clinic cancelling while the program acts on the
routed referral: both lock the parent first, so neither deadlocks and the pair ends
consistent. Transactional tests (the second connection must see committed rows); on
PostgreSQL the loser waits on the row lock, on SQLite on the database write lock.
"""

from __future__ import annotations

import pytest

from referrals.coordination import referral_route
from referrals.models import Referral, ReferralEvent
from referrals.services import TransitionConflict, referral_transition

from .coordination_support import fresh, hub, route, send_to_hub
from .workflow_support import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_backbone_users_route_at_once_one_wins(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)

    def routing(program, user):
        return lambda: referral_route(
            referral=whole,
            program=program,
            actor=user,
            organization=tenant.backbone,
            reason="Routed",
            expected_status="requested",
        )

    results = run_together(
        routing(h.pantry, h.navigator), routing(h.housing, h.navigator_colleague)
    )
    made = [r for r, exc in results if exc is None]
    refused = [exc for _, exc in results if exc is not None]
    assert len(made) == 1 and len(refused) == 1, results
    [part] = made
    [loser] = refused
    assert isinstance(loser, TransitionConflict), repr(loser)
    message = str(loser)
    assert f"already routed this referral to {part.program.name}" in message
    assert str(part.sender_user) in message
    assert "Your routing was not made." in message
    assert list(Referral.objects.filter(part_of=whole)) == [part]
    whole = fresh(whole)
    assert (whole.status, whole.business_status) == ("accepted", "routed")
    assert whole.events.filter(kind="routed").count() == 1
    assert whole.events.filter(kind="transition", to_status="accepted").count() == 1


def test_the_clinic_cancels_while_the_program_accepts(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)

    results = run_together(
        lambda: referral_transition(
            referral_id=whole.pk,
            move="cancel",
            actor=h.clinic_user,
            organization=tenant.hco,
            reason="Not needed",
        ),
        lambda: referral_transition(
            referral_id=part.pk,
            move="accept",
            actor=h.cbo_user,
            organization=tenant.cbo,
            expected_status="requested",
        ),
    )
    cancel_error, accept_error = (exc for _, exc in results)
    # Whichever came first, the cancel stands and takes the routed referral with it.
    assert cancel_error is None, repr(cancel_error)
    assert accept_error is None or isinstance(accept_error, TransitionConflict), repr(accept_error)
    assert (fresh(whole).status, fresh(part).status) == ("cancelled", "cancelled")
    moves = list(
        ReferralEvent.objects.filter(referral=part, kind="transition").values_list(
            "to_status", flat=True
        )
    )
    assert moves == (["cancelled"] if accept_error else ["accepted", "cancelled"])


def test_the_clinic_cancels_while_the_program_completes(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    referral_transition(
        referral_id=part.pk, move="accept", actor=h.cbo_user, organization=tenant.cbo
    )

    results = run_together(
        lambda: referral_transition(
            referral_id=whole.pk,
            move="cancel",
            actor=h.clinic_user,
            organization=tenant.hco,
            reason="Not needed",
            expected_status="accepted",
        ),
        lambda: referral_transition(
            referral_id=part.pk,
            move="complete",
            actor=h.cbo_user,
            organization=tenant.cbo,
            outcome="need-met",
            expected_status="accepted",
        ),
    )
    errors = [exc for _, exc in results if exc is not None]
    assert len(errors) == 1 and isinstance(errors[0], TransitionConflict), results
    pair = (fresh(whole).status, fresh(part).status)
    # Never a cancelled source with a completed part, or the other way round.
    assert pair in {("cancelled", "cancelled"), ("completed", "completed")}, pair
