"""`{% client_releases client %}`: the releases section of a client's profile."""

from __future__ import annotations

from django import template
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_read
from organizations.roles import Capability

from .. import policy, selectors
from ..categories import Category

register = template.Library()


@register.inclusion_tag("consent/_client_releases.html", takes_context=True)
def client_releases(context, client) -> dict:
    """The client's releases visible to the active organization, each with its status,
    recipients, categories and an "expires in N days" flag; a capture link when the
    organization may capture one. The list shown is audited as one event."""
    request = context["request"]
    organization = request.organization
    membership = request.membership
    now = timezone.now()
    releases = list(selectors.releases_for_client(client=client, organization=organization))
    audit_read(
        request,
        object_type="release",
        objects=releases,
        client_id_attr="client_id",
        action=AuditEvent.Action.LIST,
    )
    rows = [
        {
            "release": r,
            "status": r.status_at(now),
            "recipients": sorted(o.name for o in r.recipients.all()),
            "categories": [Category(c).label for c in r.categories],
            "expires_in_days": selectors.days_until_expiry(r, now),
        }
        for r in releases
    ]
    may_capture = (
        membership is not None
        and membership.has(Capability.CAPTURE_RELEASES)
        and policy.may_see(organization, Category.DEMOGRAPHICS, client, now)
    )
    return {"client": client, "rows": rows, "may_capture": may_capture}
