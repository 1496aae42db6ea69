"""Assessment pages: start, one step at a time (saved as you go), result, history, FHIR.

A step (or the start form, or the release step) that fails validation is shown again with
its errors and the answers given, at 400, and nothing of it is kept; answering an assessment
a colleague completed meanwhile, at 409.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import AuditEvent
from audit.services import audit_read
from clients.models import Client
from consent import policy
from consent.categories import Category
from directory.capacity import CapacityState
from directory.selectors import suggest_programs
from organizations.roles import Capability
from organizations.tenancy import member_required

from . import fhir, selectors, services
from .forms import StartForm, StepForm
from .models import Assessment

SOCIAL_NEEDS = [Category.SOCIAL_NEEDS.value]


def _client_for(request, client_id: int) -> Client:
    """A client the active organization may see (any category), or 404."""
    return get_object_or_404(
        Client.objects.visible_to(request.organization).select_related("network"), pk=client_id
    )


def _own_assessment(request, assessment_id: int) -> Assessment:
    """An assessment this organization gives. Another organization's assessment is not
    found here even when it may read it: only the administering organization answers."""
    assessment = get_object_or_404(
        selectors.assessment_for_page(request.organization), pk=assessment_id
    )
    if assessment.organization_id != request.organization.pk:
        raise Http404("No such assessment in progress.")
    return assessment


def _audit_assessments(request, assessments, action=AuditEvent.Action.VIEW) -> None:
    audit_read(
        request,
        object_type="assessment",
        objects=assessments,
        categories=SOCIAL_NEEDS,
        action=action,
    )


@member_required(Capability.ADMINISTER_ASSESSMENTS)
@require_http_methods(["GET", "POST"])
def assessment_start(request, client_id: int):
    """Choose the instrument and how it is given; optionally start with a release."""
    org = request.organization
    client = _client_for(request, client_id)
    shows_contact = policy.may_see(org, Category.DEMOGRAPHICS, client)
    can_capture = request.membership.has(Capability.CAPTURE_RELEASES) and shows_contact
    data = request.POST if request.method == "POST" else None
    form = StartForm(
        data,
        can_capture_release=can_capture,
        # The preferred language is contact information: a default only when it may be seen.
        client_language=client.preferred_language if shows_contact else "",
    )
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_start(
                client=client,
                organization=org,
                instrument=form.cleaned_data["instrument"],
                mode=form.cleaned_data["mode"],
                language=form.cleaned_data["language"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            first = 0 if form.cleaned_data.get("capture_release") else 1
            return redirect("assessment_step", assessment_id=assessment.pk, step=first)
    unfinished = list(selectors.in_progress_for(org=org, client=client)[:10])
    _audit_assessments(request, unfinished, AuditEvent.Action.LIST)
    return render(
        request,
        "assessments/start.html",
        {
            "client": client,
            "client_label": selectors.client_label(org, client),
            "form": form,
            "unfinished": unfinished,
        },
        status=400 if request.method == "POST" else 200,
    )


@member_required(Capability.ADMINISTER_ASSESSMENTS)
@require_http_methods(["GET", "POST"])
def assessment_step(request, assessment_id: int, step: int):
    """One question group per page. Each save stores the step's answers, so the assessment
    can be resumed; the last step (or "finish now") scores it."""
    assessment = _own_assessment(request, assessment_id)
    if assessment.is_completed:
        messages.info(request, _("This assessment is already completed."))
        return redirect("assessment_result", assessment_id=assessment.pk)
    if step == 0:
        return _release_step(request, assessment)
    # The questions in the client's language; the answers are codes in every language.
    definition = assessment.client_definition
    step_def = definition.step(step)
    if step_def is None:
        raise Http404("No such step.")
    saved = assessment.item_answers()
    data = request.POST if request.method == "POST" else None
    with translation.override(assessment.language):
        # "Declined to answer" and the answer errors sit among the client's questions.
        form = StepForm(data, step=step_def, initial_answers=saved)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        finish = "finish" in request.POST or step == len(definition.steps)
        try:
            # One savepoint: a refused finish must not keep the step's half-saved answers.
            with transaction.atomic():
                assessment = services.assessment_save_step(
                    assessment=assessment,
                    step=step,
                    answers=form.answers(),
                    actor=request.user,
                    request=request,
                )
                if finish:
                    assessment = services.assessment_complete(
                        assessment=assessment, actor=request.user, request=request
                    )
        except ValidationError as error:
            form.add_error(None, error)
            if Assessment.objects.filter(
                pk=assessment.pk, status=Assessment.Status.COMPLETED
            ).exists():
                # Completed by someone else since this page was opened.
                status = 409
        else:
            if finish:
                messages.success(request, _("The assessment is complete."))
                return redirect("assessment_result", assessment_id=assessment.pk)
            return redirect("assessment_step", assessment_id=assessment.pk, step=step + 1)
    _audit_assessments(request, [assessment])
    return render(
        request,
        "assessments/step.html",
        {
            "assessment": assessment,
            "client_label": selectors.client_label(request.organization, assessment.client),
            "step": step_def,
            "steps": definition.steps,
            "form": form,
            "is_last": step == len(definition.steps),
            "question_language": assessment.language,
            "translation": assessment.instrument.translation(assessment.language),
        },
        status=status,
    )


def _release_step(request, assessment: Assessment):
    """Step 0: the release of information, captured before the questions (optional: the
    assessment is saved for the administering organization either way)."""
    from consent.forms import ReleaseForm
    from consent.services import release_create

    org = request.organization
    client = assessment.client
    if not (
        request.membership.has(Capability.CAPTURE_RELEASES)
        and policy.may_see(org, Category.DEMOGRAPHICS, client)
    ):
        # Capturing a release means seeing who the client is; go straight to the questions.
        return redirect("assessment_step", assessment_id=assessment.pk, step=1)
    if request.method == "POST" and "skip" in request.POST:
        return redirect("assessment_step", assessment_id=assessment.pk, step=1)
    form = ReleaseForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        organization=org,
        client=client,
        actor=request.user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                release = release_create(**form.service_kwargs())
                services.assessment_attach_release(
                    assessment=assessment, release=release, actor=request.user, request=request
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The release of information was recorded."))
            return redirect("assessment_step", assessment_id=assessment.pk, step=1)
    audit_read(
        request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS.value],
    )
    return render(
        request,
        "assessments/release_step.html",
        {
            "assessment": assessment,
            "client": client,
            "form": form,
            "agreement": form.agreement(),
            "steps": assessment.client_definition.steps,
            "default_months": client.network.release_default_months,
        },
        status=400 if request.method == "POST" else 200,
    )


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def assessment_result(request, assessment_id: int):
    """The result: domains, needs, risk level, rescreen date, answers, and programs of the
    network's directory suggested for the needs."""
    org = request.organization
    assessment = get_object_or_404(selectors.assessment_for_page(org), pk=assessment_id)
    client = assessment.client
    suggestions = []
    needs = list(assessment.needs.all())
    if assessment.is_completed and needs:
        shows_contact = policy.may_see(org, Category.DEMOGRAPHICS, client)
        found = suggest_programs(
            network=client.network,
            needs=[n.category for n in needs],
            # Used for ranking only, and only when this organization may see them.
            zip_code=client.zip_code if shows_contact else "",
            language=client.preferred_language if shows_contact else "",
            age=client.age_at(timezone.now()) if shows_contact else None,
        )
        suggestions = [(s, CapacityState(s.capacity_state).label) for s in found]
    _audit_assessments(request, [assessment])
    # The reader's language where the instrument has it (the codes are the same).
    language = (get_language() or "").split("-")[0]
    return render(
        request,
        "assessments/result.html",
        {
            "assessment": assessment,
            "client_label": selectors.client_label(org, client),
            "results": assessment.results(language=language),
            "needs": needs,
            "answered_steps": selectors.answered_steps(assessment, language=language),
            "suggestions": suggestions,
            "is_own": assessment.organization_id == org.pk,
        },
    )


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def assessment_history(request, client_id: int):
    """A client's assessments visible to this organization, and the change in matrix
    (Self-Sufficiency) ratings between the first and the latest."""
    org = request.organization
    client = _client_for(request, client_id)
    page = Paginator(selectors.assessments_for_client(org=org, client=client), 20).get_page(
        request.GET.get("page")
    )
    histories = selectors.matrix_histories(org=org, client=client)
    shown = {a.pk: a for a in page.object_list}
    for history in histories:
        shown.setdefault(history.first.pk, history.first)
        shown.setdefault(history.latest.pk, history.latest)
    _audit_assessments(request, shown.values(), AuditEvent.Action.LIST)
    return render(
        request,
        "assessments/history.html",
        {
            "client": client,
            "client_label": selectors.client_label(org, client),
            "page": page,
            "histories": histories,
        },
    )


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def assessment_fhir(request, assessment_id: int):
    """The assessment as FHIR: a collection Bundle of its QuestionnaireResponse and
    Observations (a download for systems that take FHIR)."""
    assessment = get_object_or_404(
        selectors.assessment_for_page(request.organization), pk=assessment_id
    )
    _audit_assessments(request, [assessment], AuditEvent.Action.EXPORT)
    response = HttpResponse(
        json.dumps(fhir.bundle(assessment), indent=2), content_type="application/fhir+json"
    )
    response["Content-Disposition"] = f'attachment; filename="assessment-{assessment.pk}.json"'
    return response
