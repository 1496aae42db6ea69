"""The referral state machine (ARCHITECTURE.md; FHIR Task.status as the SDOH Clinical Care IG
constrains it for referrals: no `ready`, no `received`).

    draft ──send──▶ requested                                   (sender)
    requested ──accept──▶ accepted ──start──▶ in-progress       (receiver)
    requested ──reject(reason)──▶ rejected                       (receiver)  terminal
    accepted|in-progress ──complete(outcome)──▶ completed        (receiver)  terminal
    accepted|in-progress ──fail(reason)──▶ failed                (receiver)  terminal
    accepted|in-progress ──hold(reason)──▶ on-hold ──resume──▶ in-progress   (receiver)
    requested|accepted ──waitlist──▶ on-hold (businessStatus waitlisted)      (receiver)
    any open ──cancel(reason)──▶ cancelled                       (either side) terminal
    any ──mark entered-in-error(note)──▶ entered-in-error        (sender)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REQUESTED = "requested", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Declined")
    IN_PROGRESS = "in-progress", _("In progress")
    ON_HOLD = "on-hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


OPEN = frozenset(
    {Status.DRAFT, Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD}
)
TERMINAL = frozenset(set(Status) - OPEN)
# Statuses a referral must leave on its own; "open with the receiver" for the duplicate guard.
ACTIVE = OPEN
# The receiver is working it: the client's appointment can be booked and texted.
WORKING = frozenset({Status.ACCEPTED, Status.IN_PROGRESS})


class Side(models.TextChoices):
    SENDER = "sender", _("Sender")
    RECEIVER = "receiver", _("Receiver")
    EITHER = "either", _("Either side")
    # Moves Linkage makes itself (a revoked release): no organization may choose them.
    SYSTEM = "system", _("Linkage")


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    side: str
    reason_required: bool = False
    outcome_required: bool = False
    business_status: str = ""


MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        Move("send", _("Send"), frozenset({Status.DRAFT}), Status.REQUESTED, Side.SENDER),
        Move("accept", _("Accept"), frozenset({Status.REQUESTED}), Status.ACCEPTED, Side.RECEIVER),
        Move(
            "reject",
            _("Decline"),
            frozenset({Status.REQUESTED}),
            Status.REJECTED,
            Side.RECEIVER,
            reason_required=True,
        ),
        Move(
            "waitlist",
            _("Accept onto the waitlist"),
            frozenset({Status.REQUESTED, Status.ACCEPTED}),
            Status.ON_HOLD,
            Side.RECEIVER,
            business_status="waitlisted",
        ),
        Move(
            "start",
            _("Start work"),
            frozenset({Status.ACCEPTED}),
            Status.IN_PROGRESS,
            Side.RECEIVER,
        ),
        Move(
            "hold",
            _("Put on hold"),
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS}),
            Status.ON_HOLD,
            Side.RECEIVER,
            reason_required=True,
        ),
        Move(
            "resume",
            _("Resume"),
            frozenset({Status.ON_HOLD}),
            Status.IN_PROGRESS,
            Side.RECEIVER,
        ),
        Move(
            "complete",
            _("Complete"),
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS}),
            Status.COMPLETED,
            Side.RECEIVER,
            outcome_required=True,
        ),
        Move(
            "fail",
            _("Close as failed"),
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS}),
            Status.FAILED,
            Side.RECEIVER,
            reason_required=True,
        ),
        Move("cancel", _("Cancel"), OPEN, Status.CANCELLED, Side.EITHER, reason_required=True),
        Move(
            "consent_hold",
            _("Hold: release revoked"),
            frozenset({Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS}),
            Status.ON_HOLD,
            Side.SYSTEM,
            reason_required=True,
        ),
        Move(
            "mark_error",
            _("Mark as entered in error"),
            frozenset(set(Status) - {Status.ENTERED_IN_ERROR}),
            Status.ENTERED_IN_ERROR,
            Side.SENDER,
            reason_required=True,
        ),
    ]
}


# Moves that show the referral to the receiver (send) or continue work with the client
# (the receiver's): the receiver must be covered by a release for what the referral carries.
NEEDS_CONSENT = frozenset({"send", "accept", "waitlist", "start", "resume"})


def side_allows(move: Move, *, is_sender: bool, is_receiver: bool) -> bool:
    if move.side == Side.SYSTEM:
        return False
    if move.side == Side.SENDER:
        return is_sender
    if move.side == Side.RECEIVER:
        return is_receiver
    return is_sender or is_receiver


# --- The backbone as coordination platform (referrals/coordination.py) ---------------------
#
# A referral the backbone received and routed to a program (the IG's indirect referral:
# "two direct referrals chained together") has one open routed referral at a time, its
# part (`Referral.part_of`). The part's status changes are reflected on the whole by
# Linkage itself, with these moves (Side.SYSTEM: nobody may choose them, and they are not
# in MOVES, the state machine people and API clients work):
#
#   part (backbone → program)              whole (source → backbone)
#   routed: requested                      requested → accepted (the backbone's own accept)
#   accepted                               no change (an event says so)
#   in-progress (started, resumed)         accepted|on-hold → in-progress
#   on-hold, waitlisted                    accepted|in-progress → on-hold (waitlisted)
#   on-hold (hold, release revoked)        accepted|in-progress → on-hold
#   completed (outcome)                    → completed with the same outcome and note
#   failed (reason)                        → failed
#   rejected | cancelled | entered-in-error  → accepted, businessStatus rerouting: back in
#                                          the backbone's queue to route again, not closed
#
# and the other way: cancelling the whole (or marking it entered in error) cancels the
# open part. A whole already closed is left as it closed.
RELAYS: dict[str, Move] = {
    m.name: m
    for m in [
        Move(
            "relay_start",
            "In progress at the routed program",
            frozenset({Status.ACCEPTED, Status.ON_HOLD}),
            Status.IN_PROGRESS,
            Side.SYSTEM,
        ),
        Move(
            "relay_waitlist",
            "Waitlisted at the routed program",
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS}),
            Status.ON_HOLD,
            Side.SYSTEM,
            business_status="waitlisted",
        ),
        Move(
            "relay_hold",
            "On hold at the routed program",
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS}),
            Status.ON_HOLD,
            Side.SYSTEM,
            reason_required=True,
        ),
        Move(
            "relay_complete",
            "Completed by the routed program",
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD}),
            Status.COMPLETED,
            Side.SYSTEM,
            outcome_required=True,
        ),
        Move(
            "relay_fail",
            "Failed at the routed program",
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD}),
            Status.FAILED,
            Side.SYSTEM,
            reason_required=True,
        ),
        Move(
            "relay_reroute",
            "Back with the backbone to route again",
            frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD}),
            Status.ACCEPTED,
            Side.SYSTEM,
            reason_required=True,
            business_status="rerouting",
        ),
        Move(
            "relay_cancel",
            "Cancelled with the referral it fulfils",
            OPEN,
            Status.CANCELLED,
            Side.SYSTEM,
            reason_required=True,
        ),
    ]
}

# Relays by which a referral only mirrors its routed referral's move (the backbone, which
# receives the one and sent the other, hears of the move once, from the routed one). A
# reroute is the backbone's cue to act; relay_cancel moves the routed referral itself.
MIRRORS = frozenset({"relay_start", "relay_waitlist", "relay_hold", "relay_complete", "relay_fail"})
# Statuses from which the backbone may route a referral it received to a program.
ROUTABLE = frozenset({Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS})
# Status moves of a referral that stops its open routed referral (relay_cancel).
STOPS_PARTS = frozenset({Status.CANCELLED, Status.ENTERED_IN_ERROR})
# Moves its receiver may still make on a referral while a routed referral fulfils it: the
# rest (complete, fail, hold...) follow the routed referral instead.
WHILE_ROUTED = frozenset({"cancel", "mark_error", "consent_hold"})


def relay_for(part_status: str, part_business_status: str = "") -> str | None:
    """The move that reflects a routed referral's new status on the referral it fulfils
    (None: the whole keeps its status, an event records the change)."""
    if part_status == Status.IN_PROGRESS:
        return "relay_start"
    if part_status == Status.ON_HOLD:
        return "relay_waitlist" if part_business_status == "waitlisted" else "relay_hold"
    if part_status == Status.COMPLETED:
        return "relay_complete"
    if part_status == Status.FAILED:
        return "relay_fail"
    if part_status in {Status.REJECTED, Status.CANCELLED, Status.ENTERED_IN_ERROR}:
        return "relay_reroute"
    return None
