"""Outreach pages: a client's contact preferences and delivery log (staff), the message
templates in English and Spanish (org admins), and the SMS provider's inbound webhook.

Client pages reach the client through `Client.objects.visible_to(org, demographics)`:
contact details are the demographics-and-contact category, so only an organization the
consent policy lets see them reads or changes how the client is reached. Every read is
audited.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from audit.services import audit_read
from clients.models import Client
from consent.categories import Category
from organizations.roles import Capability
from organizations.tenancy import member_required

from . import selectors, services
from .forms import ContactPreferenceForm
from .texts import SAMPLES
from .texts import render as render_text

INVALID = 400
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _client_or_404(request, client_id: int) -> Client:
    return get_object_or_404(
        Client.objects.visible_to(request.organization, Category.DEMOGRAPHICS), pk=client_id
    )


def _audit(request, client: Client) -> None:
    audit_read(
        request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS],
    )


@member_required(Capability.EDIT_CLIENTS)
def contact_preferences(request, client_id: int):
    """See and change how the client wants to be reached."""
    client = _client_or_404(request, client_id)
    if client.is_tombstone:
        return redirect("outreach_contact", client_id=client.merged_into_id)
    preference = selectors.contact_preference_for(client)
    initial = ContactPreferenceForm.initial_for(client, preference)
    if request.method == "POST":
        form = ContactPreferenceForm(request.POST, initial=initial)
        if form.is_valid():
            try:
                services.contact_preference_save(
                    client=client,
                    data=form.cleaned_data,
                    actor=request.user,
                    organization=request.organization,
                    request=request,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Contact preferences saved."))
                return redirect("outreach_contact", client_id=client.pk)
    else:
        form = ContactPreferenceForm(initial=initial)
    _audit(request, client)
    return render(
        request,
        "outreach/preferences.html",
        {"client": client, "form": form, "preference": preference},
        status=INVALID if request.method == "POST" else 200,
    )


@member_required(Capability.VIEW_CLIENTS)
def delivery_log(request, client_id: int):
    """Every message to the client and every text from them, with its status."""
    client = _client_or_404(request, client_id)
    if client.is_tombstone:
        return redirect("outreach_delivery_log", client_id=client.merged_into_id)
    entries = selectors.delivery_log(request.organization, client)
    _audit(request, client)
    return render(
        request,
        "outreach/delivery_log.html",
        {
            "client": client,
            "entries": entries,
            "preference": selectors.contact_preference_for(client),
        },
    )


@member_required(Capability.VIEW_MEMBERS)
def message_templates(request):
    """Every message a client may receive, in English and Spanish, with example values."""
    rows = []
    for sample in SAMPLES:
        texts = {}
        for language in ("en", "es"):
            texts[language] = render_text(
                sample.kind,
                sample.ctx,
                language=language,
                channel="sms",
                named=sample.named,
                sensitive=sample.sensitive,
            ).body
        rows.append({"sample": sample, "en": texts["en"], "es": texts["es"]})
    return render(request, "outreach/templates.html", {"rows": rows})


@csrf_exempt
@require_POST
def sms_inbound(request):
    """The SMS provider's webhook (Twilio's incoming-message request): verified by its
    signature (X-Twilio-Signature over the URL Twilio was given and the posted fields),
    403 otherwise. Answers with empty TwiML: replies go out as queued messages, so they
    are logged and sent once."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    # The address Twilio was configured with, as people reach the site (behind a proxy
    # the request's own host and scheme may differ).
    url = f"{settings.SITE_URL}{request.get_full_path()}"
    if (
        not token
        or not signature
        or not RequestValidator(token).validate(url, request.POST, signature)
    ):
        return HttpResponseForbidden("Invalid signature.")
    sid = request.POST.get("MessageSid") or request.POST.get("SmsSid") or ""
    sender = request.POST.get("From", "")
    if not sid or not sender:
        return HttpResponse("Missing MessageSid or From.", status=400)
    services.inbound_receive(provider_id=sid, from_number=sender, body=request.POST.get("Body", ""))
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
