"""Two people acting on the same referral at the same moment, on two real database
connections: one wins, the other is told what happened, and one event is written.

Transactional tests (the rows must be committed for the second connection to see them).
On PostgreSQL the loser waits on the row lock; on SQLite on the database write lock.
"""

from __future__ import annotations

import pytest
from django.db import connection

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


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks are PostgreSQL's (SQLite serialises whole transactions)",
)
def test_a_move_waits_for_the_row_lock_then_sees_what_the_holder_did(tenant):
    """Not left to timing: one connection holds the referral's row lock and declines it;
    the other's accept must wait on that lock (seen in pg_stat_activity) and, once the
    lock is released, refuse with what happened instead of overwriting it."""
    import threading
    import time

    from django.db import transaction

    p = parties(tenant)
    referral = send(p)
    locked, release, result = threading.Event(), threading.Event(), {}

    def holder():
        try:
            with transaction.atomic():
                Referral.objects.select_for_update().get(pk=referral.pk)
                locked.set()
                release.wait(timeout=30)
                referral_transition(
                    referral_id=referral.pk,
                    move="reject",
                    actor=p.receiver_colleague,
                    organization=tenant.cbo,
                    reason="No capacity",
                )
        finally:
            connection.close()

    def mover():
        try:
            result["value"] = _move(referral.pk, "accept", p.receiver, tenant.cbo)()
        except Exception as exc:  # the refusal is the point
            result["error"] = exc
        finally:
            connection.close()

    first = threading.Thread(target=holder)
    first.start()
    assert locked.wait(timeout=10)
    second = threading.Thread(target=mover)
    second.start()
    waiting, deadline = False, time.monotonic() + 10
    while not waiting and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            waiting = cursor.fetchone()[0] >= 1
        if not waiting:
            release.wait(timeout=0.05)  # poll, with a deadline
    assert waiting, "the second move did not wait for the row lock"
    assert result == {}  # still waiting while the lock is held
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert isinstance(result.get("error"), TransitionConflict), result
    assert Referral.objects.get(pk=referral.pk).status == "rejected"
    assert len(transitions(referral)) == 1
