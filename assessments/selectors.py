"""Reads for the assessment pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from clients.models import Client
from consent import policy
from consent.categories import Category
from organizations.models import Organization

from .engine import DomainStatus
from .models import Assessment, Instrument


def assessments_for_client(*, org: Organization, client: Client) -> QuerySet[Assessment]:
    """The client's assessments the organization may see, newest first, ready for a list
    (instrument, organization, staff member and needs fetched with it)."""
    return (
        Assessment.objects.visible_to(org)
        .filter(client=client)
        .select_related("instrument", "organization", "administered_by")
        .prefetch_related("needs")
        .order_by("-started_at", "-id")
    )


def assessment_for_page(org: Organization) -> QuerySet[Assessment]:
    return Assessment.objects.visible_to(org).select_related(
        "instrument", "organization", "administered_by", "client", "client__network", "release"
    )


def in_progress_for(*, org: Organization, client: Client) -> QuerySet[Assessment]:
    """This organization's unfinished assessments of the client (to resume)."""
    return (
        Assessment.objects.visible_to(org)
        .filter(client=client, organization=org, status=Assessment.Status.IN_PROGRESS)
        .select_related("instrument")
        .order_by("-started_at")
    )


def client_label(org: Organization, client: Client) -> str:
    """The client's name when the organization may see demographics; otherwise a neutral
    label (an organization may see a client's screenings without their contact details)."""
    if policy.may_see(org, Category.DEMOGRAPHICS, client):
        return client.display_name
    return _("Client #%(number)s") % {"number": client.pk}


@dataclass(frozen=True)
class AnsweredQuestion:
    label: str
    answers: list[str]
    declined: bool


@dataclass(frozen=True)
class AnsweredStep:
    title: str
    questions: list[AnsweredQuestion]


def answered_steps(assessment: Assessment, *, language: str | None = None) -> list[AnsweredStep]:
    """Every question of the instrument, step by step, with what was recorded (worded in
    `language` when the instrument has it)."""
    answers = assessment.item_answers()
    out = []
    for step in assessment.instrument.definition_in(language).steps:
        rows = []
        for question in step.questions:
            answer = answers.get(question.link_id)
            labels = [question.option(c).display for c in answer.codes] if answer else []
            rows.append(AnsweredQuestion(question.label, labels, bool(answer and answer.declined)))
        out.append(AnsweredStep(step.title, rows))
    return out


@dataclass(frozen=True)
class DomainChange:
    title: str
    first: int | None
    latest: int | None

    @property
    def change(self) -> int | None:
        if self.first is None or self.latest is None:
            return None
        return self.latest - self.first


@dataclass(frozen=True)
class MatrixHistory:
    """The change in one matrix instrument's domain ratings between a client's first and
    latest completed assessments."""

    instrument_title: str
    first: Assessment
    latest: Assessment
    count: int
    domains: list[DomainChange]


def matrix_histories(*, org: Organization, client: Client) -> list[MatrixHistory]:
    """Per matrix instrument (Self-Sufficiency Matrix), first and latest ratings per domain
    and the change, over the completed assessments the organization may see. A domain not
    rated in the first (or latest) assessment shows no change."""
    completed = list(
        Assessment.objects.visible_to(org)
        .completed()
        .filter(client=client, instrument__kind=Instrument.Kind.MATRIX)
        .select_related("instrument")
        .order_by("completed_at", "id")
    )
    by_key: dict[str, list[Assessment]] = {}
    for assessment in completed:
        by_key.setdefault(assessment.instrument.key, []).append(assessment)
    out = []
    for series in by_key.values():
        first, latest = series[0], series[-1]
        # Domains as the latest version defines them (a renamed title follows the latest).
        rows = []
        for domain in latest.definition.domains:
            rows.append(
                DomainChange(
                    title=domain.title,
                    first=_rating(first, domain.key),
                    latest=_rating(latest, domain.key),
                )
            )
        out.append(MatrixHistory(latest.instrument.title, first, latest, len(series), rows))
    return out


def _rating(assessment: Assessment, domain_key: str) -> int | None:
    stored = assessment.domain_results.get(domain_key) or {}
    if stored.get("status") not in DomainStatus.SCREENED:
        return None
    return stored.get("score")
