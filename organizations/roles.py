"""Roles and what each may do. The one place a capability is granted."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("Staff")
    NAVIGATOR = "navigator", _("Navigator / care coordinator")
    ORG_ADMIN = "org_admin", _("Organization admin")


class Capability(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_DIRECTORY = "view_directory"
    VIEW_PARTNERSHIPS = "view_partnerships"
    VIEW_MEMBERS = "view_members"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_NETWORK = "manage_network"
    # Clients, releases and screenings: the daily work of every staff role.
    VIEW_CLIENTS = "view_clients"
    EDIT_CLIENTS = "edit_clients"
    CAPTURE_RELEASES = "capture_releases"
    ADMINISTER_ASSESSMENTS = "administer_assessments"
    # Lead navigators are navigators; assigning one is a navigator's or admin's call.
    ASSIGN_LEAD_NAVIGATOR = "assign_lead_navigator"
    # An organization's own access log and a client's accounting of disclosures.
    VIEW_ACCESS_LOG = "view_access_log"
    # The measures: dashboard, CSV exports, refresh, partnership review, stalled referrals.
    VIEW_MEASURES = "view_measures"
    MANAGE_PROGRAMS = "manage_programs"
    # Payment terms and statements: generate, submit, dispute, approve, record payment.
    MANAGE_PAYMENTS = "manage_payments"


_EVERYONE = frozenset(
    {
        Capability.VIEW_DASHBOARD,
        Capability.VIEW_DIRECTORY,
        Capability.VIEW_CLIENTS,
        Capability.EDIT_CLIENTS,
        Capability.CAPTURE_RELEASES,
        Capability.ADMINISTER_ASSESSMENTS,
    }
)
_BY_ROLE: dict[str, frozenset[Capability]] = {
    Role.STAFF: _EVERYONE,
    Role.NAVIGATOR: _EVERYONE | {Capability.VIEW_PARTNERSHIPS, Capability.ASSIGN_LEAD_NAVIGATOR},
    Role.ORG_ADMIN: _EVERYONE
    | {
        Capability.VIEW_PARTNERSHIPS,
        Capability.VIEW_MEMBERS,
        Capability.MANAGE_MEMBERS,
        Capability.ASSIGN_LEAD_NAVIGATOR,
        Capability.VIEW_ACCESS_LOG,
        Capability.VIEW_MEASURES,
        Capability.MANAGE_PROGRAMS,
        Capability.MANAGE_PAYMENTS,
    },
}
_BACKBONE_ADMIN_EXTRA = frozenset({Capability.MANAGE_NETWORK})


def capabilities_for(role: str, *, backbone: bool) -> frozenset[Capability]:
    """What a member with this role may do; backbone admins also run the network."""
    granted = _BY_ROLE.get(role, frozenset())
    if backbone and role == Role.ORG_ADMIN:
        granted = granted | _BACKBONE_ADMIN_EXTRA
    return granted
