"""Referrals waiting for a release signed by link (consent by link).

A draft referral whose send was refused for want of a release can wait for the release the
client is asked to sign by link (consent.links keeps the waiting ids on the link). Consent
sits below referrals: it announces `release_link_signed`, and this module sends what waited,
each through the state machine's own `send` move, so every rule of a send holds. One that
still cannot go (the release does not cover its receiver, it was sent or cancelled
meanwhile) stays as it is, with the reason on the draft and on the link's page.

Imported once by ReferralsConfig.ready(): it connects the receiver and tells consent how to
list the drafts a link may hold.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from consent import links
from consent.models import ConsentLink
from consent.signals import release_link_signed

from .models import Referral
from .transitions import referral_transition
from .workflow import Status

NOT_A_DRAFT = "It is no longer a draft of your organization for this client."


def draft_referrals_for(client_id: int, organization_id: int) -> list[tuple[int, str]]:
    """The organization's draft referrals for the client, as (id, label) for the link page."""
    drafts = (
        Referral.objects.filter(
            client_id=client_id, sender_organization_id=organization_id, status=Status.DRAFT
        )
        .select_related("program", "receiver_organization")
        .order_by("pk")
    )
    return [(r.pk, f"#{r.pk} · {r.program_name}") for r in drafts]


def send_waiting_referrals(*, link_id: int) -> dict[int, str]:
    """Send the drafts that waited for the link's release, each as the person who made the
    link, for its organization. Returns the ids that stayed drafts, with why."""
    link = ConsentLink.objects.select_related("organization", "created_by").get(pk=link_id)
    kept: dict[int, str] = {}
    for referral_id in link.waiting_referral_ids:
        draft = Referral.objects.filter(
            pk=referral_id,
            client_id=link.client_id,
            sender_organization_id=link.organization_id,
            status=Status.DRAFT,
        ).first()
        if draft is None:
            reason = NOT_A_DRAFT
        else:
            try:
                referral_transition(
                    referral_id=draft.pk,
                    move="send",
                    actor=link.created_by,
                    organization=link.organization,
                )
            except (ValidationError, PermissionDenied) as error:
                reason = " ".join(getattr(error, "messages", None) or [str(error)])
                # The reason, on the draft, for whoever opens it.
                Referral.objects.filter(pk=draft.pk, status=Status.DRAFT).update(
                    status_reason=reason
                )
            else:
                links.link_waiting_result(link_id=link.pk, referral_id=draft.pk, sent=True)
                continue
        kept[referral_id] = reason
        links.link_waiting_result(
            link_id=link.pk, referral_id=referral_id, sent=False, reason=reason
        )
    return kept


def on_release_link_signed(sender, *, release_id: int, link_id: int, **kwargs) -> None:
    send_waiting_referrals(link_id=link_id)


release_link_signed.connect(on_release_link_signed, dispatch_uid="referrals_send_waiting")
links.waiting_drafts_with(draft_referrals_for)
