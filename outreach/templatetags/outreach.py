"""Outreach pieces other pages include: the client's contact summary (client profile) and
the client's own reports on a referral (referral page)."""

from __future__ import annotations

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def contact_preference_of(client):
    """The client's contact preference (None when none is recorded)."""
    return selectors.contact_preference_for(client)


@register.simple_tag
def client_reports_of(referral_id: int):
    """What the client said about the help they got on this referral."""
    return selectors.client_reports_for(referral_id)
