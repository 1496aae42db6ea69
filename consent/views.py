"""Release pages: read, print, paper form, revoke (capturing one starts from the client:
clients/release_views.py).

A submission that fails validation is shown again with its errors and the values chosen,
at 400; revoking a release that is no longer in force (already revoked or expired, perhaps
by a colleague a moment ago) at 409. Nothing is written either way.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import AuditEvent
from audit.services import audit_read
from organizations.roles import Capability
from organizations.tenancy import member_required

from . import policy, selectors
from .categories import Category
from .models import Release
from .services import release_revoke as revoke_release
from .text import format_date


def _release_for(request, release_id: int) -> Release:
    releases = (
        Release.objects.visible_to(request.organization)
        .select_related("organization", "client", "client__network", "captured_by", "revoked_by")
        .prefetch_related("recipients")
    )
    return get_object_or_404(releases, pk=release_id)


def _shows_client(request, release: Release) -> bool:
    """The release names the client and its signers; the names are shown only to whom the
    policy lets see them now (a recipient whose access ended still sees the terms)."""
    return policy.release_sight(request.organization, release).names


def _audit_release_read(request, release: Release, shows_client: bool, action: str) -> None:
    audit_read(
        request,
        object_type="release",
        objects=[release],
        client_id_attr="client_id",
        categories=[Category.DEMOGRAPHICS.value] if shows_client else (),
        action=action,
    )


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def release_detail(request, release_id: int):
    """A release's terms and status, to its capturing organization and named recipients."""
    release = _release_for(request, release_id)
    shows_client = _shows_client(request, release)
    _audit_release_read(request, release, shows_client, AuditEvent.Action.VIEW)
    now = timezone.now()
    captured_here = release.organization_id == request.organization.pk
    return render(
        request,
        "consent/release_detail.html",
        {
            "release": release,
            "status": release.status_at(now),
            "expires_in_days": selectors.days_until_expiry(release, now),
            "shows_client": shows_client,
            "captured_here": captured_here,
            "may_revoke": captured_here
            and request.membership.has(Capability.CAPTURE_RELEASES)
            and release.status_at(now) in {"active", "not yet effective"},
            "recipients": sorted(o.name for o in release.recipients.all()),
            "categories": [Category(c).label for c in release.categories],
        },
    )


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def release_print(request, release_id: int):
    """The release form for the client to keep (or sign on paper), in the release's
    language, with a print stylesheet and no navigation."""
    release = _release_for(request, release_id)
    shows_client = _shows_client(request, release)
    _audit_release_read(request, release, shows_client, AuditEvent.Action.PRINT)
    agreement = selectors.release_agreement(release, shows_names=shows_client)
    return render(
        request,
        "consent/release_print.html",
        {
            "release": release,
            "agreement": agreement,
            "shows_client": shows_client,
            "client_date_of_birth": format_date(release.language, release.client.date_of_birth),
        },
    )


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def release_paper_form(request, release_id: int):
    """The uploaded signed paper form, to those who may see the client's demographics."""
    release = _release_for(request, release_id)
    if not release.paper_form or not _shows_client(request, release):
        raise Http404("No paper form to show.")
    _audit_release_read(request, release, True, AuditEvent.Action.VIEW)
    extension = release.paper_form.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        release.paper_form.open("rb"),
        as_attachment=False,
        filename=f"release-{release.pk}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@member_required(Capability.CAPTURE_RELEASES)
@require_http_methods(["GET", "POST"])
def release_revoke(request, release_id: int):
    """GET: what revoking will do, and a reason to give. POST: revoke now."""
    release = _release_for(request, release_id)
    if release.organization_id != request.organization.pk:
        raise PermissionDenied(
            gettext("Only the organization that captured this release can record its revocation.")
        )
    error = None
    if request.method == "POST":
        try:
            revoke_release(
                release=release,
                actor=request.user,
                organization=request.organization,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
            # The service re-read the row under a lock; so does the page, to show (and
            # answer for) the release as it is now.
            release = _release_for(request, release_id)
        else:
            messages.success(
                request, gettext("The release was revoked. Its recipients no longer have access.")
            )
            return redirect("release_detail", release_id=release.pk)
    shows_client = _shows_client(request, release)
    _audit_release_read(request, release, shows_client, AuditEvent.Action.VIEW)
    status = release.status_at()
    revocable = status in {"active", "not yet effective"}
    return render(
        request,
        "consent/release_revoke.html",
        {
            "release": release,
            "status": status,
            "revocable": revocable,
            "shows_client": shows_client,
            "recipients": sorted(o.name for o in release.recipients.all()),
            "categories": [Category(c).label for c in release.categories],
            "error": error,
            "reason": request.POST.get("reason", ""),
        },
        # Not in force any more: a conflict with the stored state, not a typing mistake.
        status=(409 if not revocable else 400) if error else 200,
    )
