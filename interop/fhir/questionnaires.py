"""QuestionnaireResponse → an assessment, scored (assessments.services.assessment_record).

The QuestionnaireResponse names its Questionnaire by canonical URL (`questionnaire`,
a `|version` suffix is ignored); it must be the Questionnaire of one of Linkage's current
instruments (assessments/instruments/: the AHC HRSN core screening,
`http://loinc.org/q/96777-8`, and the Self-Sufficiency Matrix). Items are matched by
linkId (groups may nest them or not) and answered with `valueCoding` codes of the
question's options; the instrument's own rules check the answers and score them, exactly
as in the browser. An answer carrying the data-absent-reason extension `asked-declined`
records the question as declined.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from assessments.engine import ItemAnswer
from assessments.models import Assessment, Instrument
from assessments.services import assessment_record

from .errors import FhirError, Issue, from_service_error, invalid, required
from .references import Resolver

DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def _instrument(canonical: str, where: str) -> Instrument:
    url = canonical.split("|", 1)[0]
    current = [i for i in Instrument.objects.filter(is_current=True) if i.definition.url == url]
    if not current:
        known = ", ".join(
            sorted(i.definition.url for i in Instrument.objects.filter(is_current=True))
        )
        raise invalid(
            f"{where}.questionnaire: {url!r} is not an instrument Linkage scores (known: {known}).",
            code="not-supported",
            expression=f"{where}.questionnaire",
        )
    return current[0]


def _items(items: list[dict], path: str):
    for index, item in enumerate(items or []):
        here = f"{path}.item[{index}]"
        yield item, here
        yield from _items(item.get("item") or [], here)
        for a_index, answer in enumerate(item.get("answer") or []):
            yield from _items(answer.get("item") or [], f"{here}.answer[{a_index}]")


def _declined(answer: dict) -> bool:
    return any(
        e.get("url") == DATA_ABSENT_REASON and e.get("valueCode") == "asked-declined"
        for e in answer.get("extension") or []
    )


def questionnaire_response_create(*, qr: dict, where: str, resolver: Resolver) -> Assessment:
    """Record and score the assessment a completed QuestionnaireResponse holds (FhirError,
    nothing written, naming the item that is wrong)."""
    caller = resolver.caller
    if qr.get("status") != "completed":
        raise invalid(
            f"{where}.status: Linkage records completed screenings (status completed).",
            expression=f"{where}.status",
        )
    if not qr.get("questionnaire"):
        raise required(
            f"{where}.questionnaire: name the Questionnaire.", expression=f"{where}.questionnaire"
        )
    instrument = _instrument(qr["questionnaire"], where)
    definition = instrument.definition
    patient = resolver.target(qr.get("subject"), where=f"{where}.subject", kinds=("Patient",))
    client = resolver.client(patient, where=f"{where}.subject")
    answers: dict[str, ItemAnswer] = {}
    places: dict[str, str] = {}
    problems: list[Issue] = []
    for item, here in _items(qr.get("item") or [], where):
        link_id = item.get("linkId", "")
        given = item.get("answer") or []
        if not given:
            continue  # a group, or a question left unanswered
        if link_id not in definition.questions:
            problems.append(
                Issue(
                    f"{here}: {link_id!r} is not a question of {definition.title}.",
                    expression=(f"{here}.linkId",),
                )
            )
            continue
        if link_id in answers:
            problems.append(Issue(f"{here}: {link_id!r} is answered twice.", expression=(here,)))
            continue
        if any(_declined(a) for a in given):
            answers[link_id] = ItemAnswer(declined=True)
        else:
            coded = []
            for a_index, answer in enumerate(given):
                coding = answer.get("valueCoding")
                if not coding or not coding.get("code"):
                    problems.append(
                        Issue(
                            f"{here}.answer[{a_index}]: answers are coded (valueCoding).",
                            expression=(f"{here}.answer[{a_index}]",),
                        )
                    )
                    continue
                coded.append(coding["code"])
            answers[link_id] = ItemAnswer(codes=tuple(coded))
        places[link_id] = here
        try:
            definition.clean({link_id: answers[link_id]})
        except ValidationError as error:
            problems += [Issue(m, "code-invalid", expression=(here,)) for m in error.messages]
    if problems:
        raise FhirError(422, problems)
    if not answers:
        raise required(f"{where}.item: nothing is answered.", expression=f"{where}.item")
    source = (qr.get("source") or {}).get("reference", "")
    mode = (
        Assessment.Mode.SELF
        if source and source == patient_reference(qr)
        else Assessment.Mode.IN_PERSON
    )
    try:
        return assessment_record(
            client=client,
            organization=caller.organization,
            instrument=instrument,
            mode=mode,
            actor=caller.user,
            answers=answers,
            request=caller.request,
        )
    except ValidationError as error:
        raise from_service_error(error, expressions={"": f"{where}.item"}) from None


def patient_reference(qr: dict) -> str:
    return (qr.get("subject") or {}).get("reference", "")
