"""The due moments a referral carries, computed with the rules when it is sent, accepted or
updated (a later change of the rules does not move them), and the reminder clock that
follows them (`Referral.reminder_due_at`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

# The stages whose deadline the reminder clock follows are the overdue rule's own
# (referrals.models.OVERDUE_DEADLINES), so a reminder says "overdue" exactly when the
# inbox, the backbone's list and the measures do.
from ..models import ACK_STAGE, UPDATE_STAGE, Referral
from ..workflow import Status
from .calendar import add_business_days, network_holidays
from .rules import Rules, rules_for

FOLLOW_UP_STAGE = frozenset({Status.COMPLETED})


def ack_due(referral: Referral, start: datetime, rules: Rules | None = None) -> datetime:
    """When the receiver must have answered a referral sent (or received) at `start`."""
    rules = rules or rules_for(referral)
    holidays = network_holidays(referral.network_id, timezone.localtime(start).date())
    return add_business_days(start, rules.ack_business_days, holidays)


def update_due(referral: Referral, start: datetime, rules: Rules | None = None) -> datetime:
    """When the receiver owes the next update on a referral last updated at `start`."""
    rules = rules or rules_for(referral)
    return start + timedelta(days=rules.update_every_days)


def follow_up_due(referral: Referral, start: datetime, rules: Rules | None = None) -> datetime:
    """When the sender should check in with the client after completion at `start`."""
    rules = rules or rules_for(referral)
    return start + timedelta(days=rules.follow_up_after_days)


def restart_reminders(referral: Referral, *, at: datetime) -> list[str]:
    """Point the reminder clock at the deadline of the referral's current stage and clear the
    stall (overdue count, escalation): someone acted at `at`. Call after the service has set
    the status and the due moments; returns the fields changed, for `save(update_fields)`.

    A completed referral's follow-up is the sender's; a logged inbound referral has no
    sender on Linkage, so nobody is reminded to follow up."""
    if referral.status in ACK_STAGE:
        due = referral.ack_due_at
    elif referral.status in UPDATE_STAGE:
        due = referral.update_due_at
    elif referral.status in FOLLOW_UP_STAGE and referral.sender_organization_id:
        due = referral.follow_up_due_at
    else:
        # On hold (waitlist, a revoked release) or closed: nothing is owed until it moves.
        due = None
    referral.reminder_due_at = due
    referral.waiting_since = at if due is not None else None
    referral.overdue_count = 0
    referral.escalated_at = None
    return ["reminder_due_at", "waiting_since", "overdue_count", "escalated_at"]
