"""Writes to client records: create, change, identifiers, lead navigators."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_read, audit_record
from consent import policy
from consent.categories import Category
from consent.services import releases_move_to_client
from organizations.models import Membership, Organization, User
from organizations.roles import Role

from .contact import SentContact
from .models import Client, ClientIdentifier, LeadNavigatorAssignment, PossibleDuplicate
from .selectors import Match
from .validation import clean_client_values

LEAD_ROLES = frozenset({Role.NAVIGATOR, Role.ORG_ADMIN})


# Kept by Client.save(); model validation must not ask for them.
DERIVED_FIELDS = ("given_name_key", "family_name_key", "phone_digits")


class DuplicateIdentifierError(ValidationError):
    """The organization already uses this system and value for a client."""


@transaction.atomic
def client_create(
    *,
    organization: Organization,
    actor: User,
    data: dict[str, Any],
    duplicates_overridden: int = 0,
    contact: SentContact | None = None,
    request: HttpRequest | None = None,
) -> Client:
    """Create a client record in the organization's network (the organization is its
    creator and always sees it). `duplicates_overridden`: how many possible matches the
    user was shown and chose not to use (recorded as a count only). `contact`: contact
    details as another system sent them (clients.contact.contact_as_sent), stored as
    given there and flagged where unusable instead of refused; without it every field
    must pass the browser's rules."""
    if contact is not None:
        data = {k: v for k, v in data.items() if k not in contact.values}
    data = clean_client_values(data)
    if contact is not None:
        data.update(contact.values)
    client = Client(
        network_id=organization.network_id,
        created_by_organization=organization,
        created_by=actor,
        contact_problems=dict(contact.problems) if contact is not None else {},
        **data,
    )
    client.full_clean(exclude=DERIVED_FIELDS)
    client.save()
    detail: dict[str, Any] = {"fields": sorted(k for k, v in data.items() if v not in ("", None))}
    if duplicates_overridden:
        detail["possible_duplicates_overridden"] = duplicates_overridden
    if client.contact_problems:
        # Field names only: the values are the client's.
        detail["contact_problems"] = sorted(client.contact_problems)
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.CREATE,
        object_type="client",
        object_ids=[client.pk],
        client_ids=[client.pk],
        detail=detail,
    )
    return client


@transaction.atomic
def client_update(
    *,
    client: Client,
    actor: User,
    organization: Organization,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> list[str]:
    """Change the client's record; returns the names of the fields that changed (the
    audit event records those names, never the values)."""
    data = clean_client_values(data)
    client = Client.objects.select_for_update().get(pk=client.pk)
    client.ensure_current()
    changed = sorted(name for name, value in data.items() if getattr(client, name) != value)
    if not changed:
        return []
    for name in changed:
        setattr(client, name, data[name])
    # A person set the field by the strict rules: what a system sent there is no longer
    # the record's problem.
    fixed = [name for name in changed if name in (client.contact_problems or {})]
    if fixed:
        client.contact_problems = {
            k: v for k, v in client.contact_problems.items() if k not in fixed
        }
    client.full_clean(exclude=DERIVED_FIELDS)
    client.save(update_fields=[*changed, "contact_problems"] if fixed else changed)
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.UPDATE,
        object_type="client",
        object_ids=[client.pk],
        client_ids=[client.pk],
        detail={"fields": changed},
    )
    return changed


@transaction.atomic
def client_identifier_add(
    *,
    client: Client,
    organization: Organization,
    actor: User,
    system: str,
    value: str,
    request: HttpRequest | None = None,
) -> ClientIdentifier:
    """Record the identifier the organization's own system gives the client. Unique per
    organization, system and value."""
    client.ensure_current()
    system, value = system.strip(), value.strip()
    if not system or not value:
        raise ValidationError(gettext("An identifier needs a system and a value."))
    try:
        # A savepoint, so that losing a race with a concurrent insert leaves the request's
        # transaction usable for the error page.
        with transaction.atomic():
            identifier = ClientIdentifier.objects.create(
                client=client, organization=organization, system=system, value=value
            )
    except IntegrityError:
        raise DuplicateIdentifierError(
            f"Your organization already uses this {system} for a client record."
        ) from None
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.CREATE,
        object_type="client_identifier",
        object_ids=[identifier.pk],
        client_ids=[client.pk],
        detail={"fields": ["system", "value"]},
    )
    return identifier


@transaction.atomic
def client_lead_navigator_assign(
    *,
    client: Client,
    membership: Membership,
    actor: User,
    organization: Organization | None = None,
    handover_note: str = "",
    request: HttpRequest | None = None,
) -> LeadNavigatorAssignment:
    """Make `membership` the client's lead navigator, handing over from the current one.

    The acting `organization` (default: the new lead's own) appoints one of its own active
    navigators, `actor` acting for it, and only if the consent policy lets it see the
    client's demographics: sight of the client's referrals alone, say, does not make an
    organization the client's coordinator (ValidationError otherwise).

    One transaction with the client row locked, so two people assigning at once are
    serialized (the database's one-current-lead constraint is the last line). The
    previous lead navigator is emailed after commit; a handover needs a note.
    """
    acting = organization or membership.organization
    client = Client.objects.select_for_update().get(pk=client.pk)
    client.ensure_current()
    if (
        not membership.is_active
        or membership.role not in LEAD_ROLES
        or membership.organization.network_id != client.network_id
    ):
        raise ValidationError(
            gettext("Only an active navigator of the network can be lead navigator.")
        )
    # Another organization's member (an API key's service user included) is never ours to
    # appoint, and the person appointing must act for the organization they appoint from.
    if (
        membership.organization_id != acting.pk
        or not acting.memberships.filter(user=actor, is_active=True).exists()
    ):
        raise ValidationError(gettext("Choose one of your own organization's navigators."))
    if not policy.may_see(acting, Category.DEMOGRAPHICS, client):
        raise ValidationError(
            gettext(
                "Your organization may not see this client's demographics, so it cannot "
                "change their lead navigator."
            )
        )
    current = client.lead_assignments.filter(ended_at__isnull=True).first()
    if current is not None and current.membership_id == membership.pk:
        return current
    handover_note = handover_note.strip()
    if current is not None and not handover_note:
        raise ValidationError(
            gettext("A handover note is required when replacing a lead navigator.")
        )

    now = timezone.now()
    if current is not None:
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    assignment = LeadNavigatorAssignment.objects.create(
        client=client,
        membership=membership,
        assigned_by=actor,
        started_at=now,
        handover_note=handover_note,
    )
    client.lead_navigator = membership
    # update_fields through Client.save also refreshes the derived keys: harmless.
    client.save(update_fields=["lead_navigator"])
    audit_record(
        request=request,
        actor=actor,
        organization=membership.organization,
        action=AuditEvent.Action.UPDATE,
        object_type="client",
        object_ids=[client.pk],
        client_ids=[client.pk],
        detail={"fields": ["lead_navigator"]},
    )
    if current is not None:
        from .tasks import notify_lead_navigator_replaced

        ended_id, new_id = current.pk, assignment.pk
        transaction.on_commit(
            lambda: notify_lead_navigator_replaced.delay(
                ended_assignment_id=ended_id, new_assignment_id=new_id
            )
        )
    return assignment


def lead_navigator_replaced_notify(
    *, ended: LeadNavigatorAssignment, new: LeadNavigatorAssignment
) -> bool:
    """Tell the previous lead navigator, by email, that someone else leads the client now.

    The email carries the client's record number and the new lead's name and organization
    only: no client name, no handover note (free text that may hold PHI). People who have
    left their organization are not told. Returns whether an email was sent.
    """
    previous = ended.membership
    user = previous.user
    if not previous.is_active or not user.is_active or not user.email:
        return False
    context = {
        "recipient": user,
        "client_id": ended.client_id,
        "new_lead": new.membership.user,
        "new_lead_organization": new.membership.organization,
        "ended_at": ended.ended_at,
        "site_url": settings.SITE_URL,
    }
    # In the language the recipient picked (the default when they follow the browser).
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = render_to_string("clients/email/lead_navigator_replaced_subject.txt", context)
        body = render_to_string("clients/email/lead_navigator_replaced_body.txt", context)
    send_mail(
        " ".join(subject.split()),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
    return True


@dataclass(frozen=True)
class ShownDuplicates:
    """Possible duplicates split by what the organization may see of them."""

    visible: list[Match]  # shown as records (with a link or a Patient reference)
    hidden: list[Match]  # only "a record may exist"
    lead_organizations: list[str]  # the hidden records' lead navigators' organizations


def show_possible_duplicates(
    request: HttpRequest, matches: Sequence[Match], visible_ids: Collection[int]
) -> ShownDuplicates:
    """Audit what a duplicate check tells its caller, the same on every face (the client
    pages, FHIR Patient create): the records it may see are a search of them; the others
    are a disclosure, since saying a record exists tells something about its client."""
    visible = [m for m in matches if m.client.pk in visible_ids]
    hidden = [m for m in matches if m.client.pk not in visible_ids]
    audit_read(
        request,
        object_type="client",
        objects=[m.client for m in visible],
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS],
        action=AuditEvent.Action.SEARCH,
    )
    if hidden:
        hidden_ids = [m.client.pk for m in hidden]
        audit_record(
            request=request,
            action=AuditEvent.Action.DISCLOSE,
            object_type="client",
            object_ids=hidden_ids,
            client_ids=hidden_ids,
            detail={"disclosed": "possible_duplicate_exists"},
        )
    leads = sorted(
        {m.client.lead_navigator.organization.name for m in hidden if m.client.lead_navigator}
    )
    return ShownDuplicates(visible=visible, hidden=hidden, lead_organizations=leads)


@transaction.atomic
def possible_duplicates_queue(
    *,
    client: Client,
    matches: Sequence[Match],
    organization: Organization,
    actor: User,
    request: HttpRequest | None = None,
) -> list[PossibleDuplicate]:
    """Put the possible matches of a record a system just created in the duplicates queue
    of their lead navigators (PossibleDuplicateQuerySet.visible_to says whose), instead of
    refusing the record. What the creating caller is told is `show_possible_duplicates`'
    business; the queue entries themselves are written here, audited without values."""
    queued = []
    for match in matches:
        if match.client.pk == client.pk:
            continue
        entry, created = PossibleDuplicate.objects.get_or_create(
            client=client,
            match=match.client,
            defaults={
                "strength": match.strength,
                "reason": match.reason[:200],
                "created_by_organization": organization,
                "created_by": actor,
            },
        )
        if created:
            queued.append(entry)
    if queued:
        audit_record(
            request=request,
            actor=actor,
            organization=organization,
            action=AuditEvent.Action.CREATE,
            object_type="possible_duplicate",
            object_ids=[e.pk for e in queued],
            client_ids=sorted({client.pk, *(e.match_id for e in queued)}),
            detail={"fields": ["client", "match", "reason"]},
        )
    return queued


@transaction.atomic
def possible_duplicate_dismiss(
    *,
    duplicate: PossibleDuplicate,
    organization: Organization,
    actor: User,
    request: HttpRequest | None = None,
) -> PossibleDuplicate:
    """Close the queue entry as "not the same person". Only an organization that may see the
    demographics of both records decides (ValidationError otherwise); the entry is locked,
    so two reviewers at once close it once. Already closed: returned as it is."""
    duplicate = (
        PossibleDuplicate.objects.select_for_update()
        .select_related("client", "match")
        .get(pk=duplicate.pk)
    )
    if duplicate.status != PossibleDuplicate.Status.OPEN:
        return duplicate
    if not (
        policy.may_see(organization, Category.DEMOGRAPHICS, duplicate.client)
        and policy.may_see(organization, Category.DEMOGRAPHICS, duplicate.match)
    ):
        raise ValidationError(
            gettext(
                "Your organization may not see both records, so it cannot decide whether they "
                "are the same person."
            )
        )
    duplicate.status = PossibleDuplicate.Status.DISMISSED
    duplicate.resolved_at = timezone.now()
    duplicate.resolved_by = actor
    duplicate.resolved_by_organization = organization
    duplicate.save(
        update_fields=["status", "resolved_at", "resolved_by", "resolved_by_organization"]
    )
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.UPDATE,
        object_type="possible_duplicate",
        object_ids=[duplicate.pk],
        client_ids=sorted({duplicate.client_id, duplicate.match_id}),
        detail={"fields": ["status"], "status": PossibleDuplicate.Status.DISMISSED.value},
    )
    return duplicate


class MergeRefused(ValidationError):
    """The two records cannot be merged as they are (say why; nothing was written)."""


def _merge_pairs_close(
    *, survivor: Client, duplicate: Client, actor: User, organization: Organization, now
) -> list[int]:
    """Close the queue entries between the two records as merged; point the duplicate's
    other entries at the survivor (an entry that would then repeat another pair, or pair
    the survivor with itself, is answered by this merge and closed as merged too)."""
    closed: list[int] = []
    resolved = {
        "status": PossibleDuplicate.Status.MERGED,
        "resolved_at": now,
        "resolved_by": actor,
        "resolved_by_organization": organization,
    }
    for entry in PossibleDuplicate.objects.select_for_update().filter(
        Q(client=duplicate) | Q(match=duplicate)
    ):
        client_id, match_id = (
            survivor.pk if pk == duplicate.pk else pk for pk in (entry.client_id, entry.match_id)
        )
        answered = client_id == match_id or (
            PossibleDuplicate.objects.filter(
                Q(client_id=client_id, match_id=match_id)
                | Q(client_id=match_id, match_id=client_id)
            )
            .exclude(pk=entry.pk)
            .exists()
        )
        if not answered:
            entry.client_id, entry.match_id = client_id, match_id
            entry.save(update_fields=["client", "match"])
        elif entry.status == PossibleDuplicate.Status.OPEN:
            # Left pointing at the tombstone: the entry is history now.
            for name, value in resolved.items():
                setattr(entry, name, value)
            entry.save(update_fields=list(resolved))
            closed.append(entry.pk)
    return closed


def _merge_leads(*, survivor: Client, duplicate: Client, now) -> None:
    """The survivor keeps its current lead navigator (the duplicate's current one ends
    now); without one, it takes the duplicate's. The history moves with it."""
    survivor_lead = survivor.lead_assignments.filter(ended_at__isnull=True).first()
    duplicate_lead = duplicate.lead_assignments.filter(ended_at__isnull=True).first()
    if survivor_lead is not None and duplicate_lead is not None:
        duplicate_lead.ended_at = now
        duplicate_lead.save(update_fields=["ended_at"])
    elif duplicate_lead is not None:
        survivor.lead_navigator_id = duplicate_lead.membership_id
    LeadNavigatorAssignment.objects.filter(client=duplicate).update(client=survivor)
    duplicate.lead_navigator = None


@transaction.atomic
def client_merge(
    *,
    survivor: Client,
    duplicate: Client,
    actor: User,
    organization: Organization,
    request: HttpRequest | None = None,
) -> Client:
    """Merge two records of one person: everything that pointed at `duplicate` points at
    `survivor`, and `duplicate` becomes a tombstone (`merged_into`) that every face
    redirects to the survivor. Returns the survivor.

    Only a navigator or admin of `organization` (`actor` acting for it) that may see the
    demographics of both records merges them (PermissionDenied otherwise). Both rows are
    locked, in id order, so two people merging at once are serialized. The clients app
    moves its own rows (identifiers, lead navigator history, the duplicates queue, earlier
    tombstones); the apps above it (referrals, assessments, releases, measures) move theirs
    when `clients.signals.client_merged` is sent, inside this transaction. A conflict one of
    them cannot resolve (both records with an open referral to the same program) refuses the
    merge (MergeRefused): nothing is written. The audit trail is append-only, so it is not
    rewritten: reading the survivor's trail reads the tombstone's rows too
    (`clients.selectors.client_record_ids`). The merge is audited on both ids.
    """
    from .signals import client_merged

    membership = organization.memberships.filter(user=actor, is_active=True).first()
    if membership is None or membership.role not in LEAD_ROLES:
        raise PermissionDenied(
            gettext("Only a navigator or an admin of your organization can merge.")
        )
    if survivor.pk == duplicate.pk:
        raise MergeRefused("A record cannot be merged into itself.")
    locked = {
        c.pk: c
        for c in Client.objects.select_for_update()
        .filter(pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if not (
        policy.may_see(organization, Category.DEMOGRAPHICS, survivor)
        and policy.may_see(organization, Category.DEMOGRAPHICS, duplicate)
    ):
        raise PermissionDenied(
            gettext("Your organization may not see both records, so it cannot merge them.")
        )
    if survivor.network_id != duplicate.network_id:
        raise MergeRefused("The two records belong to different networks.")
    if survivor.is_tombstone or duplicate.is_tombstone:
        raise MergeRefused("One of the records was already merged into another.")

    now = timezone.now()
    moved: dict[str, int] = {
        "identifiers": ClientIdentifier.objects.filter(client=duplicate).update(client=survivor),
    }
    _merge_leads(survivor=survivor, duplicate=duplicate, now=now)
    closed = _merge_pairs_close(
        survivor=survivor, duplicate=duplicate, actor=actor, organization=organization, now=now
    )
    moved["releases"] = releases_move_to_client(
        from_client_id=duplicate.pk, to_client_id=survivor.pk
    )
    # Records merged into the duplicate earlier now lead straight to the survivor.
    moved["tombstones"] = Client.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    for _receiver, response in client_merged.send(
        sender=Client, survivor_id=survivor.pk, duplicate_id=duplicate.pk, actor_id=actor.pk
    ):
        moved.update(response or {})
    duplicate.merged_into = survivor
    duplicate.merged_at = now
    duplicate.merged_by = actor
    duplicate.merged_by_organization = organization
    duplicate.save(
        update_fields=[
            "merged_into",
            "merged_at",
            "merged_by",
            "merged_by_organization",
            "lead_navigator",
        ]
    )
    survivor.save(update_fields=["lead_navigator"])
    ids = sorted({survivor.pk, duplicate.pk})
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.UPDATE,
        object_type="client",
        object_ids=ids,
        client_ids=ids,
        detail={
            "fields": ["merged_into"],
            "survivor": survivor.pk,
            "merged": duplicate.pk,
            "possible_duplicates_closed": closed,
            # How many rows of each kind moved (flat: audit detail holds codes, not objects).
            **{f"moved_{kind}": n for kind, n in sorted(moved.items()) if n},
        },
    )
    return survivor
