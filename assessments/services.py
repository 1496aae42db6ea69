"""Writes: starting an assessment, saving its answers step by step, completing it."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.services import audit_record
from clients.models import Client
from consent.models import Release
from organizations.models import Network, Organization, User

from .engine import SOURCE_LANGUAGE, ItemAnswer, RiskLevel
from .models import Answer, Assessment, Instrument, Need

MESSAGES = {
    "completed": _("This assessment is completed: its answers can no longer change."),
    "client_network": _("The client belongs to another network."),
    "not_current": _("This instrument version is retired: start with the current version."),
    "nothing_answered": _(
        "Answer at least one question (or record that it was declined) before finishing."
    ),
    "release_client": _("That release is for another client."),
    "language": _("%(instrument)s is not available in that language."),
}


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` moved `months` calendar months on (the 31st becomes the month's last day)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def rescreen_due(*, network: Network, risk_level: str, completed_at: datetime) -> datetime:
    """When the client should be screened again: the network's interval, shorter for
    high-risk clients (network rules `rescreen_months` and `rescreen_months_high_risk`).

    Months are counted on the local calendar, so "six months after November 23" is May 23
    as people read it, whatever daylight saving does to the UTC offset in between."""
    months = (
        network.rescreen_months_high_risk
        if risk_level == RiskLevel.HIGH
        else network.rescreen_months
    )
    return add_months(timezone.localtime(completed_at), months)


@transaction.atomic
def assessment_start(
    *,
    client: Client,
    organization: Organization,
    instrument: Instrument,
    mode: str,
    actor: User,
    language: str = SOURCE_LANGUAGE,
    request: HttpRequest | None = None,
) -> Assessment:
    """Open an in-progress assessment of `client` by `organization` (the caller has checked
    the organization may see the client), asked in `language` (one the instrument has
    wording for: the client's when it can be)."""
    if client.network_id != organization.network_id:
        raise ValidationError(MESSAGES["client_network"])
    client.ensure_current()  # a merged record: its survivor takes new assessments
    if not instrument.is_current:
        raise ValidationError(MESSAGES["not_current"])
    if mode not in Assessment.Mode.values:
        raise ValidationError({"mode": gettext('Unknown mode "%(mode)s".') % {"mode": mode}})
    if language not in instrument.languages:
        raise ValidationError({"language": MESSAGES["language"] % {"instrument": instrument.title}})
    assessment = Assessment.objects.create(
        instrument=instrument,
        client=client,
        organization=organization,
        administered_by=actor,
        mode=mode,
        language=language,
    )
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="assessment",
        object_ids=[assessment.pk],
        client_ids=[client.pk],
        actor=actor,
        organization=organization,
        request=request,
        detail={"instrument": instrument.key, "version": instrument.version, "mode": mode},
    )
    return assessment


def _locked(assessment: Assessment) -> Assessment:
    """The row, locked, re-read: two people saving the same assessment queue up, and a
    completed one refuses further changes."""
    locked = (
        Assessment.objects.select_for_update().select_related("instrument").get(pk=assessment.pk)
    )
    if locked.is_completed:
        raise ValidationError(MESSAGES["completed"])
    return locked


@transaction.atomic
def assessment_save_step(
    *,
    assessment: Assessment,
    step: int,
    answers: Mapping[str, ItemAnswer],
    actor: User,
    request: HttpRequest | None = None,
) -> Assessment:
    """Record the answers of one step (a question group), replacing what that step held.

    `answers` maps question linkIds to an `ItemAnswer`; a question left out was skipped.
    Raises ValidationError (nothing saved) for a question that is not in this step of this
    instrument, an answer code that is not one of the question's options, several answers
    to a single-answer question, or a completed assessment.
    """
    assessment = _locked(assessment)
    definition = assessment.definition
    definition.clean(answers, step=step)
    step_def = definition.step(step)
    link_ids = [q.link_id for q in step_def.questions]
    assessment.answers.filter(link_id__in=link_ids).delete()
    now = timezone.now()
    rows = []
    for question in step_def.questions:
        answer = answers.get(question.link_id)
        if answer is None:
            continue
        code = question.code or {}
        common = {
            "assessment": assessment,
            "link_id": question.link_id,
            "question_system": code.get("system", ""),
            "question_code": code.get("code", ""),
            "answered_at": now,
        }
        if answer.declined:
            rows.append(Answer(declined=True, **common))
            continue
        for value in answer.codes:
            option = question.option(value)
            rows.append(
                Answer(
                    system=option.system,
                    code=option.code,
                    display=option.display[:500],
                    score=option.score,
                    **common,
                )
            )
    Answer.objects.bulk_create(rows)
    assessment.current_step = max(assessment.current_step, min(step + 1, len(definition.steps)))
    assessment.save(update_fields=["current_step", "updated_at"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        object_type="assessment",
        object_ids=[assessment.pk],
        client_ids=[assessment.client_id],
        actor=actor,
        organization=assessment.organization,
        request=request,
        # Question ids only: which items were answered, never the answers.
        detail={"step": step, "fields": sorted(answers)},
    )
    return assessment


@transaction.atomic
def assessment_complete(
    *, assessment: Assessment, actor: User, request: HttpRequest | None = None
) -> Assessment:
    """Score the answers and close the assessment: per-domain results, needs (SDOH
    categories of the positive domains), risk level and rescreen date. A partial
    assessment completes too; its unanswered domains are "not screened"."""
    assessment = _locked(assessment)
    answers = assessment.item_answers()
    if not answers:
        raise ValidationError(MESSAGES["nothing_answered"])
    result = assessment.definition.score(answers)
    now = timezone.now()
    assessment.status = Assessment.Status.COMPLETED
    assessment.completed_at = now
    assessment.domain_results = {d.key: d.as_json() for d in result.domains}
    assessment.risk_level = result.risk_level
    assessment.rescreen_due_at = rescreen_due(
        network=assessment.client.network, risk_level=result.risk_level, completed_at=now
    )
    assessment.save(
        update_fields=[
            "status",
            "completed_at",
            "domain_results",
            "risk_level",
            "rescreen_due_at",
            "updated_at",
        ]
    )
    Need.objects.bulk_create(
        [
            Need(assessment=assessment, domain=d.key, category=d.category)
            for d in result.positive_domains
        ]
    )
    audit_record(
        action=AuditEvent.Action.UPDATE,
        object_type="assessment",
        object_ids=[assessment.pk],
        client_ids=[assessment.client_id],
        actor=actor,
        organization=assessment.organization,
        request=request,
        detail={"fields": ["status", "domain_results", "needs", "risk_level", "rescreen_due_at"]},
    )
    return assessment


@transaction.atomic
def assessment_attach_release(
    *,
    assessment: Assessment,
    release: Release,
    actor: User,
    request: HttpRequest | None = None,
) -> Assessment:
    """Link the release captured as the first page of the assessment flow."""
    assessment = _locked(assessment)
    if release.client_id != assessment.client_id:
        raise ValidationError(MESSAGES["release_client"])
    assessment.release = release
    assessment.save(update_fields=["release", "updated_at"])
    audit_record(
        action=AuditEvent.Action.UPDATE,
        object_type="assessment",
        object_ids=[assessment.pk],
        client_ids=[assessment.client_id],
        actor=actor,
        organization=assessment.organization,
        request=request,
        detail={"fields": ["release"]},
    )
    return assessment


@transaction.atomic
def assessment_record(
    *,
    client: Client,
    organization: Organization,
    instrument: Instrument,
    mode: str,
    actor: User,
    answers: Mapping[str, ItemAnswer],
    language: str = SOURCE_LANGUAGE,
    request: HttpRequest | None = None,
) -> Assessment:
    """Record a whole assessment at once (an import, the API, an EHR's screening): start,
    every step's answers, complete. All or nothing."""
    definition = instrument.definition
    definition.clean(answers)
    assessment = assessment_start(
        client=client,
        organization=organization,
        instrument=instrument,
        mode=mode,
        actor=actor,
        language=language,
        request=request,
    )
    for step in definition.steps:
        in_step = {q.link_id: answers[q.link_id] for q in step.questions if q.link_id in answers}
        if in_step:
            assessment = assessment_save_step(
                assessment=assessment,
                step=step.number,
                answers=in_step,
                actor=actor,
                request=request,
            )
    return assessment_complete(assessment=assessment, actor=actor, request=request)
