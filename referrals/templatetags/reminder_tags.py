"""Reminder pieces other pages show: the backbone's stalled-referral count on the dashboard."""

from __future__ import annotations

from django import template

from organizations.roles import Capability

from ..reminders.selectors import stalled_referrals

register = template.Library()


@register.inclusion_tag("reminders/_stalled_summary.html", takes_context=True)
def stalled_summary(context) -> dict:
    """How many of the network's referrals are stalled (escalated and still waiting), with
    a link to the list; shown to backbone admins only (one indexed count)."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None or not membership.has(Capability.MANAGE_NETWORK):
        return {"count": None, "show": False}
    return {"count": stalled_referrals(request.organization).count(), "show": True}
