"""The outcomes page of a partnership: its outcome measures (defined by org admins of its
organizations and by backbone admins; changed, deactivated after a confirmation) and the
results its organizations report for their clients, one typed in or a CSV upload.

URLs carry the partnership's id only; measure and result ids and client identifiers come
by POST (the confirmation panels take a measure or result id in the query string: numbers,
never a client's identifier). Bad input is answered with the page again, its errors shown,
at 400, and nothing written. Flash messages never carry client data (they may travel in a
cookie): what was recorded is on the page, under the audit log.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from audit.services import audit_read
from consent.categories import Category
from organizations.models import Partnership
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from ..models import OutcomeMeasure, OutcomeResult
from . import selectors, services
from .forms import (
    CLIENT_COLUMNS,
    MAX_UPLOAD_ROWS,
    REQUIRED_COLUMNS,
    OutcomeMeasureForm,
    OutcomeRecordForm,
    OutcomeUploadForm,
)

INVALID = 400


class _Page:
    """Who is asking about which partnership, and what they may do there."""

    def __init__(self, request, partnership_id: int):
        self.request = request
        self.org = request.organization
        self.partnership = get_visible_or_404(Partnership, self.org, pk=partnership_id)
        membership = request.membership
        self.can_define = services.outcome_may_define(
            partnership=self.partnership, membership=membership
        )
        self.can_record = services.outcome_may_record(
            partnership=self.partnership, membership=membership
        )
        self.can_review = membership.has(Capability.VIEW_MEASURES)
        if not (self.can_define or self.can_record or membership.has(Capability.VIEW_PARTNERSHIPS)):
            raise PermissionDenied(gettext("Your role does not allow this."))

    def measure(self, raw) -> OutcomeMeasure:
        """One of this partnership's measures by a posted or linked id, or 404."""
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            raise Http404("Unknown outcome measure.") from None
        return get_object_or_404(OutcomeMeasure, partnership=self.partnership, pk=pk)

    def render(self, status: int = 200, **overrides):
        p = self.partnership
        context = {
            "partnership": p,
            "page": self,
            "measures": selectors.partnership_measures(p, self.org),
            "define_form": OutcomeMeasureForm(partnership=p) if self.can_define else None,
            "record_form": OutcomeRecordForm(partnership=p) if self.can_record else None,
            "upload_form": OutcomeUploadForm(partnership=p) if self.can_record else None,
            "client_columns": CLIENT_COLUMNS,
            "required_columns": REQUIRED_COLUMNS,
            "max_rows": MAX_UPLOAD_ROWS,
            "threshold": settings.METRICS_SUPPRESSION_THRESHOLD,
            **overrides,
        }
        recent = selectors.recent_results(self.org, p) if self.can_record else []
        # What the page shows of clients' health information is in the audit trail.
        audit_read(
            self.request,
            object_type="outcome_result",
            objects=recent,
            categories=[Category.HEALTH.value],
        )
        context["recent"] = recent
        return render(self.request, "metrics/outcomes.html", context, status=status)

    def require(self, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied(gettext("Your role does not allow this."))


@require_GET
@member_required()
def outcomes(request, partnership_id: int):
    """The partnership's outcome measures, with the forms its people may use. `?edit=`,
    `?deactivate=` and `?entered_in_error=` open a measure's edit form or a confirmation."""
    page = _Page(request, partnership_id)
    extra = {}
    if "edit" in request.GET:
        page.require(page.can_define)
        measure = page.measure(request.GET["edit"])
        extra["edit_form"] = OutcomeMeasureForm(instance=measure, partnership=page.partnership)
        extra["editing"] = measure
    elif "deactivate" in request.GET:
        page.require(page.can_define)
        extra["deactivating"] = page.measure(request.GET["deactivate"])
    elif "entered_in_error" in request.GET:
        page.require(page.can_record)
        extra["correcting"] = _own_result(page, request.GET["entered_in_error"])
    return page.render(**extra)


def _own_result(page: _Page, raw) -> OutcomeResult:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        raise Http404("Unknown result.") from None
    return get_object_or_404(
        OutcomeResult.objects.visible_to(page.org)
        .counted()
        .filter(measure__partnership=page.partnership)
        .select_related("measure"),
        pk=pk,
    )


def _back(partnership: Partnership):
    return redirect("metrics_outcomes", partnership_id=partnership.pk)


@require_POST
@member_required()
def outcome_define(request, partnership_id: int):
    """Define a new outcome measure for the partnership."""
    page = _Page(request, partnership_id)
    page.require(page.can_define)
    form = OutcomeMeasureForm(request.POST, partnership=page.partnership)
    if form.is_valid():
        try:
            services.outcome_measure_create(
                partnership=page.partnership,
                organization=page.org,
                actor=request.user,
                data=form.cleaned_data,
                request=request,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                gettext("Outcome measure “%(name)s” defined.")
                % {"name": form.cleaned_data["name"]},
            )
            return _back(page.partnership)
    return page.render(INVALID, define_form=form)


@require_POST
@member_required()
def outcome_edit(request, partnership_id: int):
    """Change a measure's definition (a changed goal re-scores past results)."""
    page = _Page(request, partnership_id)
    page.require(page.can_define)
    measure = page.measure(request.POST.get("measure"))
    form = OutcomeMeasureForm(request.POST, instance=measure, partnership=page.partnership)
    if form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.outcome_measure_update(
                measure=OutcomeMeasure.objects.get(pk=measure.pk),
                organization=page.org,
                actor=request.user,
                data=data,
                request=request,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                gettext("Saved.")
                if changed
                else gettext("Nothing changed: the definition is as it was."),
            )
            return _back(page.partnership)
    fresh = OutcomeMeasure.objects.get(pk=measure.pk)
    return page.render(INVALID, edit_form=form, editing=fresh)


@require_POST
@member_required()
def outcome_set_active(request, partnership_id: int):
    """Deactivate a measure (after the confirmation: `confirm=yes`) or reactivate it."""
    page = _Page(request, partnership_id)
    page.require(page.can_define)
    measure = page.measure(request.POST.get("measure"))
    active = request.POST.get("active") == "1"
    if not active and request.POST.get("confirm") != "yes":
        return page.render(
            INVALID,
            deactivating=measure,
            confirm_error=gettext("Confirm to deactivate the measure."),
        )
    services.outcome_measure_set_active(
        measure=measure, active=active, organization=page.org, actor=request.user, request=request
    )
    messages.success(
        request,
        gettext("“%(name)s” is active again.") % {"name": measure.name}
        if active
        else gettext("“%(name)s” is deactivated: no new results; those reported stay counted.")
        % {"name": measure.name},
    )
    return _back(page.partnership)


@require_POST
@member_required()
def outcome_record(request, partnership_id: int):
    """Record one result for a client named by MRN or Linkage client number."""
    page = _Page(request, partnership_id)
    page.require(page.can_record)
    form = OutcomeRecordForm(request.POST, partnership=page.partnership)
    if form.is_valid():
        try:
            (report,) = services.outcome_results_record(
                measure=form.cleaned_data["measure"],
                organization=page.org,
                actor=request.user,
                rows=[form.row()],
                request=request,
            )
        except ValidationError as error:
            form.add_error("measure", error)
        else:
            if report.recorded:
                messages.success(
                    request, gettext("Result recorded: it is the first in the list below.")
                )
                return _back(page.partnership)
            form.add_error(report.field or None, report.message)
    return page.render(INVALID, record_form=form)


@require_POST
@member_required()
def outcome_upload(request, partnership_id: int):
    """Record a CSV of results for one measure, with a row-by-row report of what was
    recorded or rejected and why. A file that is not the expected CSV records nothing."""
    page = _Page(request, partnership_id)
    page.require(page.can_record)
    form = OutcomeUploadForm(request.POST, request.FILES, partnership=page.partnership)
    if not form.is_valid():
        return page.render(INVALID, upload_form=form)
    try:
        reports = services.outcome_results_record(
            measure=form.cleaned_data["measure"],
            organization=page.org,
            actor=request.user,
            rows=form.cleaned_data["file"],
            request=request,
        )
    except ValidationError as error:
        form.add_error("measure", error)
        return page.render(INVALID, upload_form=form)
    recorded = sum(r.recorded for r in reports)
    # Nothing recorded is a failed request; a partly recorded file is a success with its
    # rejected rows listed (and safe to upload again: recorded rows are refused then).
    return page.render(
        200 if recorded else INVALID,
        upload_form=OutcomeUploadForm(partnership=page.partnership),
        upload_report=reports,
        upload_recorded=recorded,
        upload_rejected=len(reports) - recorded,
        upload_measure=form.cleaned_data["measure"],
    )


@require_POST
@member_required()
def outcome_entered_in_error(request, partnership_id: int):
    """Mark a result the organization recorded as entered in error (after `confirm=yes`)."""
    page = _Page(request, partnership_id)
    page.require(page.can_record)
    result = _own_result(page, request.POST.get("result"))
    if request.POST.get("confirm") != "yes":
        return page.render(
            INVALID, correcting=result, confirm_error=gettext("Confirm to mark the result.")
        )
    services.outcome_result_mark_error(
        result=result, organization=page.org, actor=request.user, request=request
    )
    messages.success(
        request, gettext("The result is marked entered in error and no longer counted.")
    )
    return _back(page.partnership)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
