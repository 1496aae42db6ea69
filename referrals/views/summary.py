"""The client's own summary of a referral: a printable page in the client's language
(English or Spanish, with a switch), for either party to the referral.

What it shows is decided by the consent policy (referrals/summary.py builds it through
`policy.referral_sight`); the read is audited as a print of the referral."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import audit_read
from consent import policy
from consent.categories import Category
from organizations.roles import Capability
from organizations.tenancy import member_required
from outreach.services import message_queue

from ..summary import LANGUAGES, build_summary, language_or_default, summary_text, t
from .detail import referral_or_404


def _language(request, referral) -> str:
    """The language asked for (the switch), else the client's preferred language when the
    organization may see it (it is contact information), else the reader's."""
    asked = request.GET.get("lang", "")
    if asked in LANGUAGES:
        return asked
    client = referral.client
    if client.preferred_language in LANGUAGES and policy.may_see(
        request.organization, Category.DEMOGRAPHICS, client
    ):
        return client.preferred_language
    return language_or_default((get_language() or "").split("-")[0])


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def referral_client_summary(request, referral_id: int):
    """The summary for the client to keep: what was requested, where, how they will be
    reached and what happens next. 404 unless the active organization is a party."""
    referral = referral_or_404(request, referral_id)
    language = _language(request, referral)
    summary = build_summary(referral, organization=request.organization, language=language)
    audit_read(
        request,
        object_type="referral",
        objects=[referral],
        categories=summary.shown_categories,
        action=AuditEvent.Action.PRINT,
    )
    return render(
        request,
        "referrals/summary/summary.html",
        {
            "referral": referral,
            "summary": summary,
            "languages": [("en", "English"), ("es", "Español")],
        },
    )


@member_required(Capability.VIEW_CLIENTS)
@require_POST
def referral_summary_send(request, referral_id: int):
    """Text the summary (summary_text) to the client, in the language shown on the page.
    Outreach decides whether it may go (do-not-contact, opt-in to texts, channel) and
    records a refusal; the page says which happened."""
    referral = referral_or_404(request, referral_id)
    language = request.POST.get("lang", "")
    if language not in LANGUAGES:
        language = _language(request, referral)
    text = summary_text(referral, organization=request.organization, language=language)
    message = message_queue(
        client=referral.client,
        organization=request.organization,
        kind="summary",
        referral=referral,
        context={"text": text},
        user=request.user,
    )
    if message is None:
        messages.warning(request, t(language, "send_refused"))
    else:
        messages.success(request, t(language, "send_queued"))
    return redirect(reverse("referral_client_summary", args=[referral.pk]) + f"?lang={language}")
