"""The pathway pages: the network's pathway definitions and the organization's pathway
instances (each open one showing when it becomes checkable), opening a pathway for a client
from a referral, and closing one without completion. Navigators and admins
(`Capability.ASSIGN_LEAD_NAVIGATOR`: the lead navigator's work)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import audit_read
from consent.categories import Category
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required
from referrals.models import Referral

from . import pathways
from .models import PathwayInstance

CAPABILITY = Capability.ASSIGN_LEAD_NAVIGATOR


@require_http_methods(["GET"])
@member_required(CAPABILITY)
def pathway_list(request):
    """The network's pathways (need, steps, completion, value) and the organization's
    instances; a client's name only where the consent policy shows its demographics."""
    org = request.organization
    page = Paginator(pathways.instances_visible(org), 50).get_page(request.GET.get("page"))
    rows = pathways.instance_views(org, list(page.object_list))
    # The rows say which client has which need: a read of social needs, and of
    # demographics for the rows that show a name.
    audit_read(
        request,
        object_type="pathway_instance",
        objects=[r.instance for r in rows],
        categories=[Category.SOCIAL_NEEDS.value]
        + ([Category.DEMOGRAPHICS.value] if any(r.client for r in rows) else []),
    )
    return render(
        request,
        "payments/pathways/list.html",
        {
            "definitions": pathways.definition_views(org),
            "page": page,
            "rows": rows,
            "reasons": pathways.CloseReason.choices,
        },
    )


def _referral(request) -> Referral:
    raw = request.POST.get("referral") if request.method == "POST" else request.GET.get("referral")
    try:
        referral_id = int(raw or "")
    except ValueError:
        raise Http404("Unknown referral.") from None
    return get_visible_or_404(Referral, request.organization, pk=referral_id)


@require_http_methods(["GET", "POST"])
@member_required(CAPABILITY)
def pathway_open(request):
    """GET: the form to open a pathway for the client of a referral the organization sent
    or received (`?referral=<id>`: the only id in the URL). POST: open it."""
    org = request.organization
    referral = _referral(request)
    needs = list(referral.needs.values_list("code", flat=True))
    choices = list(pathways.pathways_for_needs(org, needs))
    client = pathways.client_if_visible(org, referral.client_id)
    errors: list[str] = []
    if request.method == "POST":
        chosen = next((p for p in choices if str(p.pk) == request.POST.get("pathway", "")), None)
        if chosen is None:
            errors.append(gettext("Choose one of the pathways for this referral's needs."))
        else:
            try:
                pathways.pathway_open(
                    pathway=chosen,
                    client=referral.client,
                    organization=org,
                    actor=request.user,
                    referral=referral,
                )
            except ValidationError as error:
                errors.extend(error.messages)
            else:
                messages.success(
                    request, gettext("Opened the %(pathway)s pathway.") % {"pathway": chosen.name}
                )
                return redirect("pathway_list")
    if client is not None:
        audit_read(
            request,
            object_type="client",
            objects=[client],
            client_id_attr="pk",
            categories=[Category.DEMOGRAPHICS.value],
        )
    return render(
        request,
        "payments/pathways/open.html",
        {"referral": referral, "client": client, "choices": choices, "errors": errors},
        status=400 if errors else 200,
    )


@require_POST
@member_required(CAPABILITY)
def pathway_close(request, pathway_instance_id: int):
    """Close one of the organization's open pathways without completion, with a reason."""
    instance = get_visible_or_404(PathwayInstance, request.organization, pk=pathway_instance_id)
    try:
        pathways.pathway_close(
            instance=instance,
            organization=request.organization,
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("pathway_list")
    messages.success(
        request,
        gettext("Closed pathway %(number)s without completion.") % {"number": instance.pk},
    )
    return redirect("pathway_list")
