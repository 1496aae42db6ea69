"""The sharing policy: may organization O see category C of client X at time T?

This module is the only place that decision is made. Pages, API serializers, exports and the
FHIR facade all ask it; querysets use `client_q` so lists obey the same rule in SQL.

The rule:
- The organization that created the client record always sees all of it.
- Otherwise a release must be in force at T (effective, not expired, not revoked), cover C,
  and name O as a recipient — or name "all active partners in the network", which covers
  every organization that is party to an active partnership in the client's network at T,
  except for substance-use-disorder records (42 CFR Part 2: named recipients only).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from organizations.models import Organization, Partnership

from .categories import NAMED_RECIPIENTS_ONLY, Category
from .models import Release


def is_active_partner(org: Organization, at: datetime | None = None) -> bool:
    """Party to a partnership that is active at `at` in its network."""
    return _active_partnerships(org, at or timezone.now()).exists()


def _active_partnerships(org: Organization, at: datetime) -> QuerySet[Partnership]:
    day = timezone.localdate(at)
    return Partnership.objects.filter(
        network_id=org.network_id,
        organizations=org,
        status=Partnership.Status.ACTIVE,
    ).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=day),
        Q(end_date__isnull=True) | Q(end_date__gte=day),
    )


def covering_releases(
    org: Organization, category: Category | str | None, at: datetime | None = None
) -> QuerySet[Release]:
    """Releases in force at `at` that let `org` see `category` (any category when None) of
    clients in its network."""
    at = at or timezone.now()
    releases = Release.objects.active_at(at).filter(client__network_id=org.network_id)
    recipient = Q(recipients=org)
    if category is not None:
        category = Category(category)
        releases = releases.covering(category)
    # The database refuses an all-partners release covering SUD records, so "any category"
    # through all partners never includes them.
    if (category is None or category not in NAMED_RECIPIENTS_ONLY) and is_active_partner(org, at):
        recipient |= Q(all_network_partners=True)
    return releases.filter(recipient).distinct()


def may_see(
    org: Organization, category: Category | str, client, at: datetime | None = None
) -> bool:
    """May `org` see `category` of `client` at `at` (default: now)?"""
    if org is None or client is None:
        return False
    if client.created_by_organization_id == org.pk:
        return True
    if client.network_id != org.network_id:
        return False
    return covering_releases(org, category, at).filter(client_id=client.pk).exists()


def visible_categories(org: Organization, client, at: datetime | None = None) -> set[Category]:
    """Every category `org` may see of `client` at `at` (one query)."""
    if org is None or client is None:
        return set()
    if client.created_by_organization_id == org.pk:
        return set(Category)
    if client.network_id != org.network_id:
        return set()
    at = at or timezone.now()
    partner = is_active_partner(org, at)
    releases = Release.objects.active_at(at).filter(client_id=client.pk)
    if partner:
        releases = releases.filter(Q(recipients=org) | Q(all_network_partners=True))
    else:
        releases = releases.filter(recipients=org)
    seen: set[Category] = set()
    for release in releases.distinct().prefetch_related("recipients"):
        named = any(r.pk == org.pk for r in release.recipients.all())
        for category in release.categories:
            if category in NAMED_RECIPIENTS_ONLY and not named:
                continue
            seen.add(category)
    return seen


def client_q(
    org: Organization, category: Category | str | None = None, at: datetime | None = None
) -> Q:
    """A filter on Client rows: the clients `org` may see (`category`, or any category when
    None) at `at`. For `Client.objects.filter(client_q(org))`."""
    covered = covering_releases(org, category, at).filter(client_id=OuterRef("pk"))
    return Q(created_by_organization_id=org.pk) | Q(Exists(covered.values("pk")))
