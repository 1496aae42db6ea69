"""Reads for the audit pages: an organization's own access log, a client's accounting of
disclosures as a given organization may read it, the network's activity."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from organizations.models import Membership, Network, Organization
from organizations.roles import Capability

from .models import AuditEvent, AuditEventClient


def access_log_for(
    *,
    organization: Organization,
    user_id: int | None = None,
    client_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's own audit events, newest first, optionally narrowed to one actor,
    one client, a period [since, until) and one action. Never another organization's rows."""
    events = AuditEvent.objects.visible_to(organization)
    if user_id is not None:
        events = events.filter(actor_id=user_id)
    if client_id is not None:
        # (event, client_id) is unique, so the join cannot repeat an event.
        events = events.filter(clients__client_id=client_id)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    if action:
        events = events.filter(action=action)
    return (
        events.select_related("actor").prefetch_related("clients").order_by("-occurred_at", "-id")
    )


def has_full_accounting(*, record_holder_id: int | None, membership: Membership) -> bool:
    """May this member read a client's full accounting of disclosures: every organization's
    accesses? Only for the organization holding the record (the one that created it, whose
    record the client asks it to account for, HIPAA 45 CFR 164.528) and only with its
    privacy role (the access-log capability). It prints the accounting for the client."""
    return (
        record_holder_id is not None
        and membership.organization_id == record_holder_id
        and membership.has(Capability.VIEW_ACCESS_LOG)
    )


def client_disclosures_for(
    *,
    client_id: int,
    record_holder_id: int | None,
    membership: Membership,
    merged_ids: Collection[int] = (),
) -> QuerySet[AuditEvent]:
    """A client's accounting of disclosures as `membership`'s organization may read it,
    newest first: the full accounting for the record holder's privacy role
    (`has_full_accounting`); for any other organization only the events of its own people
    (`AuditEvent.organization` is the organization whose person saw, or was told, the
    client's data: the receiving side of each disclosure), so it learns nothing of other
    organizations' staff, objects or disclosures. The page, its CSV and the printout all
    read this. `merged_ids`: records merged into this one, whose rows are its trail too
    (audit rows are never rewritten to point at the survivor)."""
    if merged_ids:
        ids = {client_id, *merged_ids}
        about = AuditEventClient.objects.filter(client_id__in=ids).values("event_id")
        events = AuditEvent.objects.filter(pk__in=about)
    else:
        events = AuditEvent.objects.about_client(client_id)
    if not has_full_accounting(record_holder_id=record_holder_id, membership=membership):
        events = events.filter(organization_id=membership.organization_id)
    return events.select_related("organization", "actor").order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class ActivityRow:
    organization: Organization
    counts: tuple[int, ...]  # aligned with NetworkActivity.actions
    total: int


@dataclass(frozen=True)
class NetworkActivity:
    """Event counts per organization and action: aggregates only, no client or object ids."""

    actions: tuple[tuple[str, str], ...]  # (code, label), only actions seen in the period
    rows: tuple[ActivityRow, ...]
    totals: tuple[int, ...]
    total: int


def network_activity(*, network: Network, since: datetime, until: datetime) -> NetworkActivity:
    """How much each organization of the network did in [since, until), by action.

    For the backbone: network-level activity, never another organization's client-level
    log. Every active organization of the network gets a row (zero counts say as much as
    high ones); an inactive one only if it did something in the period.
    """
    grouped = (
        AuditEvent.objects.filter(
            organization__network=network, occurred_at__gte=since, occurred_at__lt=until
        )
        .values("organization_id", "action")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[int, str], int] = {
        (row["organization_id"], row["action"]): row["n"] for row in grouped
    }
    seen_actions = {action for _, action in counts}
    actions = tuple(
        (code, label) for code, label in AuditEvent.Action.choices if code in seen_actions
    )
    active_ids = {org_id for org_id, _ in counts}
    rows = []
    for org in Organization.objects.filter(network=network).order_by("name"):
        if not org.is_active and org.pk not in active_ids:
            continue
        per_action = tuple(counts.get((org.pk, code), 0) for code, _ in actions)
        rows.append(ActivityRow(organization=org, counts=per_action, total=sum(per_action)))
    totals = tuple(sum(r.counts[i] for r in rows) for i in range(len(actions)))
    return NetworkActivity(actions=actions, rows=tuple(rows), totals=totals, total=sum(totals))
