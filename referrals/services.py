"""Writes for referrals: send, log inbound, move through the state machine, notes, contacts.

Every state change follows one shape (STYLE.md 5): lock the row, re-check, act, save with
update_fields, write the event and the audit entry, and queue notifications after commit.
The state machine itself (`referral_transition`) and the refusals every path raises live
one floor down, in referrals/transitions.py; they are importable from here too. The
backbone's routing step (referrals/coordination.py) builds on this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit.services import audit_record
from clients.models import Client
from consent import policy
from consent.categories import Category
from directory.capacity import CapacityState
from directory.models import Program
from organizations.models import Organization, User
from organizations.sdoh import SDOHCategory

from . import events, notifications
from .concepts import Concept, clean_concept
from .models import Referral, ReferralEvent, ReferralNeed, ReferralNote
from .reminders import schedule
from .reminders.calendar import add_business_days  # noqa: F401 (callers import it from here)
from .reminders.rules import DEFAULT_RULES
from .transitions import (  # noqa: F401 (callers import the state machine from here)
    CARRIED_CATEGORIES,
    ConsentMissing,
    DuplicateReferral,
    TransitionConflict,
    allowed_moves,
    carried,
    referral_transition,
    require_carried_consent,
    take_write_lock,
)
from .workflow import OPEN, TERMINAL, WORKING, Status

# Linkage's defaults; the rules in force are the network's or a partnership's
# (reminders/rules.py), applied when a referral is sent, accepted or updated.
ACK_BUSINESS_DAYS = DEFAULT_RULES.ack_business_days
UPDATE_EVERY_DAYS = DEFAULT_RULES.update_every_days
FOLLOW_UP_AFTER_DAYS = DEFAULT_RULES.follow_up_after_days


def _validate_needs(needs: Iterable[str]) -> list[str]:
    codes = sorted(set(needs))
    unknown = [c for c in codes if c not in SDOHCategory.values]
    if unknown:
        raise ValidationError({"needs": f"Unknown need code(s): {', '.join(unknown)}."})
    if not codes:
        raise ValidationError({"needs": gettext("Choose at least one need.")})
    return codes


def _validate_urgency(urgency: str) -> str:
    if urgency not in Referral.Urgency.values:
        raise ValidationError({"urgency": gettext("Choose routine or urgent.")})
    return urgency


def _open_duplicate(client, program, receiver: Organization | None = None) -> Referral | None:
    if program is None:
        # The intake queue's guard: one open referral per client awaiting the receiver's
        # choice of program.
        found = Referral.objects.filter(
            client=client, receiver_organization=receiver, program__isnull=True
        )
    else:
        found = Referral.objects.filter(client=client, program=program)
    return found.filter(status__in=OPEN).select_related("program", "receiver_organization").first()


def _program_state(program: Program) -> CapacityState:
    from .selectors import with_open_referrals

    return with_open_referrals(Program.objects.filter(pk=program.pk)).get().capacity_state


@transaction.atomic
def referral_send(
    *,
    client,
    program: Program | None,
    sender_organization: Organization,
    sender_user: User,
    needs: Iterable[str],
    receiver_organization: Organization | None = None,
    reason: str = "",
    urgency: str = Referral.Urgency.ROUTINE,
    do_not_contact: bool = False,
    assessment=None,
    referred_from: Referral | None = None,
    part_of: Referral | None = None,
    requested_service: Concept | None = None,
    draft: bool = False,
) -> Referral:
    """Send a referral for `client` to `program` on behalf of `sender_organization`.
    `draft`: check everything but the release and keep the referral as a draft, unsent
    (it waits for a release the client signs by link: consent_waiting sends it then).
    `part_of` is set by the backbone's routing only (coordination.referral_route).
    `requested_service` is the service asked for as the sending system codes it (FHIR
    ServiceRequest.code); without it the program's service is what is asked for.
    With `program` None the referral is addressed to `receiver_organization` and waits in
    its intake queue: the receiver chooses the program when accepting.

    Refused (ValidationError subclasses, nothing written) when: the sender may not see the
    client; the program is in another network or closed to referrals; the urgency or a
    need code is unknown; `referred_from` (referring onward) is not a referral of this
    client that the sender received; an open referral for the same client and program
    exists (DuplicateReferral, with the open one); or no active release lets the receiver
    see what a referral carries (ConsentMissing); or the requested service is not a
    well-formed concept; or the program's age limits exclude the client (with why).
    """
    if program is None:
        if receiver_organization is None:
            raise ValidationError({"program": gettext("Choose a program, or the organization.")})
        take_write_lock(Organization, receiver_organization.pk, field="name")
    else:
        take_write_lock(Program, program.pk)
    now = timezone.now()
    service = clean_concept(requested_service, field="requested_service")
    if client.network_id != sender_organization.network_id or not policy.may_see(
        sender_organization, Category.DEMOGRAPHICS, client, now
    ):
        raise PermissionDenied(gettext("You may not refer this client."))
    if program is None:
        receiver = receiver_organization
        _check_intake(receiver, client)
    else:
        receiver = program.organization
        if receiver_organization is not None and receiver_organization.pk != receiver.pk:
            raise ValidationError(
                {
                    "program": gettext("%(program)s is not a program of %(organization)s.")
                    % {"program": program.name, "organization": receiver_organization.name}
                }
            )
        if receiver.network_id != client.network_id:
            raise ValidationError(
                {"program": gettext("That program is not in this client's network.")}
            )
        if not receiver.is_active or _program_state(program) == CapacityState.CLOSED:
            raise ValidationError({"program": f"{program.name} is not accepting referrals now."})
        refusal = program.age_refusal(client.age_at(now))
        if refusal:
            raise ValidationError({"program": f"Not eligible: {refusal}"})
    codes = _validate_needs(needs)
    _validate_urgency(urgency)
    if referred_from is not None and (
        referred_from.receiver_organization_id != sender_organization.pk
        or referred_from.client_id != client.pk
    ):
        # The chain records who passed the client on: only the receiver of the earlier
        # referral, for the same client, can refer onward from it.
        raise ValidationError(
            {
                "referred_from": gettext(
                    "Refer onward only from a referral of this client you received."
                )
            }
        )
    if part_of is not None and (
        part_of.receiver_organization_id != sender_organization.pk or part_of.client_id != client.pk
    ):
        raise ValidationError(
            {"part_of": gettext("Route only a referral of this client you received.")}
        )
    return _referral_create(
        client=client,
        program=program,
        receiver=receiver,
        codes=codes,
        actor=sender_user,
        organization=sender_organization,
        sender_organization=sender_organization,
        source=Referral.Source.PLATFORM,
        reason=reason,
        urgency=urgency,
        do_not_contact=do_not_contact,
        now=now,
        sent_at=None if draft else now,
        status=Status.DRAFT if draft else Status.REQUESTED,
        sender_user=sender_user,
        requested_service=service,
        assessment=assessment,
        referred_from=referred_from,
        part_of=part_of,
    )


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
    to see the client (its own record, or a release naming it). A walk-in is being served
    already: it starts accepted and assigned to whoever logged it."""
    take_write_lock(Program, program.pk)
    now = timezone.now()
    if program.organization_id != organization.pk:
        raise ValidationError(
            {"program": gettext("Log referrals to your own organization's programs.")}
        )
    if source == Referral.Source.PLATFORM or source not in Referral.Source.values:
        raise ValidationError({"source": gettext("Say how the referral arrived.")})
    if not policy.may_see(organization, Category.DEMOGRAPHICS, client, now):
        raise PermissionDenied(gettext("You may not see this client."))
    codes = _validate_needs(needs)
    _validate_urgency(urgency)
    return _referral_create(
        client=client,
        program=program,
        receiver=organization,
        codes=codes,
        actor=actor,
        organization=organization,
        source=source,
        reason=reason,
        urgency=urgency,
        do_not_contact=do_not_contact,
        now=now,
        sent_at=received_at or now,
        external_sender=external_sender.strip(),
        # The receiver logged it, so it has seen it.
        opened_at=now,
        business_status=Referral.BusinessStatus.OPENED,
        **(
            {"status": Status.ACCEPTED, "assigned_to": actor}
            if source == Referral.Source.WALK_IN
            else {}
        ),
    )


def _check_intake(receiver: Organization, client) -> None:
    """An organization takes referrals into its intake queue when it is active, in the
    client's network, and has a program accepting referrals to choose among."""
    if receiver.network_id != client.network_id:
        raise ValidationError(
            {"receiver_organization": gettext("That organization is not in this client's network.")}
        )
    if not receiver.is_active or not receiver.programs.filter(accepting_referrals=True).exists():
        raise ValidationError(
            {
                "receiver_organization": gettext("%(organization)s is not accepting referrals now.")
                % {"organization": receiver.name}
            }
        )


def refuse_duplicate(
    client: Client, program: Program | None, receiver: Organization | None = None
) -> None:
    """DuplicateReferral (with the open one) when `client` has an open referral to
    `program` already (with `program` None: one waiting in `receiver`'s intake queue):
    the check every new referral passes. The backbone's routing asks it too, before its
    acceptance of the referral it routes."""
    existing = _open_duplicate(client, program, *([receiver] if program is None else []))
    if existing is not None:
        raise DuplicateReferral(existing)


def _referral_create(
    *,
    client: Client,
    program: Program | None,
    receiver: Organization,
    codes: list[str],
    actor: User,
    organization: Organization,
    source: str,
    reason: str,
    urgency: str,
    do_not_contact: bool,
    now: datetime,
    sent_at: datetime | None,
    sender_organization: Organization | None = None,
    status: str = Status.REQUESTED,
    **fields: object,
) -> Referral:
    """The one constructor of a referral, called by each entry (referral_send, which the
    REST API, FHIR and the backbone's routing also call, and referral_log_inbound) once it
    has checked what is its own to check. `fields` are the columns only one entry sets.

    Refuses a duplicate (DuplicateReferral), an arrival after `now`, and, for a referral
    sent on Linkage, a receiver no release covers for what it carries (ConsentMissing);
    otherwise inserts the referral with the receiver's clock running from `sent_at`, its
    needs, its first event and audit entry, and tells the receiver."""
    client.ensure_current()  # a merged record: its survivor takes new referrals
    refuse_duplicate(client, program, receiver)
    if sent_at is not None and sent_at > now:
        raise ValidationError({"received_at": gettext("The referral cannot arrive in the future.")})
    release = None
    # A draft shares nothing yet: the release is asked for when it is sent.
    if sender_organization is not None and status != Status.DRAFT:
        release = require_carried_consent(client, receiver, now, sender_id=sender_organization.pk)
    referral = Referral(
        network_id=client.network_id,
        client=client,
        sender_organization=sender_organization,
        receiver_organization=receiver,
        program=program,
        source=source,
        reason=reason,
        urgency=urgency,
        do_not_contact=do_not_contact,
        release=release,
        status=status,
        created_at=now,
        updated_at=now,
        sent_at=sent_at,
        **fields,
    )
    if status == Status.ACCEPTED:
        # Taken on as it was recorded (a walk-in): the receiver owes updates from now.
        referral.accepted_at = now
        referral.update_due_at = schedule.update_due(referral, now)
        schedule.restart_reminders(referral, at=now)
    elif status != Status.DRAFT:
        referral.ack_due_at = schedule.ack_due(referral, sent_at)
        schedule.restart_reminders(referral, at=sent_at)
    try:
        # A savepoint: a racing duplicate (double-click) fails here alone, and the caller
        # gets the open referral instead of a server error.
        with transaction.atomic():
            referral.save(force_insert=True)
    except IntegrityError:
        existing = _open_duplicate(client, program, *([receiver] if program is None else []))
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
    if status != Status.DRAFT:
        # A draft is not the receiver's yet: it hears of it when it is sent.
        notifications.referral_created(referral, actor=actor)
        events.status_changed(referral)
    return referral


def _require_party(referral: Referral, organization: Organization) -> None:
    if organization.pk not in (referral.sender_organization_id, referral.receiver_organization_id):
        raise PermissionDenied(gettext("Only the sender and the receiver work on a referral."))


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
        raise PermissionDenied(gettext("Only the receiving organization records contacts."))
    take_write_lock(Referral, referral.pk)
    locked = Referral.objects.select_for_update().select_related("client").get(pk=referral.pk)
    if locked.status in TERMINAL:
        raise ValidationError(gettext("This referral is closed: only notes can be added."))
    if locked.do_not_contact:
        raise ValidationError(
            gettext(
                "Do not contact the client: the referring organization asked that nobody reach "
                "out to the client directly (for the client's safety). Work through the sender."
            )
        )
    require_carried_consent(locked.client, organization, timezone.now(), (Category.DEMOGRAPHICS,))
    if contact_type not in ReferralEvent.ContactType.values:
        raise ValidationError({"contact_type": gettext("Choose how the contact was made.")})
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
    notifications.referral_contact_recorded(locked, actor=actor, successful=successful)
    return event


# How far ahead an appointment may be booked: further is almost always a typo in the year.
APPOINTMENT_HORIZON_DAYS = 366


@transaction.atomic
def referral_schedule_appointment(
    *,
    referral: Referral,
    actor: User,
    organization: Organization,
    when: datetime,
    note: str = "",
) -> ReferralEvent:
    """The receiver booked the client's appointment (or moved it): the referral's business
    status becomes "Appointment scheduled", the sender is told, and the client gets the
    next-step text with the date and a reminder the day before (referrals/client_messages.py,
    after the commit; a moved appointment withdraws the earlier reminder). Receiver only,
    on an accepted or in-progress referral, for a moment in the future; refused when the
    receiver may no longer see who the client is."""
    if organization.pk != referral.receiver_organization_id:
        raise PermissionDenied(gettext("Only the receiving organization schedules appointments."))
    take_write_lock(Referral, referral.pk)
    locked = Referral.objects.select_for_update().select_related("client").get(pk=referral.pk)
    if locked.status in TERMINAL:
        raise ValidationError(gettext("This referral is closed: only notes can be added."))
    if locked.status not in WORKING:
        raise ValidationError(
            gettext("Accept the referral before you schedule the client's appointment.")
        )
    now = timezone.now()
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when <= now:
        raise ValidationError(
            {
                "when": gettext(
                    "The appointment must be in the future. Record a past visit as a contact."
                )
            }
        )
    if when > now + timedelta(days=APPOINTMENT_HORIZON_DAYS):
        raise ValidationError(
            {"when": gettext("The appointment must be within a year from today.")}
        )
    require_carried_consent(locked.client, organization, now, (Category.DEMOGRAPHICS,))
    event = ReferralEvent.objects.create(
        referral=locked,
        kind=ReferralEvent.Kind.SCHEDULED,
        actor=actor,
        organization=organization,
        occurred_at=now,
        from_status=locked.status,
        to_status=locked.status,
        business_status=Referral.BusinessStatus.SCHEDULED,
        reason=note.strip(),
        appointment_at=when,
    )
    locked.business_status = Referral.BusinessStatus.SCHEDULED
    locked.appointment_at = when
    locked.updated_at = now
    fields = ["business_status", "appointment_at", "updated_at"]
    locked.update_due_at = schedule.update_due(locked, now)
    fields.append("update_due_at")
    fields += schedule.restart_reminders(locked, at=now)
    locked.save(update_fields=fields)
    audit_record(
        action="update",
        object_type="referral",
        object_ids=[locked.pk],
        client_ids=[locked.client_id],
        actor=actor,
        organization=organization,
        detail={"appointment": True},
    )
    notifications.referral_appointment_scheduled(locked, actor=actor)
    # Announced like a status step (the sender's system sees businessStatus "scheduled";
    # the client's texts are queued from it).
    events.status_changed(locked)
    return event


@transaction.atomic
def referral_assign(
    *, referral: Referral, assignee: User | None, actor: User, organization: Organization
) -> Referral:
    """Assign the referral to a staff member of the receiving organization (open referrals
    only: a closed one is read-only except notes)."""
    if organization.pk != referral.receiver_organization_id:
        raise PermissionDenied(gettext("Only the receiving organization assigns its staff."))
    if (
        assignee is not None
        and not assignee.memberships.filter(organization=organization, is_active=True).exists()
    ):
        raise ValidationError({"assigned_to": gettext("Choose someone in your organization.")})
    take_write_lock(Referral, referral.pk)
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.status in TERMINAL:
        raise ValidationError(gettext("This referral is closed: only notes can be added."))
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
        raise ValidationError({"body": gettext("Write the note first.")})
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
            policy.may_see(receiver, c, referral.client) for c in carried(referral)
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
def notifications_mark_read(
    *, user: User, notification_id: int | None = None, referral_id: int | None = None
) -> int:
    """Mark one of `user`'s notifications read, those about one referral (`referral_id`:
    the person acted on it, so its news has been seen), or all of them. Nobody else's
    notification is touched. Returns how many changed."""
    from .models import Notification

    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    if referral_id is not None:
        unread = unread.filter(referral_id=referral_id)
    return unread.update(read_at=timezone.now())
