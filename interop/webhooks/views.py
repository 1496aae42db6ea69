"""The org admin's pages for webhooks: register, edit, disable/enable, delete (with a
confirmation), replace the secret, and read the delivery log of an endpoint — or of a
FHIR subscription an integration created. An organization sees only its own."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from . import services
from .forms import WebhookEndpointForm
from .models import DeliveryAttempt, WebhookEndpoint

NEW_SECRET_SESSION_KEY = "webhook_new_secret"
PAGE_SIZE = 50


def _no_store(response):
    # A page that shows a secret (or could) is not kept by any cache.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET"])
@member_required(Capability.MANAGE_MEMBERS)
def webhook_list(request):
    """The organization's webhook endpoints and FHIR subscriptions."""
    from interop.subscriptions.models import Subscription

    endpoints = WebhookEndpoint.objects.visible_to(request.organization)
    subscriptions = Subscription.objects.visible_to(request.organization).select_related(
        "created_by"
    )
    return render(
        request,
        "interop/webhook_list.html",
        {"endpoints": endpoints, "subscriptions": subscriptions[:200]},
    )


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def webhook_new(request):
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(
                organization=request.organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            # Post/redirect/get: the secret travels in the session to the next page view
            # only, which takes it out again.
            request.session[NEW_SECRET_SESSION_KEY] = [endpoint.pk, endpoint.secret]
            messages.success(
                request, gettext("Webhook “%(name)s” registered.") % {"name": endpoint.name}
            )
            return redirect("webhook_edit", endpoint.pk)
    return render(
        request,
        "interop/webhook_form.html",
        {"form": form, "endpoint": None},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def webhook_edit(request, endpoint_id: int):
    endpoint = get_visible_or_404(WebhookEndpoint, request.organization, pk=endpoint_id)
    form = WebhookEndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(
                endpoint=endpoint, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("webhook_edit", endpoint.pk)
    if form.is_bound:
        endpoint.refresh_from_db()  # the page shows what is saved, the form what was typed
    new_secret = None
    if request.method == "GET":
        held = request.session.get(NEW_SECRET_SESSION_KEY)
        if held and held[0] == endpoint.pk:
            new_secret = request.session.pop(NEW_SECRET_SESSION_KEY)[1]
    return _no_store(
        render(
            request,
            "interop/webhook_form.html",
            {"form": form, "endpoint": endpoint, "new_secret": new_secret},
            status=400 if form.is_bound else 200,
        )
    )


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def webhook_rotate_secret(request, endpoint_id: int):
    endpoint = get_visible_or_404(WebhookEndpoint, request.organization, pk=endpoint_id)
    if request.method == "POST":
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
        request.session[NEW_SECRET_SESSION_KEY] = [endpoint.pk, endpoint.secret]
        messages.success(
            request, gettext("New secret made: the old one keeps working for 24 hours.")
        )
        return redirect("webhook_edit", endpoint.pk)
    return render(
        request, "interop/webhook_confirm.html", {"endpoint": endpoint, "action": "rotate"}
    )


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def webhook_set_enabled(request, endpoint_id: int, action: str):
    endpoint = get_visible_or_404(WebhookEndpoint, request.organization, pk=endpoint_id)
    if request.method == "POST":
        enabled = action == "enable"
        services.webhook_endpoint_set_enabled(
            endpoint=endpoint, actor=request.user, enabled=enabled
        )
        messages.success(
            request,
            (
                gettext("Webhook “%(name)s” enabled.")
                if enabled
                else gettext("Webhook “%(name)s” disabled.")
            )
            % {"name": endpoint.name},
        )
        return redirect("webhook_edit", endpoint.pk)
    return render(request, "interop/webhook_confirm.html", {"endpoint": endpoint, "action": action})


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def webhook_delete(request, endpoint_id: int):
    endpoint = get_visible_or_404(WebhookEndpoint, request.organization, pk=endpoint_id)
    if request.method == "POST":
        services.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
        messages.success(request, gettext("Webhook “%(name)s” deleted.") % {"name": endpoint.name})
        return redirect("webhook_list")
    return render(
        request, "interop/webhook_confirm.html", {"endpoint": endpoint, "action": "delete"}
    )


@require_http_methods(["GET"])
@member_required(Capability.MANAGE_MEMBERS)
def webhook_deliveries(request, endpoint_id: int):
    """Every attempt to deliver to the endpoint, newest first: time, event, status code,
    duration, error (never the body)."""
    endpoint = get_visible_or_404(WebhookEndpoint, request.organization, pk=endpoint_id)
    return _delivery_log(request, target=endpoint, deliveries=endpoint.deliveries.all())


@require_http_methods(["GET"])
@member_required(Capability.MANAGE_MEMBERS)
def subscription_deliveries(request, subscription_id: int):
    from interop.subscriptions.models import Subscription

    subscription = get_visible_or_404(Subscription, request.organization, pk=subscription_id)
    return _delivery_log(request, target=subscription, deliveries=subscription.deliveries.all())


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def subscription_delete(request, subscription_id: int):
    """End an integration's FHIR subscription from the browser (as DELETE does)."""
    from interop.subscriptions.models import Subscription
    from interop.subscriptions.services import subscription_delete as delete

    subscription = get_visible_or_404(Subscription, request.organization, pk=subscription_id)
    if request.method == "POST":
        delete(subscription=subscription, actor=request.user)
        messages.success(
            request, gettext("FHIR subscription %(number)s deleted.") % {"number": subscription_id}
        )
        return redirect("webhook_list")
    return render(
        request,
        "interop/webhook_confirm.html",
        {"subscription": subscription, "action": "delete-subscription"},
    )


def _delivery_log(request, *, target, deliveries):
    attempts = (
        DeliveryAttempt.objects.filter(delivery__in=deliveries)
        .select_related("delivery")
        .order_by("-started_at", "-id")
    )
    page = Paginator(attempts, PAGE_SIZE).get_page(request.GET.get("page"))
    waiting = deliveries.filter(state__in=["pending", "sending"]).order_by("next_attempt_at")
    return render(
        request,
        "interop/webhook_deliveries.html",
        {
            "target": target,
            "endpoint": target if isinstance(target, WebhookEndpoint) else None,
            "page": page,
            "waiting": waiting[:PAGE_SIZE],
        },
    )


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
