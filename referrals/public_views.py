"""The network's public self-referral page (no account): ask for help, and what happens next.

Spanish when the browser asks for it (or the person switches with `?lang=`). Refusals write
nothing: a form error at 400 (a wrong answer, a missing field, a hidden field filled in,
a form sent too fast), too many requests from one address at 429, an unknown network or
one that takes no requests online at 404. No personal detail goes into a URL or a log: the
confirmation page is reached by a redirect that carries only the language.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from audit.services import client_ip
from consent.categories import CARRIED_CATEGORIES
from consent.forms import add_months
from consent.text import agreement
from organizations.models import Network

from .public_forms import SelfReferralForm
from .self_referral import self_referral_receiver, self_referral_submit
from .services import ACK_BUSINESS_DAYS

# Per address: sending (a person sends once; a 211 line a few an hour) and looking.
RATE_SUBMIT = "10/h"
RATE_VIEW = "120/h"
SESSION_KEY = "self_referral_sent"
LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _address(group, request) -> str:
    return client_ip(request) or "unknown"


def _language(request) -> str:
    wanted = request.GET.get("lang") or request.POST.get("lang")
    if wanted in LANGUAGES:
        return wanted
    current = (translation.get_language() or "en").split("-")[0]
    return current if current in LANGUAGES else "en"


def _network_or_404(slug: str):
    network = Network.objects.filter(slug=slug).first()
    receiver = self_referral_receiver(network) if network is not None else None
    if receiver is None:
        raise Http404("No such page.")
    return network, receiver


def _release_text(network, receiver, language: str) -> dict:
    """The release the person agrees to on the page, as self_referral_submit records it."""
    today = timezone.localdate()
    return agreement(
        language=language,
        organization_name=receiver.name,
        network_name=network.name,
        recipient_names=[],
        all_partners=True,
        categories=[c.value for c in CARRIED_CATEGORIES],
        purpose="care_coordination",
        effective=today,
        expires=add_months(today, network.release_default_months),
        signer="client",
    )


def _limited(request, language: str):
    with translation.override(language):
        response = render(request, "referrals/public/limited.html", status=429)
    response.headers["Content-Language"] = language
    return response


@require_http_methods(["GET", "POST"])
def self_referral(request, network_slug: str):
    """Ask the network for help: needs, who you are, how to reach you, your agreement."""
    language = _language(request)
    rate = RATE_SUBMIT if request.method == "POST" else RATE_VIEW
    group = f"self_referral_{request.method.lower()}"
    if is_ratelimited(request, group=group, key=_address, rate=rate, increment=True):
        return _limited(request, language)
    network, receiver = _network_or_404(network_slug)
    status = 200
    with translation.override(language):
        if request.method == "POST":
            form = SelfReferralForm(request.POST)
            if form.is_valid():
                try:
                    self_referral_submit(network=network, request=form.request())
                except ValidationError as error:
                    if hasattr(error, "error_dict"):
                        for field, errors in error.error_dict.items():
                            form.add_error(field if field in form.fields else None, errors)
                    else:
                        form.add_error(None, error)
                else:
                    request.session[SESSION_KEY] = {
                        "method": form.cleaned_data["contact_method"],
                        "receiver": receiver.name,
                    }
                    url = reverse("self_referral_sent", kwargs={"network_slug": network.slug})
                    return redirect(f"{url}?lang={language}")
            status = 400
            # The answer belongs to the old question: the page asks a new one.
            form.data = form.data.copy()
            form.data["answer"] = ""
        else:
            form = SelfReferralForm()
        response = render(
            request,
            "referrals/public/self_referral.html",
            {
                "network": network,
                "receiver": receiver,
                "form": form,
                "language": language,
                "other_language": "en" if language == "es" else "es",
                "agreement": _release_text(network, receiver, language),
            },
            status=status,
        )
    response.headers["Content-Language"] = language
    return response


@require_GET
def self_referral_sent(request, network_slug: str):
    """What happens next, in the person's language."""
    language = _language(request)
    if is_ratelimited(request, group="self_referral_get", key=_address, rate=RATE_VIEW):
        return _limited(request, language)
    network, receiver = _network_or_404(network_slug)
    sent = request.session.get(SESSION_KEY)
    with translation.override(language):
        response = render(
            request,
            "referrals/public/sent.html",
            {
                "network": network,
                "sent": sent,
                "receiver_name": (sent or {}).get("receiver") or receiver.name,
                "days": ACK_BUSINESS_DAYS,
                "language": language,
            },
        )
    response.headers["Content-Language"] = language
    return response
