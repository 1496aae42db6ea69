"""The state machine at work: one move of a referral, as one transaction holding its row
lock, and what a move sets off between a routed referral and the referral it fulfils.

This is the floor of the referral writes. `services` (sending, logging, contacts, notes)
and `coordination` (the backbone's routing step) build on it and import only its public
names; it imports neither. The refusals every write path raises (ConsentMissing,
DuplicateReferral, TransitionConflict) live here for the same reason.

The backbone as coordination platform (referrals/coordination.py tells the whole story):
a referral routed by the backbone is `part_of` the referral it fulfils. Its moves are
reflected on that whole by Linkage itself (RELAYS in workflow.py) inside the same
transaction, and cancelling the whole cancels its open part. The reflection calls
`referral_transition` again, which is why it lives beside it. Locks are always taken
parent first, then the part, so a clinic cancelling and a CBO completing at the same
moment queue on the parent's row instead of deadlocking.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from audit.services import audit_record
from consent import policy
from consent.categories import CARRIED_CATEGORIES, Category
from organizations.models import Organization, User

from . import events, notifications
from .concepts import Activity, clean_concept
from .models import Referral, ReferralEvent
from .reminders import schedule
from .workflow import (
    MOVES,
    NEEDS_CONSENT,
    OPEN,
    RELAYS,
    STOPS_PARTS,
    TERMINAL,
    WHILE_ROUTED,
    Move,
    Side,
    Status,
    relay_for,
    side_allows,
)

# What a referral carries to the receiver, so what a release must let the receiver see:
# who the client is and how to reach them, the needs, and the referral itself.

# Clocks the backbone does not owe while a routed referral is worked: the routed
# program's own reminders run on the routed referral.
PAUSED_CLOCK = {
    "ack_due_at": None,
    "update_due_at": None,
    "reminder_due_at": None,
    "waiting_since": None,
    "overdue_count": 0,
    "escalated_at": None,
}


class ConsentMissing(ValidationError):
    """The receiver is not covered by an active release for what the referral carries.
    The message says exactly what is missing: a release that names the receiver but lacks
    categories is not the same fix as no release naming it at all."""

    def __init__(self, receiver: Organization, missing: list[Category], *, named: bool = False):
        self.receiver = receiver
        self.missing = missing
        self.named = named
        names = _and_list([str(c.label).lower() for c in missing])
        if named:
            text = (
                f"{receiver.name} may not see this client's {names}: the client's release "
                f"names {receiver.name} but does not cover {'it' if len(missing) == 1 else 'them'}."
                f" Capture a release that names {receiver.name} and covers {names}."
            )
        else:
            text = (
                f"{receiver.name} may not see this client's {names}: no active release of "
                f"information names {receiver.name}. Capture a release that names "
                f"{receiver.name} and covers {names}."
            )
        super().__init__(text)


def _and_list(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


class DuplicateReferral(ValidationError):
    """An open referral for this client to this program exists already."""

    def __init__(self, existing: Referral):
        self.existing = existing
        super().__init__(
            f"This client already has an open referral to {existing.program_name} "
            f"(referral #{existing.pk}, {existing.get_status_display().lower()})."
        )


class TransitionConflict(ValidationError):
    """The referral moved on while the user was looking at it; the message says how."""


def carried(referral: Referral) -> tuple[Category, ...]:
    """What the receiver must be allowed to see to work the referral. A logged inbound
    referral carries nothing from a sender on Linkage: the receiver needs only to be able
    to see who the client is (as when it was logged)."""
    if referral.sender_organization_id is None:
        return (Category.DEMOGRAPHICS,)
    return CARRIED_CATEGORIES


def require_carried_consent(
    client,
    receiver: Organization,
    at: datetime,
    categories: tuple[Category, ...] = CARRIED_CATEGORIES,
    *,
    sender_id: int | None = None,
):
    """ConsentMissing unless an active release lets `receiver` see `categories` of the
    client at `at`; otherwise the release that covers the referral details longest (None
    for a referral between one organization's own programs)."""
    if sender_id == receiver.pk:
        # A referral to one of the sender's own programs discloses nothing to anyone.
        return None
    missing = [c for c in categories if not policy.may_see(receiver, c, client, at)]
    if missing:
        named = bool(policy.released_categories(receiver, client, at))
        raise ConsentMissing(receiver, missing, named=named)
    return (
        policy.covering_releases(receiver, Category.REFERRALS, at)
        .filter(client_id=client.pk)
        .order_by("-expires_at")
        .first()
    )


def take_write_lock(model, pk: int, field: str = "updated_at") -> None:
    """Make SQLite serialize this transaction with other writers from its first statement.

    SQLite ignores SELECT ... FOR UPDATE, and a transaction that has read and then wants
    to write while another writer is active is refused at once ("database is locked")
    instead of waiting for the `timeout`. Writing first (a no-op UPDATE) takes the write
    lock now, so a second writer waits, then reads what the first one committed and gets
    the same answer as on PostgreSQL (where select_for_update locks the row). This holds
    when the service opens the transaction; inside a request that has already read,
    SQLite needs BEGIN IMMEDIATE (the `transaction_mode` database option)."""
    if connection.vendor == "sqlite":
        model.objects.filter(pk=pk).update(**{field: F(field)})


def open_part(referral: Referral) -> Referral | None:
    """The routed referral currently fulfilling `referral` (at most one is open)."""
    return (
        Referral.objects.filter(part_of_id=referral.pk, status__in=OPEN)
        .select_related("program", "receiver_organization", "sender_user", "sender_organization")
        .order_by("-id")
        .first()
    )


def _sides(referral: Referral, organization: Organization) -> tuple[bool, bool]:
    """(acts as the sender, acts as the receiver). A logged inbound referral has no sender
    on Linkage: the receiver that recorded it answers for the record (e.g. marks a fax
    logged twice as entered in error)."""
    is_receiver = referral.receiver_organization_id == organization.pk
    if referral.sender_organization_id is None:
        return is_receiver, is_receiver
    return referral.sender_organization_id == organization.pk, is_receiver


def allowed_moves(referral: Referral, organization: Organization) -> list[Move]:
    """The moves `organization` may make on `referral` now (for the action buttons)."""
    is_sender, is_receiver = _sides(referral, organization)
    moves = [
        m
        for m in MOVES.values()
        if referral.status in m.sources
        and side_allows(m, is_sender=is_sender, is_receiver=is_receiver)
    ]
    if moves and referral.status in OPEN and open_part(referral) is not None:
        moves = [m for m in moves if m.name in WHILE_ROUTED]  # the routed referral leads
    return moves


@transaction.atomic
def referral_transition(
    *,
    referral_id: int,
    move: str,
    actor: User | None,
    organization: Organization | None,
    reason: str = "",
    decline_reason: str = "",
    outcome: str = "",
    outcome_note: str = "",
    resulting_activity: Activity | None = None,
    expected_status: str | None = None,
    program=None,
) -> Referral:
    """Make one move of the state machine, as one transaction holding the row lock.

    A referral in the receiver's intake queue (addressed to the organization, no program
    yet) is taken on with the `program` the receiver chooses among its own programs: its
    moves into the receiver's work (accept, waitlist, start, resume) refuse without one.

    A decline (`reject`) records why as a code, `decline_reason` (Referral.DeclineReason;
    none given: "other"), with `reason` as its explanation — required when the code is
    "other", optional otherwise. A completion records the outcome, its note and, when the
    receiving system says so, the `resulting_activity` (what was done, and when).

    Refusals raise and write nothing: PermissionDenied for an organization that is not the
    side the move belongs to; TransitionConflict when the referral is not in a status the
    move starts from (someone moved it first, or it is closed: the message says who did
    what), also when `expected_status` (the status the user saw) is no longer current;
    ValidationError for a missing reason or outcome, an unknown decline reason, a decline
    reason or resulting activity given with a move that has none, or a malformed
    activity; ConsentMissing when the receiver would work with the client without a
    release. The same person repeating the move that just happened (a double click)
    changes nothing. `actor`/`organization` None means the system (a revoked release
    putting referrals on hold).
    """
    chosen = MOVES.get(move) or RELAYS.get(move)
    if chosen is None:
        raise ValidationError(f"Unknown action {move!r}.")
    _lock_parent_first(referral_id)
    take_write_lock(Referral, referral_id)
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("program", "sender_organization", "receiver_organization", "client")
        .get(pk=referral_id)
    )
    if organization is None and chosen.side != Side.SYSTEM:
        raise PermissionDenied(gettext("Only people act on referrals."))
    if organization is not None:
        is_sender, is_receiver = _sides(referral, organization)
        if not (is_sender or is_receiver):
            raise PermissionDenied(gettext("Only the sender and the receiver act on a referral."))
        if not side_allows(chosen, is_sender=is_sender, is_receiver=is_receiver):
            raise PermissionDenied(
                f"“{chosen.label}” is not yours to do: {_WHO_MAY[chosen.side]} makes this move."
            )
        _refuse_while_routed(referral, chosen, organization)
    stale = bool(expected_status) and referral.status != expected_status
    if stale or referral.status not in chosen.sources:
        if referral.status == chosen.target and _last_move_was(referral, actor, chosen):
            return referral  # the same person's double click: it happened once
        raise TransitionConflict(what_happened(referral, chosen))
    reason = reason.strip()
    decline_reason = _decline_reason(chosen, decline_reason)
    # A decline's code says why; only "other" needs the words too.
    coded = bool(decline_reason) and decline_reason != Referral.DeclineReason.OTHER
    if chosen.reason_required and not reason and not coded:
        if decline_reason:
            raise ValidationError(
                {"reason": gettext("Say why you decline: the reason “Other” needs an explanation.")}
            )
        raise ValidationError(
            {"reason": gettext("Say why (%(action)s).") % {"action": chosen.label.lower()}}
        )
    if chosen.outcome_required and outcome not in Referral.Outcome.values:
        raise ValidationError({"outcome": gettext("Choose the outcome.")})
    if resulting_activity is not None and chosen.target != Status.COMPLETED:
        raise ValidationError(
            {
                "resulting_activity": gettext(
                    "What was done is recorded when the referral is completed."
                )
            }
        )
    activity = clean_concept(resulting_activity, field="resulting_activity")
    chosen_program = _chosen_program(referral, chosen, program)
    now = timezone.now()
    release = None
    if chosen.name in NEEDS_CONSENT:
        release = require_carried_consent(
            referral.client,
            referral.receiver_organization,
            now,
            carried(referral),
            sender_id=referral.sender_organization_id,
        )
    before = referral.status
    referral.status = chosen.target
    referral.status_reason = reason
    referral.business_status = chosen.business_status or (
        referral.business_status if chosen.target == Status.ACCEPTED else ""
    )
    referral.updated_at = now
    fields = ["status", "status_reason", "business_status", "updated_at"]
    if chosen.name == "send":
        # A draft goes out now: the receiver's clock starts, and the release that lets the
        # receiver see it is recorded as on a direct send.
        referral.sent_at = now
        referral.ack_due_at = schedule.ack_due(referral, now)
        referral.release = release
        fields += ["sent_at", "ack_due_at", "release"]
    elif chosen.name in {"accept", "waitlist", "start", "resume"} and referral.accepted_at is None:
        # The receiver took the referral on (a hold by Linkage itself is not an acceptance).
        referral.accepted_at = now
        fields.append("accepted_at")
    if before == Status.REQUESTED:
        referral.ack_due_at = None
        fields.append("ack_due_at")
    if chosen.target in {Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD}:
        referral.update_due_at = schedule.update_due(referral, now)
        fields.append("update_due_at")
    if chosen.target in TERMINAL:
        referral.closed_at = now
        referral.update_due_at = None
        referral.ack_due_at = None
        fields += ["closed_at", "update_due_at", "ack_due_at"]
    if decline_reason:
        referral.decline_reason = decline_reason
        fields.append("decline_reason")
    if chosen_program is not None:
        referral.program = chosen_program
        fields.append("program")
    if chosen.target == Status.COMPLETED:
        referral.outcome = outcome
        referral.outcome_note = outcome_note.strip()
        referral.resulting_activity = activity
        referral.follow_up_due_at = schedule.follow_up_due(referral, now)
        fields += ["outcome", "outcome_note", "resulting_activity", "follow_up_due_at"]
    if chosen.target in {Status.CANCELLED, Status.ENTERED_IN_ERROR}:
        referral.follow_up_due_at = None
        fields.append("follow_up_due_at")
    fields += schedule.restart_reminders(referral, at=now)
    referral.save(update_fields=sorted(set(fields)))
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.TRANSITION,
        actor=actor,
        organization=organization,
        occurred_at=now,
        from_status=before,
        to_status=referral.status,
        business_status=referral.business_status,
        reason=reason or referral.outcome_note,
    )
    audit_record(
        action="update",
        object_type="referral",
        object_ids=[referral.pk],
        client_ids=[referral.client_id],
        actor=actor,
        organization=organization,
        detail={
            "from": before,
            "to": referral.status,
            "outcome": referral.outcome or None,
            **({"decline_reason": decline_reason} if decline_reason else {}),
            **({"program": chosen_program.pk} if chosen_program is not None else {}),
        },
    )
    if chosen.name == "send":
        notifications.referral_created(referral, actor=actor)
    else:
        notifications.referral_moved(referral, before=before, actor=actor, move=chosen.name)
    events.status_changed(referral)
    _after_move(referral, move=chosen)
    return referral


# The receiver's moves that take a referral on: from the intake queue, each needs the
# program chosen (the database refuses an accepted referral without one).
TAKES_ON = frozenset({"accept", "waitlist", "start", "resume"})


def _chosen_program(referral: Referral, move: Move, program):
    """The program a move out of the intake queue puts the referral in (None: no change).
    ValidationError when the move needs one and none is given, when it is not one of the
    receiver's own programs, when the client has an open referral to it already, or when
    the referral has its program and another is given."""
    if referral.program_id is not None:
        if program is not None and program.pk != referral.program_id:
            raise ValidationError(
                {
                    "program": gettext("This referral is for %(program)s already.")
                    % {"program": referral.program.name}
                }
            )
        return None
    if move.name not in TAKES_ON:
        return None
    if program is None:
        raise ValidationError(
            {
                "program": gettext(
                    "Choose the program that takes this referral on: it was sent to "
                    "%(organization)s, not to one of its programs."
                )
                % {"organization": referral.receiver_organization.name}
            }
        )
    if program.organization_id != referral.receiver_organization_id:
        raise ValidationError(
            {"program": gettext("Choose one of your own organization's programs.")}
        )
    existing = (
        Referral.objects.filter(client_id=referral.client_id, program=program, status__in=OPEN)
        .exclude(pk=referral.pk)
        .select_related("program")
        .first()
    )
    if existing is not None:
        raise DuplicateReferral(existing)
    return program


def _decline_reason(move: Move, code: str) -> str:
    """The decline reason a move records: a known code for a decline ("other" when none is
    given), nothing for any other move (refused if one is given)."""
    code = (code or "").strip()
    if move.name != "reject":
        if code:
            raise ValidationError(
                {"decline_reason": gettext("Only a decline has a decline reason.")}
            )
        return ""
    if not code:
        return Referral.DeclineReason.OTHER
    if code not in Referral.DeclineReason.values:
        choices = ", ".join(Referral.DeclineReason.values)
        raise ValidationError({"decline_reason": f"Choose why you decline ({choices})."})
    return code


_WHO_MAY = {
    Side.SENDER: "the referring organization",
    Side.RECEIVER: "the receiving organization",
    Side.EITHER: "the sender or the receiver",
    Side.SYSTEM: "Linkage itself",
}


def _last_move_was(referral: Referral, actor, move: Move) -> bool:
    last = referral.events.filter(kind=ReferralEvent.Kind.TRANSITION).order_by("-id").first()
    if last is None or last.actor_id != getattr(actor, "pk", None):
        return False
    if move.target == Status.ON_HOLD:
        # "Put on hold" and "waitlist" both end on hold: only the same one is a repeat.
        return last.to_status == move.target and last.business_status == move.business_status
    return last.to_status == move.target


def what_happened(referral: Referral, move: Move) -> str:
    """Why `move` cannot be made: the referral's status now and who last changed it."""
    last = (
        referral.events.filter(kind=ReferralEvent.Kind.TRANSITION)
        .select_related("actor", "organization")
        .order_by("-id")
        .first()
    )
    status = referral.get_status_display()
    if referral.business_status == Referral.BusinessStatus.WAITLISTED:
        status = f"{status} (waitlisted)"
    if last is None:
        happened = f"This referral is “{status}”."
    else:
        when = timezone.localtime(last.occurred_at).strftime("%b %d at %H:%M")
        who = "Linkage" if last.actor is None else f"{last.actor} ({last.organization})"
        happened = f"{who} changed this referral to “{status}” on {when}."
    closed = " It is closed: only notes can be added." if referral.status in TERMINAL else ""
    return f"{happened}{closed} Your change (“{move.label}”) was not made."


# --- a routed referral and the referral it fulfils (referrals/coordination.py) -----------


def _lock_parent_first(referral_id: int) -> None:
    """Before a referral is locked: lock the referral it fulfils, if any, so every path
    takes the two locks in the same order (parent, then part)."""
    parent_id = Referral.objects.filter(pk=referral_id).values_list("part_of_id", flat=True).first()
    if parent_id is None:
        return
    take_write_lock(Referral, parent_id)
    list(Referral.objects.select_for_update().filter(pk=parent_id).values_list("pk", flat=True))


def _refuse_while_routed(referral: Referral, move: Move, organization: Organization | None) -> None:
    """A person's move on a referral a routed referral is fulfilling: only cancelling (or
    marking it entered in error) is theirs; the rest follows the routed referral.
    TransitionConflict (the page's "someone acted first": the routing happened after the
    page was shown) saying who routed it where."""
    if organization is None or move.name in WHILE_ROUTED:
        return
    if not referral.receiver_organization.is_backbone:
        return  # only what the backbone received is routed (referral_route)
    part = open_part(referral)
    if part is None:
        return
    raise TransitionConflict(
        f"{routed_by(part)} routed this referral to {part.program.name} "
        f"({part.receiver_organization.name}) as referral #{part.pk}: it follows that "
        f"referral now, and closes when it closes. Your change (“{move.label}”) was not made."
    )


def _after_move(referral: Referral, *, move: Move) -> None:
    """After a referral moved (inside its transaction, both locks held): reflect a routed
    referral's change on the referral it fulfils, or stop the open routed referral of a
    referral that was cancelled or marked entered in error."""
    if referral.part_of_id is not None and move.name != "relay_cancel":
        _reflect_on_whole(referral)
    if referral.status in STOPS_PARTS:
        _stop_parts(referral)


def _reflect_on_whole(part: Referral) -> None:
    whole = Referral.objects.get(pk=part.part_of_id)
    if whole.status in TERMINAL:
        return  # closed as it closed (read-only except notes)
    name = relay_for(part.status, part.business_status)
    relay = RELAYS.get(name) if name else None
    now = timezone.now()
    if relay is not None and whole.status in relay.sources:
        moved = referral_transition(
            referral_id=whole.pk,
            move=relay.name,
            actor=None,
            organization=None,
            reason=_relay_reason(relay.name, part),
            outcome=part.outcome if relay.name == "relay_complete" else "",
            outcome_note=part.outcome_note if relay.name == "relay_complete" else "",
            # What the program did is what was done for the source's referral too (its
            # FHIR Procedure shows the same code and date).
            resulting_activity=(
                Activity.from_json(part.resulting_activity)
                if relay.name == "relay_complete"
                else None
            ),
        )
        # The event referral_transition wrote is about the routed referral: tag it, so
        # pages show its details only to those who may see them.
        ReferralEvent.objects.filter(
            pk__in=moved.events.filter(kind=ReferralEvent.Kind.TRANSITION)
            .order_by("-id")
            .values("pk")[:1]
        ).update(subreferral=part)
        if relay.name == "relay_complete":
            # The source follows up with the client (on the whole); the backbone need not.
            Referral.objects.filter(pk=part.pk).update(follow_up_due_at=None, reminder_due_at=None)
            part.follow_up_due_at = part.reminder_due_at = None
    else:
        # The whole keeps its status (the routed program accepted, or the whole is already
        # there): the event tells its parties what moved.
        ReferralEvent.objects.create(
            referral=whole,
            kind=ReferralEvent.Kind.RELAYED,
            occurred_at=now,
            from_status=whole.status,
            to_status=part.status,
            business_status=part.business_status,
            reason=f"Referral #{part.pk} is now {part.get_status_display().lower()}.",
            subreferral=part,
        )
        Referral.objects.filter(pk=whole.pk).update(updated_at=now)
    if part.status in OPEN:
        Referral.objects.filter(pk=whole.pk, status__in=OPEN).update(**PAUSED_CLOCK)


def _relay_reason(name: str, part: Referral) -> str:
    """Linkage's own words on the whole (both its parties read them, and its
    notifications quote them): which routed referral moved, never a person's free text
    except the reason a routed referral failed, which closes the source's loop like an
    outcome does."""
    ref = f"referral #{part.pk}"
    if name == "relay_start":
        return f"The program it was routed to is working on it ({ref})."
    if name == "relay_waitlist":
        return f"Waitlisted at the program it was routed to ({ref})."
    if name == "relay_hold":
        return f"On hold at the program it was routed to ({ref})."
    if name == "relay_complete":
        return f"Completed by the program it was routed to ({ref})."
    if name == "relay_fail":
        why = f": {part.status_reason}" if part.status_reason else "."
        return f"Closed as failed by the program it was routed to ({ref}){why}"
    what = {
        Status.REJECTED: "declined it",
        Status.CANCELLED: "was cancelled",
        Status.ENTERED_IN_ERROR: "was marked entered in error",
    }.get(part.status, "closed")
    if part.status == Status.REJECTED:
        # The decline's code (not its explanation): the backbone chooses the next program.
        why = f": {part.get_decline_reason_display().lower()}" if part.decline_reason else ""
        return f"The program it was routed to {what} ({ref}){why}. The backbone routes it again."
    return f"The routed {ref} {what}. The backbone routes it again."


def _stop_parts(whole: Referral) -> None:
    what = "was cancelled" if whole.status == Status.CANCELLED else "was marked entered in error"
    for part_id in Referral.objects.filter(part_of_id=whole.pk, status__in=OPEN).values_list(
        "pk", flat=True
    ):
        referral_transition(
            referral_id=part_id,
            move="relay_cancel",
            actor=None,
            organization=None,
            reason=f"The referral this one fulfils (#{whole.pk}) {what}.",
        )


def routed_by(part: Referral) -> str:
    """Who routed `part`, and when (for the messages that refuse a second routing)."""
    who = part.sender_user or part.sender_organization
    when = timezone.localtime(part.created_at).strftime("%b %d at %H:%M")
    org = f" ({part.sender_organization.name})" if part.sender_user else ""
    return f"{who}{org} on {when}"
