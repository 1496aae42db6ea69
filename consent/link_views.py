"""Consent by link: staff send a client a one-time link to sign a release on their own
phone, and the public page (no account) where the client signs it.

The public page answers an unknown or tampered token with 404 and a used or expired one
with 410 (also when the link is used up or expires while the page is open), both with the
same words (ask the organization for a new link) and nothing about the client; too many
tries from one address, or on one link, with 429. A signature that is incomplete is shown
again with its errors at 400; nothing is written then.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from audit.models import AuditEvent
from audit.services import audit_read, audit_record, client_ip
from organizations.roles import Capability
from organizations.tenancy import member_required

from . import links, policy
from .categories import Category
from .link_forms import ReleaseLinkForm, SignForm
from .models import ConsentLink, Release

# The public page's limits: per address (all tries, any token: guessing tokens is slow)
# and per link (signing attempts on one link).
RATE_BY_IP = "30/h"
RATE_BY_LINK = "10/h"


# --- Staff ----------------------------------------------------------------------------------


@member_required(Capability.CAPTURE_RELEASES)
@require_http_methods(["GET", "POST"])
def release_link_new(request, client_id: int):
    """Choose the release's terms and send the client a link to sign it; `?referral=<id>`
    (repeatable) ticks draft referrals that wait for it, `?recipient=<id>` names the
    organization the release is for."""
    org = request.organization
    client = get_object_or_404(links.link_clients(org), pk=client_id)
    if client.is_tombstone:
        return redirect("release_link_new", client_id=client.merged_into_id)
    drafts = links.waiting_drafts(client, org)
    if request.method == "POST":
        form = ReleaseLinkForm(request.POST, organization=org, client=client, drafts=drafts)
        if form.is_valid():
            try:
                link, _url = links.release_link_create(
                    client=client, organization=org, actor=request.user, **form.service_kwargs()
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The link was made and is on its way to the client."))
                return redirect("release_link_detail", link_id=link.pk)
    else:
        wanted = [int(v) for v in request.GET.getlist("referral") if v.isdigit()]
        initial: dict = {"waiting_referrals": wanted} if wanted else {}
        # `?recipient=<id>` (a refused send): the receiver that needs the release, named.
        recipient = request.GET.get("recipient", "")
        if recipient.isdigit():
            initial["recipients"] = [int(recipient)]
        form = ReleaseLinkForm(organization=org, client=client, drafts=drafts, initial=initial)
    audit_read(
        request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS.value],
    )
    return render(
        request,
        "consent/link_new.html",
        {
            "client": client,
            "form": form,
            "lifetime_hours": int(links.LINK_LIFETIME.total_seconds() // 3600),
        },
        status=400 if request.method == "POST" else 200,
    )


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def release_link_detail(request, link_id: int):
    """A link the organization made: waiting, signed or expired; the release it became,
    the signature's evidence, and what became of the referrals that waited for it."""
    link = get_object_or_404(
        ConsentLink.objects.visible_to(request.organization).select_related(
            "client", "created_by", "release"
        ),
        pk=link_id,
    )
    shows_client = policy.may_see(request.organization, Category.DEMOGRAPHICS, link.client)
    audit_read(
        request,
        object_type="release_link",
        objects=[link],
        categories=[Category.DEMOGRAPHICS.value] if shows_client else (),
    )
    results = [
        {"referral_id": int(pk), **result}
        for pk, result in sorted(link.waiting_results.items(), key=lambda kv: int(kv[0]))
    ]
    return render(
        request,
        "consent/link_detail.html",
        {
            "link": link,
            "status": link.status_at(),
            "shows_client": shows_client,
            "recipients": sorted(o.name for o in link.recipients.all()),
            "categories": [Category(c).label for c in link.categories],
            "results": results,
            "pending": [
                pk for pk in link.waiting_referral_ids if str(pk) not in link.waiting_results
            ],
        },
    )


# --- The client's page (public) -------------------------------------------------------------
#
# The token is in the link's path only for the first request: like Django's password reset,
# the page keeps it in the session and redirects to a path without it, so that a form sent
# back with errors (a 400 that Django logs with its path), a Referer or a screenshot of the
# address bar never carries a working link.

SESSION_TOKEN = "release_link_token"


def _address(group, request) -> str:
    return client_ip(request) or "unknown"


def _unavailable(request, reason: str, status: int):
    return render(request, "consent/link_unavailable.html", {"reason": reason}, status=status)


def _limited_by_address(request) -> bool:
    return is_ratelimited(
        request, group="release_link_ip", key=_address, rate=RATE_BY_IP, increment=True
    )


@require_GET
def release_link_open(request, token: str):
    """The link as sent: checked, kept in the session, and replaced by the page's address."""
    if _limited_by_address(request):
        return _unavailable(request, "limited", 429)
    try:
        links.link_for_token(token)
    except links.LinkUnavailable as gone:
        return _unavailable(request, "gone", 410 if gone.gone else 404)
    request.session[SESSION_TOKEN] = token
    wanted = request.GET.get("lang")
    suffix = f"?lang={wanted}" if wanted in Release.Language.values else ""
    return redirect(reverse("release_link_sign") + suffix)


@require_http_methods(["GET", "POST"])
def release_link_sign(request):
    """The release the link offers, in the client's language (or the one they switch to);
    they type their name and confirm."""
    if _limited_by_address(request):
        return _unavailable(request, "limited", 429)
    token = request.session.get(SESSION_TOKEN) or ""
    try:
        link = links.link_for_token(token)
    except links.LinkUnavailable as gone:
        return _unavailable(request, "gone", 410 if gone.gone else 404)
    wanted = request.POST.get("lang") if request.method == "POST" else request.GET.get("lang")
    language = links.link_language(link, wanted)
    status = 200
    with translation.override(language):
        if request.method == "POST":
            if is_ratelimited(
                request,
                group="release_link_token",
                key=lambda group, request: link.token_hash,
                rate=RATE_BY_LINK,
                increment=True,
            ):
                return _unavailable(request, "limited", 429)
            form = SignForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    links.release_link_sign(
                        token=token,
                        esignature_name=data["esignature_name"],
                        esignature_confirmed=data["esignature_confirmed"],
                        signer=data["signer"],
                        representative_name=data["representative_name"],
                        representative_relationship=data["representative_relationship"],
                        language=language,
                        ip=client_ip(request),
                        user_agent=request.headers.get("User-Agent", ""),
                    )
                except links.LinkUnavailable as gone:
                    # Signed a moment ago (a double tap) or expired while reading.
                    return _unavailable(request, "gone", 410 if gone.gone else 404)
                except ValidationError:
                    # The terms no longer hold (a recipient left the network, the person
                    # who made the link left the organization): not the client's to fix.
                    form.add_error(
                        None,
                        _(
                            "This release cannot be signed as it is. Please ask the "
                            "organization that sent you the link for a new one."
                        ),
                    )
                else:
                    # The spent token stays in the session: a second tap on "Sign" is told
                    # the link was used (410), not that there is no link.
                    return redirect(reverse("release_link_done") + f"?lang={language}")
            status = 400
        else:
            form = SignForm()
        # The client (or whoever holds their link) reads the release's terms: a read of the
        # client's record, by nobody signed in, for the organization that made the link.
        audit_record(
            request=request,
            action=AuditEvent.Action.VIEW,
            object_type="release_link",
            object_ids=[link.pk],
            client_ids=[link.client_id],
            organization=link.organization,
            detail={"categories": list(link.categories)},
        )
        response = render(
            request,
            "consent/link_sign.html",
            {
                "agreement": links.link_agreement(link, language),
                "form": form,
                "language": language,
                "other_language": "en" if language == Release.Language.ES else "es",
                "expires_at": timezone.localtime(link.expires_at),
            },
            status=status,
        )
    response.headers["Content-Language"] = language
    return response


@require_GET
def release_link_done(request):
    """After signing: thanks, and what happens next (nothing about the client: the URL
    carries no token)."""
    language = request.GET.get("lang")
    if language not in Release.Language.values:
        language = translation.get_language()
    with translation.override(language):
        response = render(request, "consent/link_done.html", {"language": language})
    response.headers["Content-Language"] = language
    return response
