"""A person's notifications: the list, and marking them read."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import audit_read
from consent.categories import Category
from organizations.tenancy import member_required

from .. import selectors, services

PAGE_SIZE = 25


@member_required()
@require_GET
def notification_list(request):
    """Newest first. Messages name referral numbers and programs, never clients."""
    notifications = selectors.notifications_for(request.user).select_related("referral__client")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    # Messages never name the client (they are emailed too); the page adds the name where
    # the active organization may see it, and records that read.
    page.object_list = list(page.object_list)
    named = selectors.notification_names(request.organization, page.object_list)
    for notification in page.object_list:
        notification.client_name = named.get(notification.pk, "")
    if named:
        audit_read(
            request,
            object_type="referral",
            objects=[n.referral for n in page.object_list if n.pk in named],
            categories=[Category.DEMOGRAPHICS.value, Category.REFERRALS.value],
            action=AuditEvent.Action.LIST,
        )
    return render(
        request,
        "referrals/notifications.html",
        {"page": page, "unread": selectors.unread_count(request.user)},
    )


@require_GET
def notification_bell(request):
    """The bell's link with the unread count, fetched by the header after the page loads
    (one indexed count). Nothing for someone signed out."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(
        request, "referrals/_bell_count.html", {"unread": selectors.unread_count(request.user)}
    )


@member_required()
@require_POST
def notification_read(request, notification_id: int):
    """Mark one notification read; with `open`, go on to its referral."""
    notification = get_object_or_404(selectors.notifications_for(request.user), pk=notification_id)
    services.notifications_mark_read(user=request.user, notification_id=notification.pk)
    if request.POST.get("open") and notification.referral_id:
        return redirect("referral_detail", referral_id=notification.referral_id)
    return _back(request)


@member_required()
@require_POST
def notification_read_all(request):
    services.notifications_mark_read(user=request.user)
    return _back(request)


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notification_list")
