"""Putting referrals on record: a new referral for a client (or from an assessment), a
referral onward from one received, and an inbound referral that arrived by fax, phone,
walk-in or self-referral."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from audit.models import AuditEvent
from audit.services import audit_read
from clients.forms import ClientSearchForm
from clients.models import Client
from clients.selectors import client_search
from consent.categories import Category
from directory.capacity import CapacityState
from directory.selectors import suggest_programs
from organizations.models import Organization
from organizations.roles import Capability
from organizations.tenancy import member_required

from .. import selectors, services
from ..forms import LogInboundForm, ReferralForm
from ..models import Referral
from .detail import referral_or_404, render_detail
from .errors import add_duplicate, add_errors

SUGGESTIONS = 8
CLIENT_RESULTS = 25


def _client_with_demographics(request, client_id) -> Client:
    """Referring someone means saying who they are: only clients whose demographics the
    organization may see (404 otherwise)."""
    return get_object_or_404(
        Client.objects.visible_to(request.organization, Category.DEMOGRAPHICS).select_related(
            "network"
        ),
        pk=client_id,
    )


def _audit_client(request, client: Client) -> None:
    audit_read(
        request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS.value],
    )


@member_required(Capability.VIEW_CLIENTS)
@require_http_methods(["GET", "POST"])
def referral_new(request, client_id: int):
    """A new referral for the client; `?assessment=<id>` starts from that assessment's
    needs."""
    client = _client_with_demographics(request, client_id)
    assessments, assessment = selectors.referral_assessments(
        organization=request.organization,
        client=client,
        wanted=request.GET.get("assessment") or request.POST.get("assessment") or "",
    )
    initial_needs = assessment.need_codes if assessment else []
    return _compose(
        request,
        client=client,
        referred_from=None,
        assessment=assessment,
        initial_needs=initial_needs,
        extra={"assessments": assessments},
    )


@member_required(Capability.VIEW_CLIENTS)
@require_http_methods(["GET", "POST"])
def referral_onward(request, referral_id: int):
    """The receiver refers the client on to another program; the chain is kept
    (`referred_from`)."""
    referral = referral_or_404(request, referral_id)
    refusal = selectors.onward_refusal(referral, request.organization)
    if refusal:
        # Refusals answer with the referral's page and the reason (403), not a redirect
        # that would look like success to a script or to htmx.
        messages.error(request, refusal)
        return render_detail(request, referral, status=403)
    return _compose(
        request,
        client=referral.client,
        referred_from=referral,
        assessment=None,
        initial_needs=[n.code for n in referral.needs.all()],
        extra={},
    )


def _compose(request, *, client, referred_from, assessment, initial_needs, extra):
    org = request.organization
    programs = selectors.programs_to_refer_to(org)
    # The directory as this organization sees it, with capacity; a closed program is shown
    # (so people know it exists) but cannot be chosen.
    directory = list(programs)
    # "Send to the organization, let them choose the program": organizations with a
    # program open to referrals in this directory.
    intake_ids = {p.organization_id for p in directory if p.capacity_state != CapacityState.CLOSED}
    organizations = Organization.objects.filter(pk__in=intake_ids).order_by("name", "pk")
    status = 200
    duplicate = None
    consent_error = ""
    consent_receiver = None
    if request.method == "POST" and request.POST.get("action") != "suggest":
        form = ReferralForm(request.POST, programs=programs, organizations=organizations)
        # "Keep it as a draft, and send the client the release by link": it goes out when
        # the client signs (referrals/consent_waiting.py).
        waits_for_link = request.POST.get("action") == "wait_for_link"
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = services.referral_send(
                    draft=waits_for_link,
                    client=client,
                    program=data["program"],
                    receiver_organization=data["receiver_organization"],
                    sender_organization=org,
                    sender_user=request.user,
                    needs=data["needs"],
                    reason=data["reason"],
                    urgency=data["urgency"],
                    do_not_contact=data["do_not_contact"],
                    assessment=assessment,
                    referred_from=referred_from,
                )
            except services.DuplicateReferral as error:
                duplicate = add_duplicate(form, error, org)
            except services.ConsentMissing as error:
                consent_error = " ".join(error.messages)
                consent_receiver = error.receiver.pk
            except ValidationError as error:
                add_errors(form, error)
            else:
                if waits_for_link:
                    messages.success(
                        request,
                        gettext(
                            "Referral #%(id)s is kept as a draft: it is sent when the client "
                            "signs the release. Now choose how to send the client the link."
                        )
                        % {"id": referral.pk},
                    )
                    query = urlencode(
                        {"referral": referral.pk, "recipient": referral.receiver_organization_id}
                    )
                    return redirect(f"{reverse('release_link_new', args=[client.pk])}?{query}")
                messages.success(
                    request,
                    gettext("Referral #%(id)s sent to %(program)s (%(organization)s).")
                    % {
                        "id": referral.pk,
                        "program": referral.program_name,
                        "organization": referral.receiver_organization.name,
                    },
                )
                return redirect("referral_detail", referral_id=referral.pk)
        status = 400
    elif request.method == "POST":
        # "Update suggestions": keep what was typed, suggest for the needs ticked, and
        # complain about nothing yet.
        form = ReferralForm(
            programs=programs,
            initial={
                "needs": request.POST.getlist("needs"),
                "program": request.POST.get("program", ""),
                "reason": request.POST.get("reason", ""),
                "urgency": request.POST.get("urgency") or Referral.Urgency.ROUTINE,
                "do_not_contact": bool(request.POST.get("do_not_contact")),
            },
        )
    else:
        # `?program=<id>` (a "Refer" button on a program page or a suggestion): chosen
        # already, if the directory offers it and it takes referrals; with no needs from an
        # assessment, the needs that program serves are ticked.
        initial = {"needs": initial_needs}
        wanted = request.GET.get("program", "")
        chosen = next(
            (
                p
                for p in directory
                if str(p.pk) == wanted and p.capacity_state != CapacityState.CLOSED
            ),
            None,
        )
        if chosen is not None:
            initial["program"] = chosen.pk
            if not initial_needs:
                initial["needs"] = selectors.program_need_codes(chosen)
        form = ReferralForm(programs=programs, initial=initial)

    suggestions = suggest_programs(
        network=client.network,
        needs=form.chosen_needs,
        zip_code=client.zip_code,
        language=client.preferred_language,
        age=client.age_at(timezone.now()),
        limit=SUGGESTIONS,
    )
    _audit_client(request, client)
    return render(
        request,
        "referrals/compose.html",
        {
            "client": client,
            "form": form,
            "referred_from": referred_from,
            "assessment": assessment,
            "suggestions": suggestions,
            "directory": directory,
            "intake_organizations": list(organizations),
            "chosen_organization": (
                form.chosen_program_id.removeprefix(ReferralForm.ORGANIZATION_PREFIX)
                if form.chosen_program_id.startswith(ReferralForm.ORGANIZATION_PREFIX)
                else ""
            ),
            "closed_state": CapacityState.CLOSED,
            "chosen_program": form.chosen_program_id,
            "chosen_in_suggestions": any(
                str(s.program.pk) == form.chosen_program_id for s in suggestions
            ),
            "duplicate": duplicate,
            "consent_error": consent_error,
            "consent_receiver": consent_receiver,
            # Whether the client's releases already let each suggested program's
            # organization see what a referral carries (sending checks the same).
            "covered": selectors.organizations_covered(
                client=client,
                organizations=[s.program.organization for s in suggestions],
                sender=org,
            ),
            "may_capture_release": request.membership.has(Capability.CAPTURE_RELEASES),
            **extra,
        },
        status=status,
    )


@member_required(Capability.VIEW_CLIENTS)
@require_http_methods(["GET", "POST"])
def referral_log_inbound(request):
    """Log a referral that reached one of the organization's programs outside Linkage. The
    client is chosen first (found by a POSTed search, or `?client=<id>` from their
    profile); a client not on file yet is created first."""
    org = request.organization
    programs = selectors.own_programs(org)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    client_id = request.POST.get("client") if action == "log" else request.GET.get("client")
    client = None
    if client_id:
        if not str(client_id).isdigit():
            return render(request, "referrals/log_inbound.html", _log_context(request), status=400)
        client = _client_with_demographics(request, int(client_id))

    if action == "find":
        search_form = ClientSearchForm(request.POST)
        found = None
        if search_form.is_valid():
            found = list(client_search(organization=org, **search_form.criteria)[:CLIENT_RESULTS])
            audit_read(
                request,
                object_type="client",
                objects=found,
                client_id_attr="pk",
                categories=[Category.DEMOGRAPHICS.value],
                action=AuditEvent.Action.SEARCH,
            )
        return render(
            request,
            "referrals/log_inbound.html",
            _log_context(request, search_form=search_form, found=found),
            status=200 if search_form.is_valid() else 400,
        )

    if client is None:
        status = 400 if action == "log" else 200
        context = _log_context(request)
        if action == "log":
            context["client_missing"] = True
        return render(request, "referrals/log_inbound.html", context, status=status)

    duplicate = None
    if action == "log":
        form = LogInboundForm(request.POST, programs=programs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = services.referral_log_inbound(
                    client=client,
                    program=data["program"],
                    actor=request.user,
                    organization=org,
                    source=data["source"],
                    external_sender=data["external_sender"],
                    needs=data["needs"],
                    reason=data["reason"],
                    urgency=data["urgency"],
                    do_not_contact=data["do_not_contact"],
                    received_at=data["received_at"],
                )
            except services.DuplicateReferral as error:
                duplicate = add_duplicate(form, error, org)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request,
                    gettext("Referral #%(id)s logged for %(program)s (%(source)s).")
                    % {
                        "id": referral.pk,
                        "program": referral.program_name,
                        "source": referral.get_source_display().lower(),
                    },
                )
                return redirect("referral_detail", referral_id=referral.pk)
        status = 400
    else:
        form = LogInboundForm(programs=programs)
        status = 200
    _audit_client(request, client)
    return render(
        request,
        "referrals/log_inbound.html",
        _log_context(request, client=client, form=form, duplicate=duplicate),
        status=status,
    )


def _log_context(request, **extra) -> dict:
    membership = request.membership
    return {
        "has_programs": selectors.own_programs(request.organization).exists(),
        "may_manage_programs": membership.has(Capability.MANAGE_PROGRAMS),
        "may_create_client": membership.has(Capability.EDIT_CLIENTS),
        "search_form": extra.pop("search_form", None) or ClientSearchForm(),
        **extra,
    }
