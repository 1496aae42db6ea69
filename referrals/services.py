"""Writes for referrals: send, log inbound, move through the state machine, notes, contacts.

Every state change follows one shape (STYLE.md 5): lock the row, re-check, act, save with
update_fields, write the event and the audit entry, and queue notifications after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from consent import policy
from consent.categories import Category
from organizations.models import Organization, Program, User
from organizations.sdoh import CapacityState, SDOHCategory

from . import coordination, events, notifications
from .concepts import Activity, Concept, clean_concept
from .coordination import referral_route  # noqa: F401 (the backbone's routing step)
from .models import Referral, ReferralEvent, ReferralNeed, ReferralNote
from .reminders import schedule
from .reminders.calendar import add_business_days  # noqa: F401 (callers import it from here)
from .reminders.rules import DEFAULT_RULES
from .workflow import (
    MOVES,
    NEEDS_CONSENT,
    OPEN,
    RELAYS,
    TERMINAL,
    WHILE_ROUTED,
    Move,
    Side,
    Status,
    side_allows,
)

# What a referral carries to the receiver, so what a release must let the receiver see:
# who the client is and how to reach them, the needs, and the referral itself.
CARRIED_CATEGORIES = (Category.DEMOGRAPHICS, Category.SOCIAL_NEEDS, Category.REFERRALS)

# Linkage's defaults; the rules in force are the network's or a partnership's
# (reminders/rules.py), applied when a referral is sent, accepted or updated.
ACK_BUSINESS_DAYS = DEFAULT_RULES.ack_business_days
UPDATE_EVERY_DAYS = DEFAULT_RULES.update_every_days
FOLLOW_UP_AFTER_DAYS = DEFAULT_RULES.follow_up_after_days


class ConsentMissing(ValidationError):
    """The receiver is not covered by an active release for what the referral carries."""

    def __init__(self, receiver: Organization, missing: list[Category]):
        self.receiver = receiver
        self.missing = missing
        names = ", ".join(str(c.label).lower() for c in missing)
        super().__init__(
            f"{receiver.name} may not see this client's {names}: no active release of "
            "information names them. Capture a release that names them first."
        )


class DuplicateReferral(ValidationError):
    """An open referral for this client to this program exists already."""

    def __init__(self, existing: Referral):
        self.existing = existing
        super().__init__(
            f"This client already has an open referral to {existing.program.name} "
            f"(referral #{existing.pk}, {existing.get_status_display().lower()})."
        )


class TransitionConflict(ValidationError):
    """The referral moved on while the user was looking at it; the message says how."""


def _carried(referral: Referral) -> tuple[Category, ...]:
    """What the receiver must be allowed to see to work the referral. A logged inbound
    referral carries nothing from a sender on Linkage: the receiver needs only to be able
    to see who the client is (as when it was logged)."""
    if referral.sender_organization_id is None:
        return (Category.DEMOGRAPHICS,)
    return CARRIED_CATEGORIES


def _require_carried_consent(
    client,
    receiver: Organization,
    at: datetime,
    categories=CARRIED_CATEGORIES,
    *,
    sender_id: int | None = None,
):
    if sender_id == receiver.pk:
        # A referral to one of the sender's own programs discloses nothing to anyone.
        return None
    missing = [c for c in categories if not policy.may_see(receiver, c, client, at)]
    if missing:
        raise ConsentMissing(receiver, missing)
    return (
        policy.covering_releases(receiver, Category.REFERRALS, at)
        .filter(client_id=client.pk)
        .order_by("-expires_at")
        .first()
    )


def _validate_needs(needs: Iterable[str]) -> list[str]:
    codes = sorted(set(needs))
    unknown = [c for c in codes if c not in SDOHCategory.values]
    if unknown:
        raise ValidationError({"needs": f"Unknown need code(s): {', '.join(unknown)}."})
    if not codes:
        raise ValidationError({"needs": "Choose at least one need."})
    return codes


def _validate_urgency(urgency: str) -> str:
    if urgency not in Referral.Urgency.values:
        raise ValidationError({"urgency": "Choose routine or urgent."})
    return urgency


def _take_write_lock(model, pk: int, field: str = "updated_at") -> None:
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


def _open_duplicate(client, program) -> Referral | None:
    return (
        Referral.objects.filter(client=client, program=program, status__in=OPEN)
        .select_related("program")
        .first()
    )


def _program_state(program: Program) -> CapacityState:
    from organizations.directory_selectors import with_open_referrals

    return with_open_referrals(Program.objects.filter(pk=program.pk)).get().capacity_state


@transaction.atomic
def referral_send(
    *,
    client,
    program: Program,
    sender_organization: Organization,
    sender_user: User,
    needs: Iterable[str],
    reason: str = "",
    urgency: str = Referral.Urgency.ROUTINE,
    do_not_contact: bool = False,
    assessment=None,
    referred_from: Referral | None = None,
    part_of: Referral | None = None,
    requested_service: Concept | None = None,
) -> Referral:
    """Send a referral for `client` to `program` on behalf of `sender_organization`.
    `part_of` is set by the backbone's routing only (coordination.referral_route).
    `requested_service` is the service asked for as the sending system codes it (FHIR
    ServiceRequest.code); without it the program's service is what is asked for.

    Refused (ValidationError subclasses, nothing written) when: the sender may not see the
    client; the program is in another network or closed to referrals; the urgency or a
    need code is unknown; `referred_from` (referring onward) is not a referral of this
    client that the sender received; an open referral for the same client and program
    exists (DuplicateReferral, with the open one); or no active release lets the receiver
    see what a referral carries (ConsentMissing); or the requested service is not a
    well-formed concept.
    """
    _take_write_lock(Program, program.pk)
    now = timezone.now()
    service = clean_concept(requested_service, field="requested_service")
    if client.network_id != sender_organization.network_id or not policy.may_see(
        sender_organization, Category.DEMOGRAPHICS, client, now
    ):
        raise PermissionDenied("You may not refer this client.")
    receiver = program.organization
    if receiver.network_id != client.network_id:
        raise ValidationError({"program": "That program is not in this client's network."})
    if not receiver.is_active or _program_state(program) == CapacityState.CLOSED:
        raise ValidationError({"program": f"{program.name} is not accepting referrals now."})
    codes = _validate_needs(needs)
    _validate_urgency(urgency)
    if referred_from is not None and (
        referred_from.receiver_organization_id != sender_organization.pk
        or referred_from.client_id != client.pk
    ):
        # The chain records who passed the client on: only the receiver of the earlier
        # referral, for the same client, can refer onward from it.
        raise ValidationError(
            {"referred_from": "Refer onward only from a referral of this client you received."}
        )
    if part_of is not None and (
        part_of.receiver_organization_id != sender_organization.pk or part_of.client_id != client.pk
    ):
        raise ValidationError({"part_of": "Route only a referral of this client you received."})
    existing = _open_duplicate(client, program)
    if existing is not None:
        raise DuplicateReferral(existing)
    release = _require_carried_consent(client, receiver, now, sender_id=sender_organization.pk)
    referral = Referral(
        network_id=client.network_id,
        client=client,
        sender_organization=sender_organization,
        sender_user=sender_user,
        source=Referral.Source.PLATFORM,
        receiver_organization=receiver,
        program=program,
        reason=reason,
        requested_service=service,
        urgency=urgency,
        do_not_contact=do_not_contact,
        release=release,
        assessment=assessment,
        referred_from=referred_from,
        part_of=part_of,
        status=Status.REQUESTED,
        created_at=now,
        updated_at=now,
        sent_at=now,
    )
    referral.ack_due_at = schedule.ack_due(referral, now)
    schedule.restart_reminders(referral, at=now)
    return _insert(referral, codes, actor=sender_user, organization=sender_organization)


@transaction.atomic
def referral_log_inbound(
    *,
    client,
    program: Program,
    actor: User,
    organization: Organization,
    source: str,
    external_sender: str = "",
    needs: Iterable[str],
    reason: str = "",
    urgency: str = Referral.Urgency.ROUTINE,
    do_not_contact: bool = False,
    received_at: datetime | None = None,
) -> Referral:
    """Record a referral that reached `organization` outside Linkage (fax, phone, walk-in,
    self-referral), so it is worked and counted like any other. The receiver must be able
    to see the client (its own record, or a release naming it)."""
    _take_write_lock(Program, program.pk)
    now = timezone.now()
    if program.organization_id != organization.pk:
        raise ValidationError({"program": "Log referrals to your own organization's programs."})
    if source == Referral.Source.PLATFORM or source not in Referral.Source.values:
        raise ValidationError({"source": "Say how the referral arrived."})
    if not policy.may_see(organization, Category.DEMOGRAPHICS, client, now):
        raise PermissionDenied("You may not see this client.")
    codes = _validate_needs(needs)
    _validate_urgency(urgency)
    existing = _open_duplicate(client, program)
    if existing is not None:
        raise DuplicateReferral(existing)
    received_at = received_at or now
    if received_at > now:
        raise ValidationError({"received_at": "The referral cannot arrive in the future."})
    referral = Referral(
        network_id=client.network_id,
        client=client,
        external_sender=external_sender.strip(),
        source=source,
        receiver_organization=organization,
        program=program,
        reason=reason,
        urgency=urgency,
        do_not_contact=do_not_contact,
        status=Status.REQUESTED,
        created_at=now,
        updated_at=now,
        sent_at=received_at,
        opened_at=now,
        business_status=Referral.BusinessStatus.OPENED,
    )
    referral.ack_due_at = schedule.ack_due(referral, received_at)
    schedule.restart_reminders(referral, at=received_at)
    return _insert(referral, codes, actor=actor, organization=organization)


def _insert(referral: Referral, codes: list[str], *, actor, organization) -> Referral:
    try:
        # A savepoint: a racing duplicate (double-click) fails here alone, and the caller
        # gets the open referral instead of a server error.
        with transaction.atomic():
            referral.save(force_insert=True)
    except IntegrityError:
        existing = _open_duplicate(referral.client, referral.program)
        if existing is None:
            raise
        raise DuplicateReferral(existing) from None
    ReferralNeed.objects.bulk_create([ReferralNeed(referral=referral, code=c) for c in codes])
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.CREATED,
        actor=actor,
        organization=organization,
        occurred_at=referral.created_at,
        to_status=referral.status,
        reason=referral.get_source_display(),
    )
    audit_record(
        action="create",
        object_type="referral",
        object_ids=[referral.pk],
        client_ids=[referral.client_id],
        actor=actor,
        organization=organization,
        detail={"source": referral.source, "needs": codes},
    )
    notifications.referral_created(referral, actor=actor)
    events.status_changed(referral)
    return referral


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
    if moves and referral.status in OPEN and coordination.open_part(referral) is not None:
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
) -> Referral:
    """Make one move of the state machine, as one transaction holding the row lock.

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
    coordination.lock_parent_first(referral_id)
    _take_write_lock(Referral, referral_id)
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("program", "sender_organization", "receiver_organization", "client")
        .get(pk=referral_id)
    )
    if organization is None and chosen.side != Side.SYSTEM:
        raise PermissionDenied("Only people act on referrals.")
    if organization is not None:
        is_sender, is_receiver = _sides(referral, organization)
        if not (is_sender or is_receiver):
            raise PermissionDenied("Only the sender and the receiver act on a referral.")
        if not side_allows(chosen, is_sender=is_sender, is_receiver=is_receiver):
            raise PermissionDenied(
                f"“{chosen.label}” is not yours to do: {_WHO_MAY[chosen.side]} makes this move."
            )
        coordination.refuse_while_routed(referral, chosen, organization)
    stale = bool(expected_status) and referral.status != expected_status
    if stale or referral.status not in chosen.sources:
        if referral.status == chosen.target and _last_move_was(referral, actor, chosen):
            return referral  # the same person's double click: it happened once
        raise TransitionConflict(_what_happened(referral, chosen))
    reason = reason.strip()
    decline_reason = _decline_reason(chosen, decline_reason)
    # A decline's code says why; only "other" needs the words too.
    coded = bool(decline_reason) and decline_reason != Referral.DeclineReason.OTHER
    if chosen.reason_required and not reason and not coded:
        if decline_reason:
            raise ValidationError(
                {"reason": "Say why you decline: the reason “Other” needs an explanation."}
            )
        raise ValidationError({"reason": f"Say why ({chosen.label.lower()})."})
    if chosen.outcome_required and outcome not in Referral.Outcome.values:
        raise ValidationError({"outcome": "Choose the outcome."})
    if resulting_activity is not None and chosen.target != Status.COMPLETED:
        raise ValidationError(
            {"resulting_activity": "What was done is recorded when the referral is completed."}
        )
    activity = clean_concept(resulting_activity, field="resulting_activity")
    now = timezone.now()
    release = None
    if chosen.name in NEEDS_CONSENT:
        release = _require_carried_consent(
            referral.client,
            referral.receiver_organization,
            now,
            _carried(referral),
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
        },
    )
    if chosen.name == "send":
        notifications.referral_created(referral, actor=actor)
    else:
        notifications.referral_moved(referral, before=before, actor=actor, move=chosen.name)
    events.status_changed(referral)
    coordination.after_move(referral, move=chosen)
    return referral


def _decline_reason(move: Move, code: str) -> str:
    """The decline reason a move records: a known code for a decline ("other" when none is
    given), nothing for any other move (refused if one is given)."""
    code = (code or "").strip()
    if move.name != "reject":
        if code:
            raise ValidationError({"decline_reason": "Only a decline has a decline reason."})
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


def _what_happened(referral: Referral, move: Move) -> str:
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


def _require_party(referral: Referral, organization: Organization) -> None:
    if organization.pk not in (referral.sender_organization_id, referral.receiver_organization_id):
        raise PermissionDenied("Only the sender and the receiver work on a referral.")


@transaction.atomic
def referral_mark_opened(*, referral: Referral, actor: User, organization: Organization) -> bool:
    """The receiver has opened the referral (FHIR has no `received` status for referrals:
    a timestamp and businessStatus say it). Returns False when it was opened before."""
    if organization.pk != referral.receiver_organization_id:
        return False
    # A closed referral stays as it closed (read-only except notes).
    updated = Referral.objects.filter(
        pk=referral.pk, opened_at__isnull=True, status__in=OPEN
    ).update(
        opened_at=timezone.now(),
        business_status=Referral.BusinessStatus.OPENED,
        updated_at=timezone.now(),
    )
    if updated:
        ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.OPENED,
            actor=actor,
            organization=organization,
            business_status=Referral.BusinessStatus.OPENED,
        )
        referral.refresh_from_db(fields=["opened_at", "business_status", "updated_at"])
    return bool(updated)


@transaction.atomic
def referral_record_contact(
    *,
    referral: Referral,
    actor: User,
    organization: Organization,
    contact_type: str,
    successful: bool,
    note: str = "",
) -> ReferralEvent:
    """A contact with the client (an encounter measures count). Receiver only; refused for
    closed referrals, when the receiver may no longer see who the client is (a revoked
    release), and, when the referral says not to contact the client, refused with the
    reason."""
    if organization.pk != referral.receiver_organization_id:
        raise PermissionDenied("Only the receiving organization records contacts.")
    _take_write_lock(Referral, referral.pk)
    locked = Referral.objects.select_for_update().select_related("client").get(pk=referral.pk)
    if locked.status in TERMINAL:
        raise ValidationError("This referral is closed: only notes can be added.")
    if locked.do_not_contact:
        raise ValidationError(
            "Do not contact the client: the referring organization asked that nobody reach "
            "out to the client directly (for the client's safety). Work through the sender."
        )
    _require_carried_consent(locked.client, organization, timezone.now(), (Category.DEMOGRAPHICS,))
    if contact_type not in ReferralEvent.ContactType.values:
        raise ValidationError({"contact_type": "Choose how the contact was made."})
    event = ReferralEvent.objects.create(
        referral=locked,
        kind=ReferralEvent.Kind.CONTACT,
        actor=actor,
        organization=organization,
        contact_type=contact_type,
        contact_successful=successful,
        business_status=Referral.BusinessStatus.CONTACTED if successful else "",
        reason=note.strip(),
    )
    fields = ["updated_at"]
    locked.updated_at = timezone.now()
    if successful:
        locked.business_status = Referral.BusinessStatus.CONTACTED
        fields.append("business_status")
    if locked.status in {Status.ACCEPTED, Status.IN_PROGRESS}:
        locked.update_due_at = schedule.update_due(locked, locked.updated_at)
        fields.append("update_due_at")
        fields += schedule.restart_reminders(locked, at=locked.updated_at)
    locked.save(update_fields=fields)
    audit_record(
        action="update",
        object_type="referral",
        object_ids=[locked.pk],
        client_ids=[locked.client_id],
        actor=actor,
        organization=organization,
        detail={"contact": contact_type, "successful": successful},
    )
    notifications.referral_contact_recorded(locked, actor=actor)
    return event


@transaction.atomic
def referral_assign(
    *, referral: Referral, assignee: User | None, actor: User, organization: Organization
) -> Referral:
    """Assign the referral to a staff member of the receiving organization (open referrals
    only: a closed one is read-only except notes)."""
    if organization.pk != referral.receiver_organization_id:
        raise PermissionDenied("Only the receiving organization assigns its staff.")
    if (
        assignee is not None
        and not assignee.memberships.filter(organization=organization, is_active=True).exists()
    ):
        raise ValidationError({"assigned_to": "Choose someone in your organization."})
    _take_write_lock(Referral, referral.pk)
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.status in TERMINAL:
        raise ValidationError("This referral is closed: only notes can be added.")
    locked.assigned_to = assignee
    locked.updated_at = timezone.now()
    locked.save(update_fields=["assigned_to", "updated_at"])
    ReferralEvent.objects.create(
        referral=locked,
        kind=ReferralEvent.Kind.ASSIGNED,
        actor=actor,
        organization=organization,
        reason=str(assignee) if assignee else "Unassigned",
    )
    audit_record(
        action="update",
        object_type="referral",
        object_ids=[locked.pk],
        client_ids=[locked.client_id],
        actor=actor,
        organization=organization,
        detail={"fields": ["assigned_to"]},
    )
    return locked


@transaction.atomic
def referral_note_add(
    *, referral: Referral, author: User, organization: Organization, body: str
) -> ReferralNote:
    """A note in the thread between sender and receiver; allowed on closed referrals too."""
    _require_party(referral, organization)
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write the note first."})
    note = ReferralNote.objects.create(
        referral=referral, author=author, organization=organization, body=body
    )
    Referral.objects.filter(pk=referral.pk).update(updated_at=note.created_at)
    audit_record(
        action="update",
        object_type="referral",
        object_ids=[referral.pk],
        client_ids=[referral.client_id],
        actor=author,
        organization=organization,
        detail={"note": note.pk},
    )
    notifications.referral_note_added(referral, note)
    events.note_added(note)
    return note


RELEASE_REVOKED = "The client's release of information was revoked."
RELEASE_EXPIRED = "The client's release of information expired."


def referrals_hold_for_release(release_id: int, *, reason: str = RELEASE_REVOKED) -> list[int]:
    """A release ended (revoked, or expired): open referrals whose receiver it covered and
    that no other release still covers go on hold, and both sides are told. Returns their
    ids."""
    from consent.models import Release

    release = Release.objects.filter(pk=release_id).first()
    if release is None:
        return []
    held = []
    candidates = Referral.objects.filter(
        client_id=release.client_id,
        status__in=[Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS],
    ).select_related("receiver_organization", "client")
    for referral in candidates:
        receiver = referral.receiver_organization
        if referral.sender_organization_id == receiver.pk or all(
            policy.may_see(receiver, c, referral.client) for c in _carried(referral)
        ):
            continue
        try:
            referral_transition(
                referral_id=referral.pk,
                move="consent_hold",
                actor=None,
                organization=None,
                reason=reason,
            )
        except TransitionConflict:
            # Closed (or put on hold) by someone between the listing and the row lock:
            # nothing left to hold, and the other referrals must still be held.
            continue
        held.append(referral.pk)
    return held


@transaction.atomic
def notifications_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of `user`'s notifications read, or all of them when `notification_id` is
    None. Nobody else's notification is touched. Returns how many changed."""
    from .models import Notification

    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
