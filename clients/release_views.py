"""Capturing a client's release of information: a page that starts from the client, so it
lives with clients (consent sits below clients and never imports them; ARCHITECTURE.md).

A submission that fails validation is shown again with its errors and the values chosen,
at 400; nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from audit.services import audit_read
from consent.categories import Category
from consent.forms import ReleaseForm
from consent.services import release_create as create_release
from organizations.roles import Capability
from organizations.tenancy import member_required

from .models import Client
from .views import tombstone_redirect


@member_required(Capability.CAPTURE_RELEASES)
@require_http_methods(["GET", "POST"])
def release_create(request, client_id: int):
    """Capture a release: the terms, the signer, and the signature by the chosen method,
    with the exact text being agreed to beside the signature."""
    org = request.organization
    # Capturing a release for someone requires seeing who they are.
    client = get_object_or_404(
        Client.objects.visible_to(org, Category.DEMOGRAPHICS).select_related("network"),
        pk=client_id,
    )
    if client.is_tombstone:
        return tombstone_redirect(request, client, "release_create")
    preview = request.method == "POST" and "preview" in request.POST
    if request.method == "POST":
        form = ReleaseForm(
            request.POST, request.FILES, organization=org, client=client, actor=request.user
        )
        if preview:
            if request.headers.get("HX-Request") == "true":
                return render(
                    request, "consent/_agreement_text.html", {"agreement": form.agreement()}
                )
            # A preview is not a submission: show the values chosen, not complaints about
            # what is still missing.
            form._errors = ErrorDict()
        elif form.is_valid():
            try:
                release = create_release(**form.service_kwargs())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, gettext("The release of information was recorded."))
                return redirect("release_detail", release_id=release.pk)
    else:
        # `?recipient=<organization id>` (repeatable): the organizations the user is about
        # to refer to (the referral page's "capture a release" link), ticked already.
        wanted = [int(v) for v in request.GET.getlist("recipient") if v.isdigit()]
        form = ReleaseForm(
            organization=org,
            client=client,
            actor=request.user,
            initial={"recipients": wanted} if wanted else None,
        )
    audit_read(
        request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS.value],
    )
    return render(
        request,
        "consent/release_form.html",
        {
            "client": client,
            "form": form,
            "agreement": form.agreement(),
            "preview": preview,
            "default_months": client.network.release_default_months,
        },
        status=400 if request.method == "POST" and not preview else 200,
    )
