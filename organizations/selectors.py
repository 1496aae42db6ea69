"""Reads for the organization pages."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import Membership, Organization, Partnership


def partnerships_for(org: Organization) -> QuerySet[Partnership]:
    """Partnerships the organization may see, with their parties, for a list page."""
    return (
        Partnership.objects.visible_to(org)
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
