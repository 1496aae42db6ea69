"""The organization pages: dashboard, switcher, network, partnership list, members.

A partnership's own page shows the programs it covers, so it lives with the directory."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from .. import selectors
from ..middleware import ACTIVE_ORGANIZATION_SESSION_KEY
from ..models import Heartbeat
from ..roles import Capability
from ..tenancy import member_required


@member_required(Capability.VIEW_DASHBOARD)
def dashboard(request):
    """A starting page per role; later issues fill it with work queues and measures."""
    org = request.organization
    context = {"partnerships": selectors.partnerships_for(org)[:5]}
    if request.membership.has(Capability.MANAGE_NETWORK):
        context["network_counts"] = selectors.network_counts(org)
    if request.membership.has(Capability.VIEW_MEMBERS):
        context["member_count"] = selectors.members_of(org).count()
    return render(request, "organizations/dashboard.html", context)


@login_required
@require_POST
def switch_organization(request):
    """Make another of the user's organizations the active one."""
    try:
        wanted = int(request.POST.get("organization", ""))
    except ValueError:
        raise Http404("Unknown organization.") from None
    membership = next((m for m in request.memberships if m.organization_id == wanted), None)
    if membership is None:
        raise Http404("You are not a member of that organization.")
    request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = membership.organization_id
    messages.success(
        request,
        gettext("You are now working as %(organization)s.")
        % {"organization": membership.organization},
    )
    return redirect("dashboard")


@member_required(Capability.VIEW_DIRECTORY)
def network_organizations(request):
    orgs = selectors.network_organizations(request.organization)
    query = request.GET.get("q", "").strip()
    if query:
        orgs = orgs.filter(name__icontains=query)
    page = Paginator(orgs, 25).get_page(request.GET.get("page"))
    return render(
        request, "organizations/network_organizations.html", {"page": page, "query": query}
    )


@member_required(Capability.VIEW_PARTNERSHIPS)
def partnership_list(request):
    """The organization's partnerships with their status and dates; its admins (and the
    backbone's) get the way to set up a new one (directory's partnership pages)."""
    partnerships = selectors.partnerships_for(request.organization, request.user)
    page = Paginator(partnerships, 25).get_page(request.GET.get("page"))
    can_create = (
        request.membership.has(Capability.MANAGE_PROGRAMS) and request.organization.is_active
    )
    return render(
        request, "organizations/partnership_list.html", {"page": page, "can_create": can_create}
    )


@member_required(Capability.VIEW_MEMBERS)
def member_list(request):
    page = Paginator(selectors.members_of(request.organization), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "organizations/member_list.html", {"page": page})


@require_GET
def health(request):
    """For load balancers and operators: the database answers; when the worker was last
    seen. Holds no tenant data."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    beat = Heartbeat.objects.filter(name="worker").first()
    age = (timezone.now() - beat.seen_at).total_seconds() if beat else None
    return JsonResponse({"database": "ok", "worker_last_seen_seconds_ago": age})
