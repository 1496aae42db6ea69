"""Roles and what each may do. The one place a capability is granted."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    STAFF = "staff", "Staff"
    NAVIGATOR = "navigator", "Navigator / care coordinator"
    ORG_ADMIN = "org_admin", "Organization admin"


class Capability(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_DIRECTORY = "view_directory"
    VIEW_PARTNERSHIPS = "view_partnerships"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_NETWORK = "manage_network"


_EVERYONE = frozenset({Capability.VIEW_DASHBOARD, Capability.VIEW_DIRECTORY})
_BY_ROLE: dict[str, frozenset[Capability]] = {
    Role.STAFF: _EVERYONE,
    Role.NAVIGATOR: _EVERYONE | {Capability.VIEW_PARTNERSHIPS},
    Role.ORG_ADMIN: _EVERYONE
    | {Capability.VIEW_PARTNERSHIPS, Capability.VIEW_MEMBERS, Capability.MANAGE_MEMBERS},
}
_BACKBONE_ADMIN_EXTRA = frozenset({Capability.MANAGE_NETWORK})


def capabilities_for(role: str, *, backbone: bool) -> frozenset[Capability]:
    """What a member with this role may do; backbone admins also run the network."""
    granted = _BY_ROLE.get(role, frozenset())
    if backbone and role == Role.ORG_ADMIN:
        granted = granted | _BACKBONE_ADMIN_EXTRA
    return granted
