"""What a message may reveal: whether it names the organization, and whether the service is
one no message may name.

A text is read on a phone other people pick up. Naming an organization tells the reader the
client's details went there, so a message names one only when the client agreed to share
with it — the consent policy's own question (consent.policy), asked as sending a referral
asks it. Some services are never named at all (the template says "your appointment").
"""

from __future__ import annotations

from consent import policy
from consent.categories import CARRIED_CATEGORIES
from organizations.sdoh import SDOHCategory

# Needs (SDOH categories, the codes referrals and programs carry) whose very mention can
# put a client at risk or expose them: intimate-partner violence and elder abuse. Behavioral
# health and substance use have no SDOH code; they are consent categories of their own
# (consent.categories: BEHAVIORAL_HEALTH, SUD), and a referral for such a service is marked
# sensitive by its caller (`context["sensitive"]`) or by the program (`is_sensitive`, when
# the directory records it).
SENSITIVE_NEEDS = frozenset(
    {SDOHCategory.INTIMATE_PARTNER_VIOLENCE.value, SDOHCategory.ELDER_ABUSE.value}
)


def may_name(org, client, *, referral=None, at=None) -> bool:
    """May a message to `client` name `org`? Yes when `org` already holds what a referral
    carries about the client under the consent policy (a release in force covers it, as
    sending a referral requires), when it sent the referral, or when it created the
    client's record (the client's own organization)."""
    if org is None or client is None:
        return False
    if referral is not None and org.pk == referral.sender_organization_id:
        return True
    if org.pk == client.created_by_organization_id:
        return True
    return set(CARRIED_CATEGORIES) <= policy.visible_categories(org, client, at)


def is_sensitive(referral, context: dict | None = None) -> bool:
    """Is this message about a service no message may name? The caller's word, the
    referral's safety flag (do-not-contact referrals are about safety), its needs, or the
    program's categories."""
    if context and context.get("sensitive"):
        return True
    if referral is None:
        return False
    if referral.do_not_contact:
        return True
    needs = set(referral.needs.values_list("code", flat=True))
    program = referral.program
    if program is not None:
        if getattr(program, "is_sensitive", False):
            return True
        needs |= set(program.categories.values_list("code", flat=True))
    return bool(needs & SENSITIVE_NEEDS)
