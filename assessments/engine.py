"""The scoring engine: reads an instrument's definition (a FHIR Questionnaire plus Linkage's
`instrument.json` sidecar, see instruments/README.md) and scores a set of answers.

Pure Python, no database: the same definition scores the pages, the API and the tests.

Rules for incomplete answers (so that partial screenings score sensibly):
- a declined item is never positive;
- a domain is positive as soon as its answered items meet the rule (one "often true" is
  enough for food; a safety sum already at 11 stays at 11 or more);
- otherwise it is negative only when every item was answered; when some were skipped or
  declined it is "not screened" (never "negative"), and when every item was declined it is
  "declined".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.sdoh import SDOHCategory

FORMAT = "linkage-instrument/1"
TRANSLATION_FORMAT = "linkage-translation/1"
# The language the Questionnaire files are written in (LOINC's displays).
SOURCE_LANGUAGE = "en"


class DomainStatus:
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NOT_SCREENED = "not_screened"
    DECLINED = "declined"

    LABELS = {
        POSITIVE: gettext_lazy("Positive"),
        NEGATIVE: gettext_lazy("Negative"),
        NOT_SCREENED: gettext_lazy("Not screened"),
        DECLINED: gettext_lazy("Declined to answer"),
    }
    SCREENED = frozenset({POSITIVE, NEGATIVE})


class RiskLevel:
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    UNKNOWN = "unknown"

    CHOICES = [
        (LOW, gettext_lazy("Low")),
        (MODERATE, gettext_lazy("Moderate")),
        (HIGH, gettext_lazy("High")),
        (UNKNOWN, gettext_lazy("Unknown (nothing screened)")),
    ]


class DefinitionError(ValueError):
    """The instrument files are inconsistent (a bug in the data, caught at load time)."""


@dataclass(frozen=True)
class Option:
    code: str
    system: str
    display: str
    score: int | None = None


@dataclass(frozen=True)
class Question:
    link_id: str
    text: str
    prefix: str
    code: Mapping | None  # the question's first coding (LOINC for the AHC tool)
    repeats: bool
    options: tuple[Option, ...]
    exclusive: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return f"{self.prefix}. {self.text}" if self.prefix else self.text

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Step:
    number: int  # 1-based
    link_id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Domain:
    key: str
    title: str
    category: str
    items: tuple[str, ...]
    rule: Mapping


@dataclass(frozen=True)
class ItemAnswer:
    """What was recorded for one question: the chosen codes, or that it was declined."""

    codes: tuple[str, ...] = ()
    declined: bool = False


@dataclass(frozen=True)
class DomainResult:
    key: str
    title: str
    category: str
    status: str
    score: int | None

    @property
    def status_label(self) -> str:
        return DomainStatus.LABELS[self.status]

    @property
    def is_positive(self) -> bool:
        return self.status == DomainStatus.POSITIVE

    def as_json(self) -> dict:
        return {"status": self.status, "score": self.score}


@dataclass(frozen=True)
class Result:
    domains: tuple[DomainResult, ...]
    needs: tuple[str, ...]  # SDOH category codes of the positive domains, in domain order
    risk_level: str

    @property
    def positive_domains(self) -> tuple[DomainResult, ...]:
        return tuple(d for d in self.domains if d.is_positive)


@dataclass(frozen=True)
class InstrumentDefinition:
    key: str
    version: str
    title: str
    kind: str
    url: str
    code: Mapping | None  # the Questionnaire's first code (the LOINC panel for AHC)
    steps: tuple[Step, ...]
    domains: tuple[Domain, ...]
    risk_rules: tuple[Mapping, ...]
    default_risk: str
    questions: Mapping[str, Question] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, questionnaire: Mapping, sidecar: Mapping) -> InstrumentDefinition:
        """Build and check a definition; DefinitionError on any inconsistency."""
        if sidecar.get("format") != FORMAT:
            raise DefinitionError(f"instrument.json must declare format {FORMAT!r}.")
        if questionnaire.get("resourceType") != "Questionnaire":
            raise DefinitionError("The questionnaire file is not a FHIR Questionnaire.")
        scores = sidecar.get("answer_scores", {})
        exclusive = sidecar.get("exclusive_answers", {})
        steps = []
        top = questionnaire.get("item", [])
        for number, item in enumerate(top, start=1):
            # A top-level question outside any group is a step of its own.
            inner = item.get("item", []) if item.get("type") == "group" else [item]
            questions = tuple(_question(q, scores, exclusive) for q in inner)
            title = item.get("text", "") if item.get("type") == "group" else questions[0].text
            steps.append(Step(number, item["linkId"], title, questions))
        questions = {q.link_id: q for s in steps for q in s.questions}
        if len(questions) != sum(len(s.questions) for s in steps):
            raise DefinitionError("Question linkIds must be unique.")
        for link_id in [*scores, *exclusive]:
            if link_id not in questions:
                raise DefinitionError(f"Scores or exclusive answers for unknown item {link_id!r}.")
        domains = tuple(_domain(d, questions) for d in sidecar.get("domains", []))
        if len({d.key for d in domains}) != len(domains):
            raise DefinitionError("Domain keys must be unique.")
        risk = sidecar.get("risk", {})
        rules = tuple(risk.get("rules", []))
        for rule in rules:
            _check_risk_rule(rule, domains, questions)
        default = risk.get("default", RiskLevel.LOW)
        if default not in {RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH}:
            raise DefinitionError(f"Unknown default risk level {default!r}.")
        codes = questionnaire.get("code") or [None]
        for name in ("key", "version", "title", "kind"):
            if not sidecar.get(name):
                raise DefinitionError(f"instrument.json needs {name!r}.")
        return cls(
            key=sidecar["key"],
            version=str(sidecar["version"]),
            title=sidecar["title"],
            kind=sidecar["kind"],
            url=questionnaire.get("url", ""),
            code=codes[0],
            steps=tuple(steps),
            domains=domains,
            risk_rules=rules,
            default_risk=default,
            questions=questions,
        )

    def step(self, number: int) -> Step | None:
        return self.steps[number - 1] if 1 <= number <= len(self.steps) else None

    def domain_of(self, link_id: str) -> Domain | None:
        return next((d for d in self.domains if link_id in d.items), None)

    # -- answers ----------------------------------------------------------------------------

    def clean(self, answers: Mapping[str, ItemAnswer], *, step: int | None = None) -> None:
        """ValidationError (one message per problem) unless every answer fits its question
        (and, with `step`, belongs to that step)."""
        errors = []
        allowed = self.questions
        if step is not None:
            current = self.step(step)
            if current is None:
                raise ValidationError(
                    _("%(title)s has no step %(step)s.") % {"title": self.title, "step": step}
                )
            allowed = {q.link_id: q for q in current.questions}
        for link_id, answer in answers.items():
            question = allowed.get(link_id)
            if question is None:
                if step is not None:
                    message = _(
                        "Question '%(question)s' is not part of step %(step)s of %(title)s."
                    )
                else:
                    message = _("Question '%(question)s' is not part of %(title)s.")
                errors.append(message % {"question": link_id, "step": step, "title": self.title})
                continue
            errors.extend(_answer_errors(question, answer))
        if errors:
            raise ValidationError(errors)

    def score(self, answers: Mapping[str, ItemAnswer]) -> Result:
        """Score answers already cleaned (see `clean`)."""
        results = tuple(self._score_domain(d, answers) for d in self.domains)
        needs = tuple(dict.fromkeys(d.category for d in results if d.is_positive))
        return Result(results, needs, self._risk(results, answers))

    def _score_domain(self, domain: Domain, answers: Mapping[str, ItemAnswer]) -> DomainResult:
        given = {i: answers[i] for i in domain.items if i in answers}
        answered = {i: a for i, a in given.items() if a.codes and not a.declined}
        declined = [i for i, a in given.items() if a.declined]
        complete = len(answered) == len(domain.items)
        total = self._sum(answered)
        rule = domain.rule
        positive = False
        if "any_answer_in" in rule:
            positive = any(
                set(a.codes) & set(rule["any_answer_in"].get(i, ())) for i, a in answered.items()
            )
        elif "sum_at_least" in rule:
            # Scores only add up, so a partial sum at the threshold is already positive.
            positive = bool(answered) and total >= rule["sum_at_least"]
        elif "score_at_most" in rule:
            positive = complete and total <= rule["score_at_most"]
        if positive:
            status = DomainStatus.POSITIVE
        elif complete:
            status = DomainStatus.NEGATIVE
        elif declined and len(declined) == len(domain.items):
            status = DomainStatus.DECLINED
        else:
            status = DomainStatus.NOT_SCREENED
        has_scores = any(self.questions[i].options[0].score is not None for i in domain.items)
        score = total if has_scores and status in DomainStatus.SCREENED else None
        return DomainResult(domain.key, domain.title, domain.category, status, score)

    def _sum(self, answered: Mapping[str, ItemAnswer]) -> int:
        total = 0
        for link_id, answer in answered.items():
            question = self.questions[link_id]
            for code in answer.codes:
                option = question.option(code)
                if option is not None and option.score is not None:
                    total += option.score
        return total

    def _risk(self, results: tuple[DomainResult, ...], answers: Mapping[str, ItemAnswer]) -> str:
        if not any(r.status in DomainStatus.SCREENED for r in results):
            return RiskLevel.UNKNOWN
        positive = {r.key for r in results if r.is_positive}
        for rule in self.risk_rules:
            if _risk_rule_matches(rule, results, positive, answers):
                return rule["level"]
        return self.default_risk


def _question(item: Mapping, scores: Mapping, exclusive: Mapping) -> Question:
    link_id = item["linkId"]
    if item.get("type") != "choice":
        raise DefinitionError(f"Item {link_id!r}: only choice questions are supported.")
    item_scores = scores.get(link_id, {})
    options = []
    for entry in item.get("answerOption", []):
        coding = entry.get("valueCoding")
        if not coding or not coding.get("code"):
            raise DefinitionError(f"Item {link_id!r}: every answer option needs a coded value.")
        options.append(
            Option(
                code=coding["code"],
                system=coding.get("system", ""),
                display=coding.get("display", coding["code"]),
                score=item_scores.get(coding["code"]),
            )
        )
    if not options:
        raise DefinitionError(f"Item {link_id!r} has no answer options.")
    known = {o.code for o in options}
    unknown = (set(item_scores) | set(exclusive.get(link_id, ()))) - known
    if unknown:
        raise DefinitionError(f"Item {link_id!r}: scores for unknown answers {sorted(unknown)}.")
    if item_scores and set(item_scores) != known:
        raise DefinitionError(f"Item {link_id!r}: score every answer or none.")
    codings = item.get("code") or [None]
    return Question(
        link_id=link_id,
        text=item.get("text", ""),
        prefix=item.get("prefix", ""),
        code=codings[0],
        repeats=bool(item.get("repeats", False)),
        options=tuple(options),
        exclusive=frozenset(exclusive.get(link_id, ())),
    )


def _domain(entry: Mapping, questions: Mapping[str, Question]) -> Domain:
    key = entry.get("key", "")
    category = entry.get("category", "")
    if category not in SDOHCategory.values:
        raise DefinitionError(f"Domain {key!r}: {category!r} is not an SDOH category code.")
    items = tuple(entry.get("items", ()))
    if not items or any(i not in questions for i in items):
        raise DefinitionError(f"Domain {key!r}: items must be questions of the Questionnaire.")
    rule = entry.get("positive_when", {})
    kinds = {"any_answer_in", "sum_at_least", "score_at_most"} & set(rule)
    if len(kinds) != 1 or len(rule) != 1:
        raise DefinitionError(
            f"Domain {key!r}: positive_when needs exactly one of any_answer_in, sum_at_least, "
            "score_at_most."
        )
    if "any_answer_in" in rule:
        for link_id, codes in rule["any_answer_in"].items():
            if link_id not in items:
                raise DefinitionError(f"Domain {key!r}: {link_id!r} is not one of its items.")
            known = {o.code for o in questions[link_id].options}
            if set(codes) - known:
                raise DefinitionError(
                    f"Domain {key!r}: {sorted(set(codes) - known)} are not answers of {link_id!r}."
                )
    elif any(questions[i].options[0].score is None for i in items):
        raise DefinitionError(f"Domain {key!r}: a score rule needs scores for every item.")
    return Domain(key, entry.get("title", key), category, items, rule)


_RISK_CONDITIONS = {
    "positive_domain_in",
    "positive_domains_at_least",
    "any_answer_in",
    "domain_score_at_most",
}


def _check_risk_rule(rule: Mapping, domains: tuple[Domain, ...], questions: Mapping) -> None:
    if rule.get("level") not in {RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH}:
        raise DefinitionError(f"Risk rule {rule!r}: unknown level.")
    conditions = set(rule) - {"level"}
    if len(conditions) != 1 or not conditions <= _RISK_CONDITIONS:
        raise DefinitionError(f"Risk rule {rule!r}: needs exactly one known condition.")
    keys = {d.key for d in domains}
    if set(rule.get("positive_domain_in", ())) - keys:
        raise DefinitionError(f"Risk rule {rule!r}: unknown domain.")
    for link_id, codes in rule.get("any_answer_in", {}).items():
        question = questions.get(link_id)
        if question is None or set(codes) - {o.code for o in question.options}:
            raise DefinitionError(f"Risk rule {rule!r}: unknown question or answer.")


def _risk_rule_matches(
    rule: Mapping,
    results: tuple[DomainResult, ...],
    positive: set[str],
    answers: Mapping[str, ItemAnswer],
) -> bool:
    if "positive_domain_in" in rule:
        return bool(positive & set(rule["positive_domain_in"]))
    if "positive_domains_at_least" in rule:
        return len(positive) >= rule["positive_domains_at_least"]
    if "any_answer_in" in rule:
        return any(
            not answers[i].declined and set(answers[i].codes) & set(codes)
            for i, codes in rule["any_answer_in"].items()
            if i in answers
        )
    if "domain_score_at_most" in rule:
        return any(r.score is not None and r.score <= rule["domain_score_at_most"] for r in results)
    return False


def _answer_errors(question: Question, answer: ItemAnswer) -> list[str]:
    name = {"question": question.prefix or question.link_id}
    if answer.declined:
        if answer.codes:
            return [_("Question %(question)s: declined cannot be combined with answers.") % name]
        return []
    if not answer.codes:
        return [_("Question %(question)s: no answer given.") % name]
    errors = []
    unknown = [c for c in answer.codes if question.option(c) is None]
    if unknown:
        errors.append(
            _("Question %(question)s: %(codes)s is not one of its answers.")
            % {**name, "codes": ", ".join(unknown)}
        )
    if len(set(answer.codes)) != len(answer.codes):
        errors.append(_("Question %(question)s: the same answer was given twice.") % name)
    if not question.repeats and len(answer.codes) > 1:
        errors.append(_("Question %(question)s takes one answer.") % name)
    exclusive = question.exclusive & set(answer.codes)
    if exclusive and len(answer.codes) > 1:
        labels = ", ".join(question.option(c).display for c in sorted(exclusive))
        errors.append(
            _("Question %(question)s: '%(answers)s' cannot be combined with other answers.")
            % {**name, "answers": labels}
        )
    return errors


# -- translations ---------------------------------------------------------------------------
#
# A translation (`translation-<language>.json` beside the Questionnaire, see
# instruments/README.md) gives the wording of every group, question and answer in another
# language. It changes words only: the localized definition is built from the same
# Questionnaire and sidecar with the texts replaced, so every answer keeps its code and the
# scoring is the source language's by construction.


def check_translation(questionnaire: Mapping, sidecar: Mapping, translation: Mapping) -> None:
    """DefinitionError unless `translation` words every group, question and answer of the
    Questionnaire (and every domain of the sidecar), and nothing else: a partial
    translation would show a client a page in two languages."""
    if translation.get("format") != TRANSLATION_FORMAT:
        raise DefinitionError(f"A translation must declare format {TRANSLATION_FORMAT!r}.")
    language = translation.get("language", "")
    if not language or language == SOURCE_LANGUAGE:
        raise DefinitionError("A translation needs its language (not the source language).")
    about = translation.get("translation")
    if not isinstance(about, Mapping) or not isinstance(about.get("official"), bool):
        raise DefinitionError(
            f"Translation {language!r}: 'translation' must say whether it is official."
        )
    if about["official"] and not about.get("source"):
        raise DefinitionError(
            f"Translation {language!r}: an official translation cites its source."
        )
    if not about.get("title"):
        raise DefinitionError(f"Translation {language!r}: the instrument's title is missing.")
    items = translation.get("items", {})
    expected = {}
    for item in _walk(questionnaire.get("item", [])):
        expected[item["linkId"]] = {
            o["valueCoding"]["code"] for o in item.get("answerOption", []) if "valueCoding" in o
        }
    missing, extra = set(expected) - set(items), set(items) - set(expected)
    if missing or extra:
        raise DefinitionError(
            f"Translation {language!r}: items missing {sorted(missing)}, unknown {sorted(extra)}."
        )
    for link_id, codes in expected.items():
        entry = items[link_id]
        if not entry.get("text"):
            raise DefinitionError(f"Translation {language!r}: item {link_id!r} has no text.")
        answers = entry.get("answers", {})
        if set(answers) != codes or not all(answers.values()):
            raise DefinitionError(
                f"Translation {language!r}: item {link_id!r} must word exactly its answers "
                f"{sorted(codes)}."
            )
    domains = {d.get("key") for d in sidecar.get("domains", [])}
    if set(translation.get("domains", {})) != domains:
        raise DefinitionError(f"Translation {language!r}: domains must be {sorted(domains)}.")


def localize(questionnaire: Mapping, sidecar: Mapping, translation: Mapping) -> tuple[dict, dict]:
    """Copies of the Questionnaire and sidecar with the translation's wording (checked by
    `check_translation`). Codes, systems, scores and rules are left as they are."""
    import copy

    items = translation["items"]
    localized = copy.deepcopy(dict(questionnaire))
    for item in _walk(localized.get("item", [])):
        entry = items[item["linkId"]]
        item["text"] = entry["text"]
        for option in item.get("answerOption", []):
            coding = option.get("valueCoding")
            if coding:
                coding["display"] = entry["answers"][coding["code"]]
    scoring = copy.deepcopy(dict(sidecar))
    scoring["title"] = translation["translation"]["title"]
    for domain in scoring.get("domains", []):
        domain["title"] = translation["domains"][domain["key"]]
    return localized, scoring


def _walk(items):
    for item in items:
        yield item
        yield from _walk(item.get("item", []))
