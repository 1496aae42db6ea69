"""Reads for the organization pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from .models import Membership, Organization, Partnership, User


def partnerships_for(org: Organization, user: User | None = None) -> QuerySet[Partnership]:
    """Partnerships the organization may see, with their parties, for a list page.

    Besides the organization's own partnerships (all of them for the backbone), a user may
    hold an object-level grant (django-guardian `view_partnership`) on a partnership of the
    same network that their organization is not party to — e.g. a payer's analyst asked to
    review one partnership. Roles cannot express that; the grant can.
    """
    scoped = Partnership.objects.visible_to(org).values("pk")
    condition = Q(pk__in=scoped)
    if user is not None:
        granted = get_objects_for_user(
            user,
            "organizations.view_partnership",
            klass=Partnership.objects.filter(network_id=org.network_id),
            accept_global_perms=False,
        ).values("pk")
        condition |= Q(pk__in=granted)
    return (
        Partnership.objects.filter(condition)
        .prefetch_related("organizations")
        .annotate(document_count=Count("documents", distinct=True))
        .order_by("status", "name")
    )


def members_of(org: Organization) -> QuerySet[Membership]:
    return Membership.objects.visible_to(org).select_related("user").order_by("user__email")


def network_organizations(org: Organization) -> QuerySet[Organization]:
    return Organization.objects.visible_to(org).filter(is_active=True).order_by("kind", "name")


def network_counts(org: Organization) -> dict[str, int]:
    """Organization counts by kind across the network (the backbone's overview)."""
    rows = Organization.objects.visible_to(org).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}
