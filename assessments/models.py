"""Instruments (data, versioned), assessments of clients, their answers and needs."""

from __future__ import annotations

from functools import cached_property

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent import policy
from consent.categories import Category
from organizations.sdoh import SDOHCategory, sdoh_label

from .engine import (
    SOURCE_LANGUAGE,
    DomainResult,
    DomainStatus,
    InstrumentDefinition,
    ItemAnswer,
    RiskLevel,
    localize,
)


class Instrument(models.Model):
    """A standardized instrument, version by version: a FHIR Questionnaire and Linkage's
    scoring rules for it, loaded from `assessments/instruments/` (never edited in place:
    a changed definition is a new version)."""

    class Kind(models.TextChoices):
        SCREENING = "screening", _("Screening (positive or negative per domain)")
        MATRIX = "matrix", _("Self-sufficiency matrix (each domain rated 1 to 5)")

    key = models.SlugField(max_length=60)
    version = models.CharField(max_length=30)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    questionnaire = models.JSONField(help_text="The FHIR R4 Questionnaire.")
    scoring = models.JSONField(help_text="Linkage's instrument.json: scoring rules.")
    # Per language code, the instrument's wording in that language (translation-<lang>.json:
    # questions, answers, domain titles, and whether it is official and from where). Words
    # only: codes and scoring are the Questionnaire's.
    translations = models.JSONField(default=dict, blank=True)
    # New assessments use the current version of each instrument.
    is_current = models.BooleanField(default=True)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "key", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="instrument_key_version"),
            models.UniqueConstraint(
                fields=["key"], condition=Q(is_current=True), name="instrument_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.key} {self.version})"

    @cached_property
    def definition(self) -> InstrumentDefinition:
        return InstrumentDefinition.from_documents(self.questionnaire, self.scoring)

    @property
    def languages(self) -> list[str]:
        """The languages the instrument can be given in: the source language first."""
        return [SOURCE_LANGUAGE, *sorted(self.translations)]

    def translation(self, language: str) -> dict:
        """What is known of the wording in `language` (official or not, its source);
        {} for the source language or a language without a translation."""
        return dict(self.translations.get(language, {}).get("translation", {}))

    def definition_in(self, language: str | None) -> InstrumentDefinition:
        """The definition worded in `language` (the source wording when there is no
        translation): the same questions, codes and scoring, other words."""
        translation = self.translations.get(language or "")
        if not translation:
            return self.definition
        cache = self.__dict__.setdefault("_localized", {})
        if language not in cache:
            cache[language] = InstrumentDefinition.from_documents(
                *localize(self.questionnaire, self.scoring, translation)
            )
        return cache[language]


class AssessmentQuerySet(models.QuerySet):
    def visible_to(self, org) -> AssessmentQuerySet:
        """The administering organization sees its assessments; another organization sees
        them only when the consent policy lets it see the client's social needs."""
        return self.filter(policy.recorded_q(org, Category.SOCIAL_NEEDS))

    def completed(self) -> AssessmentQuerySet:
        return self.filter(status=Assessment.Status.COMPLETED)


class Assessment(models.Model):
    """One administration of an instrument to a client, by an organization: its answers,
    and once completed, its result (domains, needs, risk level, rescreen date)."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("By phone")
        SELF = "self", _("Self-completed")

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="assessments")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="assessments"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="assessments"
    )
    administered_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, related_name="administered_assessments"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices)
    # The language the questions are shown (or read aloud) in: the client's. The answers'
    # codes and the scoring do not depend on it.
    language = models.CharField(max_length=10, default=SOURCE_LANGUAGE)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    # A release captured as the first page of this assessment, if any.
    release = models.ForeignKey(
        "consent.Release",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assessments",
    )
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # The furthest step reached: where "continue" resumes.
    current_step = models.PositiveSmallIntegerField(default=1)
    # Per domain key: {"status": ..., "score": ...} (see engine.DomainResult).
    domain_results = models.JSONField(default=dict, blank=True)
    risk_level = models.CharField(max_length=20, choices=RiskLevel.CHOICES, blank=True)
    # Swept by the reminders job: indexed.
    rescreen_due_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["client", "started_at"], name="assessment_client_started"),
            models.Index(fields=["organization", "status"], name="assessment_org_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(completed_at__isnull=False),
                name="assessment_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment {self.pk} ({self.instrument.key})"

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED

    @property
    def definition(self) -> InstrumentDefinition:
        return self.instrument.definition

    @property
    def client_definition(self) -> InstrumentDefinition:
        """The definition in the language the client is asked in."""
        return self.instrument.definition_in(self.language)

    def item_answers(self) -> dict[str, ItemAnswer]:
        """The recorded answers in the engine's shape (from prefetched rows if any)."""
        codes: dict[str, list[str]] = {}
        declined: set[str] = set()
        for row in self.answers.all():
            if row.declined:
                declined.add(row.link_id)
            else:
                codes.setdefault(row.link_id, []).append(row.code)
        out = {link_id: ItemAnswer(codes=tuple(c)) for link_id, c in codes.items()}
        out.update({link_id: ItemAnswer(declined=True) for link_id in declined})
        return out

    def results(self, *, language: str | None = None) -> list[DomainResult]:
        """The stored result per domain, in the instrument's order (titles in `language`
        when the instrument has it)."""
        out = []
        for domain in self.instrument.definition_in(language).domains:
            stored = self.domain_results.get(domain.key, {})
            out.append(
                DomainResult(
                    key=domain.key,
                    title=domain.title,
                    category=domain.category,
                    status=stored.get("status", DomainStatus.NOT_SCREENED),
                    score=stored.get("score"),
                )
            )
        return out

    @property
    def need_codes(self) -> list[str]:
        return [n.category for n in self.needs.all()]


class Answer(models.Model):
    """One answer to one question (a multi-select question has one row per chosen answer),
    with its code; or the record that the client declined the question."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    link_id = models.CharField(max_length=64)
    question_system = models.CharField(max_length=200, blank=True)
    question_code = models.CharField(max_length=64, blank=True)
    system = models.CharField(max_length=200, blank=True)
    code = models.CharField(max_length=64, blank=True)
    display = models.CharField(max_length=500, blank=True)
    score = models.SmallIntegerField(null=True, blank=True)
    declined = models.BooleanField(default=False)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assessment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "link_id", "code"], name="answer_once_per_code"
            ),
            models.CheckConstraint(
                condition=Q(declined=True, code="") | Q(declined=False) & ~Q(code=""),
                name="answer_code_unless_declined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.link_id}: {'declined' if self.declined else self.code}"


class Need(models.Model):
    """A need an assessment identified: a positive domain, as a Gravity SDOH category."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="needs")
    domain = models.CharField(max_length=60)
    category = models.CharField(max_length=60, choices=SDOHCategory.choices, db_index=True)

    class Meta:
        ordering = ["assessment", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "domain"], name="need_once_per_domain")
        ]

    def __str__(self) -> str:
        return self.get_category_display()

    @property
    def category_label(self) -> str:
        """The category as people read it, in the page's language (the choices' labels stay
        the code system's English: FHIR and HSDS carry them)."""
        return sdoh_label(self.category)
