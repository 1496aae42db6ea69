"""The backbone's "assign to a program" step: route a referral it received (through its
coordination program) to a program of another organization. The services hold the rules
(referrals/coordination.py); this page shows the choice with capacity, and says clearly
why a routing was refused — a missing release with the way to capture one, as on the new
referral page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from audit.services import audit_read
from directory.capacity import CapacityState
from organizations.roles import Capability
from organizations.tenancy import member_required

from .. import coordination, selectors, services
from ..forms import RouteForm
from .detail import referral_or_404, render_detail
from .errors import add_duplicate, add_errors

SUGGESTIONS = 8


@member_required(Capability.VIEW_CLIENTS)
@require_http_methods(["GET", "POST"])
def referral_route(request, referral_id: int):
    """Choose the program (suggestions for the referral's needs, or the whole directory,
    capacity shown) and the note for it; POST routes. A routing made meanwhile by a
    colleague is reported on the referral's page (409)."""
    referral = referral_or_404(request, referral_id)
    org = request.organization
    if not (org.is_backbone and referral.receiver_organization_id == org.pk):
        messages.error(
            request, gettext("Only the network's backbone routes the referrals it received.")
        )
        return render_detail(request, referral, status=403)
    if request.method == "GET" and not selectors.may_route(referral, org):
        # A POST goes on to the service, which says who routed it where meanwhile.
        messages.error(
            request,
            gettext(
                "This referral cannot be routed now: it is closed, on hold, or already routed "
                "to a program."
            ),
        )
        return render_detail(request, referral, status=409)
    programs = selectors.programs_to_route_to(org)
    consent_error = ""
    duplicate = None
    status = 200
    if request.method == "POST":
        form = RouteForm(request.POST, programs=programs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                part = coordination.referral_route(
                    referral=referral,
                    program=data["program"],
                    actor=request.user,
                    organization=org,
                    reason=data["reason"],
                    expected_status=data["expected_status"],
                )
            except services.TransitionConflict as conflict:
                fresh = referral_or_404(request, referral.pk)
                return render_detail(
                    request, fresh, status=409, conflict=" ".join(conflict.messages)
                )
            except services.ConsentMissing as error:
                consent_error = " ".join(error.messages)
            except services.DuplicateReferral as error:
                duplicate = add_duplicate(form, error, org)
            except PermissionDenied as error:
                form.add_error(None, str(error) or "You may not route this referral.")
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request,
                    gettext(
                        "Referral #%(id)s routed to %(program)s (%(organization)s) as "
                        "referral #%(part)s."
                    )
                    % {
                        "id": referral.pk,
                        "program": part.program.name,
                        "organization": part.receiver_organization.name,
                        "part": part.pk,
                    },
                )
                return redirect("referral_detail", referral_id=referral.pk)
        status = 400
    else:
        form = RouteForm(
            programs=programs,
            initial={"reason": referral.reason, "expected_status": referral.status},
        )
    page = selectors.route_page(referral, org, suggestions=SUGGESTIONS)
    audit_read(
        request,
        object_type="referral",
        objects=[referral, *page.routing.parts],
        categories=page.shown_categories,
    )
    return render(
        request,
        "referrals/route.html",
        {
            "referral": referral,
            "client": page.client,
            "shows_demographics": page.shows_demographics,
            "form": form,
            "suggestions": page.suggestions,
            "directory": list(programs),
            "closed_state": CapacityState.CLOSED,
            "chosen_program": form.chosen_program_id,
            "chosen_in_suggestions": any(
                str(s.program.pk) == form.chosen_program_id for s in page.suggestions
            ),
            "earlier": page.routing.parts,
            "consent_error": consent_error,
            "duplicate": duplicate,
            "may_capture_release": request.membership.has(Capability.CAPTURE_RELEASES)
            and page.shows_demographics,
        },
        status=status,
    )
