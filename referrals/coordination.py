"""The backbone as coordination platform: the SDOH Clinical Care IG's indirect referral.

A clinic sends a referral to the backbone's coordination program; backbone staff route it
("assign to a program") to a program of another organization. Routing creates a second
referral, from the backbone to that program, that is `part_of` the first — on FHIR the
backbone's ServiceRequest (intent filler-order, basedOn the source's) and a Task partOf
the source Task. The IG calls this "two direct referrals chained together": each is worked
by its own two parties with the same state machine, consent rules and notifications.

What ties them (the mapping is the table in workflow.py, RELAYS):

- Routing is the backbone's acceptance: a `requested` referral becomes `accepted`.
- The routed referral's status changes are reflected on the one it fulfils by Linkage
  itself (system moves), in the same transaction, with an event on both: in progress, on
  hold or waitlisted, completed with the same outcome, note and resulting activity,
  failed. A declined, cancelled or entered-in-error routed referral sends the whole back
  to the backbone's queue (accepted, business status "rerouting") to route again; it is
  never closed for it.
- Cancelling the whole (or marking it entered in error) cancels its open routed referral.
- While a routed referral is open, the whole's receiver (the backbone) may only cancel it:
  completing, failing or holding it is the routed program's to do.

Locks are always taken parent first, then the part (referral_transition locks the parent
of the referral it moves before the referral itself), so a clinic cancelling and a CBO
completing at the same moment queue on the parent's row instead of deadlocking.

The referral services call the three hooks below (`lock_parent_first`,
`refuse_while_routed`, `after_move`); `referral_route` is the routing step itself.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import audit_record
from organizations.models import Organization, Program, User

from . import events, notifications
from .concepts import Activity, Concept
from .models import Referral, ReferralEvent
from .workflow import (
    OPEN,
    RELAYS,
    ROUTABLE,
    STOPS_PARTS,
    TERMINAL,
    WHILE_ROUTED,
    Move,
    Side,
    Status,
    relay_for,
)

ROUTE = Move("route", "Assign to a program", ROUTABLE, Status.ACCEPTED, Side.RECEIVER)

# Clocks the backbone does not owe while a routed referral is worked: the routed
# program's own reminders run on the routed referral.
_PAUSED_CLOCK = {
    "ack_due_at": None,
    "update_due_at": None,
    "reminder_due_at": None,
    "waiting_since": None,
    "overdue_count": 0,
    "escalated_at": None,
}


def open_part(referral: Referral) -> Referral | None:
    """The routed referral currently fulfilling `referral` (at most one is open)."""
    return (
        Referral.objects.filter(part_of_id=referral.pk, status__in=OPEN)
        .select_related("program", "receiver_organization", "sender_user", "sender_organization")
        .order_by("-id")
        .first()
    )


def may_route(referral: Referral, organization: Organization) -> bool:
    """Whether `organization` may route `referral` now (for the page's button): it is the
    network's backbone and received it, it is open in a routable status, and nothing
    routed is open for it. The service checks again under the lock."""
    return (
        organization.is_backbone
        and referral.receiver_organization_id == organization.pk
        and referral.part_of_id is None
        and referral.status in ROUTABLE
        and open_part(referral) is None
    )


# --- hooks called by services.referral_transition ---------------------------------------


def lock_parent_first(referral_id: int) -> None:
    """Before a referral is locked: lock the referral it fulfils, if any, so every path
    takes the two locks in the same order (parent, then part)."""
    from .services import _take_write_lock

    parent_id = Referral.objects.filter(pk=referral_id).values_list("part_of_id", flat=True).first()
    if parent_id is None:
        return
    _take_write_lock(Referral, parent_id)
    list(Referral.objects.select_for_update().filter(pk=parent_id).values_list("pk", flat=True))


def refuse_while_routed(referral: Referral, move: Move, organization: Organization | None) -> None:
    """A person's move on a referral a routed referral is fulfilling: only cancelling (or
    marking it entered in error) is theirs; the rest follows the routed referral.
    TransitionConflict (the page's "someone acted first": the routing happened after the
    page was shown) saying who routed it where."""
    from .services import TransitionConflict

    if organization is None or move.name in WHILE_ROUTED:
        return
    if not referral.receiver_organization.is_backbone:
        return  # only what the backbone received is routed (referral_route)
    part = open_part(referral)
    if part is None:
        return
    raise TransitionConflict(
        f"{_routed_by(part)} routed this referral to {part.program.name} "
        f"({part.receiver_organization.name}) as referral #{part.pk}: it follows that "
        f"referral now, and closes when it closes. Your change (“{move.label}”) was not made."
    )


def after_move(referral: Referral, *, move: Move) -> None:
    """After a referral moved (inside its transaction, both locks held): reflect a routed
    referral's change on the referral it fulfils, or stop the open routed referral of a
    referral that was cancelled or marked entered in error."""
    if referral.part_of_id is not None and move.name != "relay_cancel":
        _reflect_on_whole(referral)
    if referral.status in STOPS_PARTS:
        _stop_parts(referral)


def _reflect_on_whole(part: Referral) -> None:
    from .services import referral_transition

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
        Referral.objects.filter(pk=whole.pk, status__in=OPEN).update(**_PAUSED_CLOCK)


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
    from .services import referral_transition

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


def _routed_by(part: Referral) -> str:
    who = part.sender_user or part.sender_organization
    when = timezone.localtime(part.created_at).strftime("%b %d at %H:%M")
    org = f" ({part.sender_organization.name})" if part.sender_user else ""
    return f"{who}{org} on {when}"


# --- the routing step ---------------------------------------------------------------------


@transaction.atomic
def referral_route(
    *,
    referral: Referral,
    program: Program,
    actor: User,
    organization: Organization,
    reason: str = "",
    requested_service: Concept | None = None,
    expected_status: str | None = None,
) -> Referral:
    """Route `referral`, received by the backbone `organization`, to `program` ("assign
    to a program"): a new referral from the backbone to the program, `part_of` this one,
    for the same client and needs, with the same urgency, do-not-contact flag and
    assessment, `reason` as the note for the program, and `requested_service` (the
    backbone's own coding of it; by default the source's). A `requested` referral is
    accepted by the routing. Returns the routed referral.

    Refused (raises, writes nothing): PermissionDenied unless `organization` is the
    network's backbone and the referral's receiver; TransitionConflict when the referral
    is no longer routable (closed, on hold, or `expected_status` is stale) or someone
    routed it meanwhile (the message says who, where and when); ValidationError for the
    backbone's own program or one of another network; and, from the send rules, a
    program that is closed to referrals, DuplicateReferral (an open referral of this
    client to that program exists), ConsentMissing (no active release lets the program's
    organization see what a referral carries).
    """
    from .services import (
        DuplicateReferral,
        TransitionConflict,
        _open_duplicate,
        _require_carried_consent,
        _take_write_lock,
        _what_happened,
        referral_send,
        referral_transition,
    )

    if not organization.is_backbone or referral.receiver_organization_id != organization.pk:
        raise PermissionDenied(
            "Only the network's backbone routes the referrals it received to a program."
        )
    _take_write_lock(Referral, referral.pk)
    whole = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("client", "program", "receiver_organization", "sender_organization")
        .get(pk=referral.pk)
    )
    if whole.part_of_id is not None:
        raise PermissionDenied("A routed referral is not routed again: refer onward instead.")
    # Someone routed it first: say who, where and when (checked before the status, which
    # the first routing may also have changed).
    part = open_part(whole)
    if part is not None:
        raise TransitionConflict(
            f"{_routed_by(part)} already routed this referral to {part.program.name} "
            f"({part.receiver_organization.name}) as referral #{part.pk}. "
            "Your routing was not made."
        )
    stale = bool(expected_status) and whole.status != expected_status
    if stale or whole.status not in ROUTABLE:
        raise TransitionConflict(_what_happened(whole, ROUTE))
    target = program.organization
    if target.pk == organization.pk:
        raise ValidationError(
            {"program": "Route to a program of another organization in the network."}
        )
    if target.network_id != whole.network_id:
        raise ValidationError({"program": "That program is not in this client's network."})
    now = timezone.now()
    # The program's organization must be covered like any receiver: checked before any
    # write, so the refusal says only that (referral_send checks again).
    _require_carried_consent(whole.client, target, now)
    existing = _open_duplicate(whole.client, program)
    if existing is not None:
        raise DuplicateReferral(existing)
    if whole.status == Status.REQUESTED:
        # Routing is the backbone's acceptance of the source's referral (the IG: the
        # coordination platform accepts the Task, then creates its own for the target).
        whole = referral_transition(
            referral_id=whole.pk, move="accept", actor=actor, organization=organization
        )
    part = referral_send(
        client=whole.client,
        program=program,
        sender_organization=organization,
        sender_user=actor,
        needs=list(whole.needs.values_list("code", flat=True)),
        reason=reason.strip(),
        urgency=whole.urgency,
        do_not_contact=whole.do_not_contact,
        assessment=whole.assessment,
        part_of=whole,
        requested_service=(
            requested_service
            if requested_service is not None
            else Concept.from_json(whole.requested_service)
        ),
    )
    ReferralEvent.objects.create(
        referral=whole,
        kind=ReferralEvent.Kind.ROUTED,
        actor=actor,
        organization=organization,
        occurred_at=part.created_at,  # after the acceptance, in the timeline's order
        from_status=whole.status,
        to_status=whole.status,
        business_status=Referral.BusinessStatus.ROUTED,
        reason=f"{program.name}, {target.name} (referral #{part.pk})",
        subreferral=part,
    )
    Referral.objects.filter(pk=whole.pk).update(
        business_status=Referral.BusinessStatus.ROUTED,
        updated_at=now,
        # Routing it is having opened it (so a later first look does not overwrite the
        # business status with "opened").
        opened_at=Coalesce(F("opened_at"), now),
        **_PAUSED_CLOCK,
    )
    whole.business_status = Referral.BusinessStatus.ROUTED
    events.status_changed(whole)
    audit_record(
        action="update",
        object_type="referral",
        object_ids=[whole.pk],
        client_ids=[whole.client_id],
        actor=actor,
        organization=organization,
        detail={"routed_to": part.pk, "program": program.pk},
    )
    notifications.referral_routed(whole, actor=actor)
    return part
