"""Two people acting on the same referral at the same moment, on two real database
connections: one wins, the other is told what happened, and one event is written.

Transactional tests (the rows must be committed for the second connection to see them).
On PostgreSQL the loser waits on the row lock; on SQLite on the database write lock.
"""

from __future__ import annotations

import pytest

from referrals.models import Referral
from referrals.services import DuplicateReferral, TransitionConflict, referral_transition

from .workflow_support import parties, run_together, send, transitions

pytestmark = pytest.mark.django_db(transaction=True)


def _move(referral_id, move, user, org, **kwargs):
    return lambda: referral_transition(
        referral_id=referral_id,
        move=move,
        actor=user,
        organization=org,
        expected_status="requested",
        **kwargs,
    )


def test_accept_and_decline_at_once_one_wins(tenant):
    p = parties(tenant)
    referral = send(p)
    results = run_together(
        _move(referral.pk, "accept", p.receiver, tenant.cbo),
        _move(referral.pk, "reject", p.receiver_colleague, tenant.cbo, reason="No capacity"),
    )
    winners = [r for r, exc in results if exc is None]
    losers = [exc for r, exc in results if exc is not None]
    assert len(winners) == 1 and len(losers) == 1, results
    [loser] = losers
    assert isinstance(loser, TransitionConflict), repr(loser)
    final = Referral.objects.get(pk=referral.pk)
    assert final.status in {"accepted", "rejected"}
    [event] = transitions(referral)
    assert event.to_status == final.status
    # The loser is told who did what.
    message = str(loser)
    assert str(event.actor) in message
    assert final.get_status_display() in message
    assert "was not made" in message


def test_accept_and_decline_at_once_without_the_page_status(tenant):
    """A caller that does not pass the status it saw (an API client) gets the same answer."""
    p = parties(tenant)
    referral = send(p)

    def move(name, user, **kwargs):
        return lambda: referral_transition(
            referral_id=referral.pk, move=name, actor=user, organization=tenant.cbo, **kwargs
        )

    results = run_together(
        move("reject", p.receiver, reason="Not eligible"),
        move("accept", p.receiver_colleague),
    )
    errors = [exc for _, exc in results if exc is not None]
    assert len(errors) == 1 and isinstance(errors[0], TransitionConflict), results
    assert len(transitions(referral)) == 1


def test_a_double_click_on_two_connections_moves_once(tenant):
    p = parties(tenant)
    referral = send(p)
    click = _move(referral.pk, "accept", p.receiver, tenant.cbo)
    results = run_together(click, click)
    assert [exc for _, exc in results] == [None, None]
    assert [r.status for r, _ in results] == ["accepted", "accepted"]
    assert len(transitions(referral)) == 1


def test_two_sends_racing_make_one_referral(tenant):
    p = parties(tenant)
    results = run_together(lambda: send(p), lambda: send(p, sender_user=tenant.hco_staff))
    made = [r for r, exc in results if exc is None]
    refused = [exc for _, exc in results if exc is not None]
    assert len(made) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], DuplicateReferral), repr(refused[0])
    assert refused[0].existing.pk == made[0].pk
    assert Referral.objects.filter(client=tenant.client, program=p.program).count() == 1
