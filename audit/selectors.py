"""Reads for the audit pages: an organization's own access log, the network's activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from organizations.models import Network, Organization

from .models import AuditEvent


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
