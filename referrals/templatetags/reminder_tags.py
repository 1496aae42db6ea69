"""Reminder pieces other pages show: the backbone's stalled-referral count on the dashboard."""

from __future__ import annotations

from django import template
from django.utils import timezone

from organizations.roles import Capability

from ..reminders.selectors import stalled_counts

register = template.Library()


@register.inclusion_tag("reminders/_stalled_summary.html", takes_context=True)
def stalled_summary(context) -> dict:
    """How many of the network's referrals are overdue now (the rule the receivers' inboxes
    use) and how many of those were escalated, with a link to the list; shown to backbone
    admins only (one count query)."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None or not membership.has(Capability.MANAGE_NETWORK):
        return {"count": None, "escalated": None, "show": False}
    overdue, escalated = stalled_counts(request.organization, timezone.now())
    return {"count": overdue, "escalated": escalated, "show": True}
