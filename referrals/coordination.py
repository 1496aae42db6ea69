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

This module is the routing step itself (`referral_route`); whether a page offers it is
`selectors.may_route`. It sits on top of the referral writes: it sends the routed referral
through `services.referral_send` and moves referrals with `transitions.referral_transition`;
neither imports it. The reflection of a routed referral's moves on the whole runs inside
every move, so it lives with the state machine (referrals/transitions.py).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from audit.services import audit_record
from directory.models import Program
from organizations.models import Organization, User

from . import events, notifications
from .concepts import Concept
from .models import Referral, ReferralEvent
from .services import referral_send, refuse_duplicate
from .transitions import (
    PAUSED_CLOCK,
    TransitionConflict,
    open_part,
    referral_transition,
    require_carried_consent,
    routed_by,
    take_write_lock,
    what_happened,
)
from .workflow import ROUTABLE, Move, Side, Status

ROUTE = Move("route", "Assign to a program", ROUTABLE, Status.ACCEPTED, Side.RECEIVER)


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
    if not organization.is_backbone or referral.receiver_organization_id != organization.pk:
        raise PermissionDenied(
            gettext("Only the network's backbone routes the referrals it received to a program.")
        )
    take_write_lock(Referral, referral.pk)
    whole = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("client", "program", "receiver_organization", "sender_organization")
        .get(pk=referral.pk)
    )
    if whole.part_of_id is not None:
        raise PermissionDenied(
            gettext("A routed referral is not routed again: refer onward instead.")
        )
    # Someone routed it first: say who, where and when (checked before the status, which
    # the first routing may also have changed).
    part = open_part(whole)
    if part is not None:
        raise TransitionConflict(
            f"{routed_by(part)} already routed this referral to {part.program.name} "
            f"({part.receiver_organization.name}) as referral #{part.pk}. "
            "Your routing was not made."
        )
    stale = bool(expected_status) and whole.status != expected_status
    if stale or whole.status not in ROUTABLE:
        raise TransitionConflict(what_happened(whole, ROUTE))
    target = program.organization
    if target.pk == organization.pk:
        raise ValidationError(
            {"program": gettext("Route to a program of another organization in the network.")}
        )
    if target.network_id != whole.network_id:
        raise ValidationError({"program": gettext("That program is not in this client's network.")})
    now = timezone.now()
    # The program's organization must be covered like any receiver: checked before any
    # write, so the refusal says only that (referral_send checks again).
    require_carried_consent(whole.client, target, now)
    refuse_duplicate(whole.client, program)
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
        **PAUSED_CLOCK,
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
