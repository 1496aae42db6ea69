"""An assessment as FHIR R4 resources (plain dicts), after the HL7 SDOH Clinical Care IG:
a QuestionnaireResponse (SDC profile) for the whole instrument, and SDOHCC Observation
Screening Response resources for its LOINC-coded questions, derived from it.

References use Linkage's ids: `Patient/<client id>`, `Organization/<organization id>`,
`QuestionnaireResponse/assessment-<id>`. No names travel here: the receiving system already
knows the patient, and the consent policy decides elsewhere whether it may receive this.
"""

from __future__ import annotations

from datetime import UTC, datetime

from organizations.sdoh import CODE_SYSTEM as SDOHCC_CODES
from organizations.sdoh import SDOHCategory

from .engine import DomainStatus
from .models import Assessment

LOINC = "http://loinc.org"
SDC_QUESTIONNAIRE_RESPONSE = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaireresponse"
)
SDOHCC_SCREENING_RESPONSE = "http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-ObservationScreeningResponse"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

_QR_STATUS = {
    Assessment.Status.IN_PROGRESS: "in-progress",
    Assessment.Status.COMPLETED: "completed",
}


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _patient(assessment: Assessment) -> dict:
    return {"reference": f"Patient/{assessment.client_id}"}


def questionnaire_response_id(assessment: Assessment) -> str:
    return f"assessment-{assessment.pk}"


def questionnaire_response(assessment: Assessment) -> dict:
    """The assessment as a QuestionnaireResponse: the Questionnaire's groups and questions
    (same linkIds), each answered question with its coded answers. Declined and skipped
    questions carry no answer (the Observations say which were declined)."""
    definition = assessment.definition
    answers = assessment.item_answers()
    groups = []
    for step in definition.steps:
        items = []
        for question in step.questions:
            answer = answers.get(question.link_id)
            if answer is None or answer.declined:
                continue
            items.append(
                {
                    "linkId": question.link_id,
                    "text": question.text,
                    "answer": [{"valueCoding": _coding(question, c)} for c in answer.codes],
                }
            )
        if items:
            groups.append({"linkId": step.link_id, "text": step.title, "item": items})
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": questionnaire_response_id(assessment),
        "meta": {"profile": [SDC_QUESTIONNAIRE_RESPONSE]},
        "questionnaire": definition.url,
        "status": _QR_STATUS[assessment.status],
        "subject": _patient(assessment),
        "authored": _instant(assessment.completed_at or assessment.updated_at),
        "author": {"reference": f"Organization/{assessment.organization_id}"},
    }
    if assessment.mode == Assessment.Mode.SELF:
        resource["source"] = _patient(assessment)
    if groups:
        resource["item"] = groups
    return resource


def observations(assessment: Assessment) -> list[dict]:
    """SDOHCC Observation Screening Response resources for the LOINC-coded questions of a
    completed assessment: one per answer (a multi-select question gives one per chosen
    answer), a declined question as a value-less Observation with dataAbsentReason
    `asked-declined`; answers that make their domain positive are flagged POS. With a LOINC
    panel code, a grouping Observation lists them (`hasMember`)."""
    if not assessment.is_completed:
        return []
    definition = assessment.definition
    answers = assessment.item_answers()
    results = {r.key: r for r in assessment.results()}
    when = _instant(assessment.completed_at)
    source = [{"reference": f"QuestionnaireResponse/{questionnaire_response_id(assessment)}"}]
    out = []
    for step in definition.steps:
        for question in step.questions:
            code = question.code or {}
            answer = answers.get(question.link_id)
            if code.get("system") != LOINC or answer is None:
                continue
            domain = definition.domain_of(question.link_id)
            base = {
                "resourceType": "Observation",
                "meta": {"profile": [SDOHCC_SCREENING_RESPONSE]},
                "status": "final",
                "category": _categories(domain.category if domain else None),
                "code": {"coding": [_question_coding(code)]},
                "subject": _patient(assessment),
                "effectiveDateTime": when,
                "issued": when,
                "performer": [{"reference": f"Organization/{assessment.organization_id}"}],
                "derivedFrom": source,
            }
            stem = f"assessment-{assessment.pk}-{question.link_id}"
            if answer.declined:
                out.append(
                    {
                        **base,
                        "id": stem,
                        "dataAbsentReason": {
                            "coding": [
                                {
                                    "system": DATA_ABSENT_REASON,
                                    "code": "asked-declined",
                                    "display": "Asked But Declined",
                                }
                            ]
                        },
                    }
                )
                continue
            for n, value in enumerate(answer.codes, start=1):
                observation = {
                    **base,
                    "id": stem if len(answer.codes) == 1 else f"{stem}-{n}",
                    "valueCodeableConcept": {"coding": [_coding(question, value)]},
                }
                if domain and _flags_positive(domain, question.link_id, value, results):
                    observation["interpretation"] = [
                        {
                            "coding": [
                                {"system": INTERPRETATION, "code": "POS", "display": "Positive"}
                            ]
                        }
                    ]
                out.append(observation)
    panel = definition.code or {}
    if out and panel.get("system") == LOINC:
        out.insert(0, _grouping(assessment, panel, out, when))
    return out


def bundle(assessment: Assessment) -> dict:
    """A collection Bundle of the QuestionnaireResponse and its Observations."""
    resources = [questionnaire_response(assessment), *observations(assessment)]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def _coding(question, code: str) -> dict:
    option = question.option(code)
    coding = {"code": option.code, "display": option.display}
    if option.system:
        coding = {"system": option.system, **coding}
    return coding


def _question_coding(code: dict) -> dict:
    return {k: code[k] for k in ("system", "code", "display") if code.get(k)}


def _categories(category: str | None) -> list[dict]:
    out = [
        {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]},
        {"coding": [{"system": US_CORE_CATEGORY, "code": "sdoh", "display": "SDOH"}]},
    ]
    if category:
        out.append(
            {
                "coding": [
                    {
                        "system": SDOHCC_CODES,
                        "code": category,
                        "display": SDOHCategory(category).label,
                    }
                ]
            }
        )
    return out


def _flags_positive(domain, link_id: str, code: str, results) -> bool:
    result = results.get(domain.key)
    if result is None or result.status != DomainStatus.POSITIVE:
        return False
    positive_answers = domain.rule.get("any_answer_in")
    if positive_answers is None:
        # A score rule: the domain is positive as a whole, every answer contributed.
        return True
    return code in positive_answers.get(link_id, ())


def _grouping(assessment: Assessment, panel: dict, members: list[dict], when: str) -> dict:
    categories = {
        c["coding"][0]["code"]: c for m in members for c in m["category"][2:]
    }  # each member's SDOH category, once
    return {
        "resourceType": "Observation",
        "id": f"assessment-{assessment.pk}",
        "meta": {"profile": [SDOHCC_SCREENING_RESPONSE]},
        "status": "final",
        "category": [*_categories(None), *categories.values()],
        "code": {"coding": [_question_coding(panel)]},
        "subject": _patient(assessment),
        "effectiveDateTime": when,
        "issued": when,
        "hasMember": [{"reference": f"Observation/{m['id']}"} for m in members],
        "derivedFrom": [
            {"reference": f"QuestionnaireResponse/{questionnaire_response_id(assessment)}"}
        ],
    }
