"""Who is told: resolved when a reminder is created, for a whole batch in one query."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from organizations.models import Membership, Organization
from organizations.roles import Role


class People:
    """The active members of some organizations, and the backbone admins of some networks,
    read once for a batch of reminders."""

    def __init__(self, org_ids: Iterable[int | None], network_ids: Iterable[int]):
        org_ids = {o for o in org_ids if o is not None}
        network_ids = set(network_ids)
        self._members: dict[int, list[int]] = {}
        self._backbone_admins: dict[int, list[int]] = {}
        if not org_ids and not network_ids:
            return
        rows = (
            Membership.objects.filter(is_active=True, user__is_active=True)
            .filter(
                Q(organization_id__in=org_ids)
                | Q(
                    organization__network_id__in=network_ids,
                    organization__kind=Organization.Kind.BACKBONE,
                    role=Role.ORG_ADMIN,
                )
            )
            .values_list(
                "organization_id",
                "user_id",
                "role",
                "organization__kind",
                "organization__network_id",
            )
            .order_by("user_id")
        )
        for org_id, user_id, role, kind, network_id in rows:
            if org_id in org_ids:
                self._members.setdefault(org_id, []).append(user_id)
            is_admin = kind == Organization.Kind.BACKBONE and role == Role.ORG_ADMIN
            if is_admin and network_id in network_ids:
                self._backbone_admins.setdefault(network_id, []).append(user_id)

    def team(self, org_id: int | None) -> list[int]:
        return list(self._members.get(org_id, [])) if org_id is not None else []

    def person_or_team(self, user_id: int | None, org_id: int | None) -> list[int]:
        """The person, while they still work at the organization; otherwise (they left, or
        nobody in particular) everyone there — never someone who has left."""
        team = self.team(org_id)
        if user_id is not None and user_id in team:
            return [user_id]
        return team

    def backbone_admins(self, network_id: int) -> list[int]:
        return list(self._backbone_admins.get(network_id, []))


def lead_navigator(client) -> list[int]:
    """The client's lead navigator (a membership fetched with the client), while active."""
    lead = client.lead_navigator if client.lead_navigator_id else None
    if lead is None or not lead.is_active:
        return []
    return [lead.user_id]
