"""Reads of releases for pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from organizations.models import Organization

from .models import Release
from .text import agreement

# A release about to expire is flagged this long ahead on the client profile.
EXPIRY_WARNING = timedelta(days=30)


def releases_for_client(*, client, organization: Organization) -> QuerySet[Release]:
    """The client's releases the organization may see (it captured them or is named in
    them), newest first, with what the list shows already loaded."""
    return (
        Release.objects.visible_to(organization)
        .filter(client_id=client.pk)
        .select_related("organization")
        .prefetch_related("recipients")
    )


def days_until_expiry(release: Release, at: datetime | None = None) -> int | None:
    """Whole days left when a release still in force (or not yet effective) expires within
    EXPIRY_WARNING; None otherwise."""
    at = at or timezone.now()
    if release.status_at(at) not in {"active", "not yet effective"}:
        return None
    if release.expires_at - at > EXPIRY_WARNING:
        return None
    return (timezone.localdate(release.expires_at) - timezone.localdate(at)).days


# Stands for a signer's or witness's name the viewer may not see.
WITHHELD_NAME = "—"


def release_agreement(release: Release, *, shows_names: bool) -> dict:
    """What the client agreed to in this release, in the release's language (for the
    printed form and the detail page). The signer's, representative's and witness's names
    are the client's demographics: `shows_names` is the consent policy's answer
    (`policy.release_sight`)."""

    def name(value: str) -> str:
        return value if shows_names or not value else WITHHELD_NAME

    def local_day(moment):
        return timezone.localdate(moment) if moment else None

    return agreement(
        language=release.language,
        organization_name=release.organization.name,
        network_name=release.client.network.name,
        recipient_names=[o.name for o in release.recipients.all()],
        all_partners=release.all_network_partners,
        categories=[c.value for c in release.categories],
        purpose=release.purpose,
        purpose_other=release.purpose_other,
        effective=local_day(release.effective_at),
        expires=local_day(release.expires_at),
        signer=release.signer,
        representative_name=name(release.representative_name),
        representative_relationship=name(release.representative_relationship),
        method=release.method,
        esignature_name=name(release.esignature_name),
        signed_on=local_day(release.esignature_signed_at),
        verbal_witness_name=name(release.verbal_witness_name),
        revoked_on=local_day(release.revoked_at),
    )
