"""The business case page: a partnership's projected cost, savings, ROI, break-even volume
and the HCO's share once a subsidy ends, beside the last twelve months on the record."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from organizations.models import Partnership
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from . import business_case, selectors
from .business_forms import BusinessCaseForm, term_defaults


@require_GET
@member_required(Capability.VIEW_MEASURES)
def business_case_page(request, partnership_id: int):
    """The business case for one partnership (its organizations and the backbone; others
    404). Inputs come in the query string, prefilled from the partnership's terms; bad
    input is shown back with a message, nothing computed. Only counts and sums of the
    record are read, never a client, so there is nothing to audit."""
    org = request.organization
    partnership = get_visible_or_404(Partnership, org, pk=partnership_id)
    today = timezone.localdate()
    terms = selectors.terms_visible(org).filter(partnership=partnership)
    defaults, term = term_defaults(terms.prefetch_related("subsidies"), today)
    asked = any(name in request.GET for name in BusinessCaseForm.base_fields)
    form = BusinessCaseForm(request.GET if asked else defaults)
    inputs = projection = None
    status = 200
    if form.is_valid():
        inputs = form.inputs()
        projection = business_case.project(inputs)
    else:
        messages.error(
            request, gettext("Some inputs are not numbers in range: see the fields marked.")
        )
        status = 400
    context = {
        "partnership": partnership,
        "term": term,
        "form": form,
        "projection": projection,
        "inputs": inputs,
        "actuals": business_case.record_actuals(partnership, today),
    }
    return render(request, "payments/business_case.html", context, status=status)
