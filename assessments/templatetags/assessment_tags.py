"""`{% client_assessments client %}`: the client's assessments on the client profile."""

from django import template

from audit.models import AuditEvent
from audit.services import audit_read
from consent.categories import Category
from organizations.roles import Capability

from .. import selectors

register = template.Library()

SHOWN = 5


@register.inclusion_tag("assessments/_client_assessments.html", takes_context=True)
def client_assessments(context, client):
    """The latest assessments of `client` the viewer's organization may see (audited as
    read), with links to all of them and to start a new one."""
    request = context["request"]
    org = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    if org is None or membership is None:
        return {"client": client, "assessments": [], "allowed": False}
    assessments = list(selectors.assessments_for_client(org=org, client=client)[: SHOWN + 1])
    more = len(assessments) > SHOWN
    assessments = assessments[:SHOWN]
    audit_read(
        request,
        object_type="assessment",
        objects=assessments,
        categories=[Category.SOCIAL_NEEDS.value],
        action=AuditEvent.Action.LIST,
    )
    return {
        "client": client,
        "assessments": assessments,
        "more": more,
        "allowed": True,
        "can_administer": membership.has(Capability.ADMINISTER_ASSESSMENTS),
    }
