"""FHIR export: valid R4B resources shaped like the SDOH Clinical Care IG's examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from assessments import fhir
from assessments.services import assessment_start
from tests.factories import AHC_NEGATIVE, assessment_for, instrument

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent / "fhir_examples"


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


QR_EXAMPLE = "QuestionnaireResponse-SDOHCC-QuestionnaireResponseHungerVitalSignExample"
OBS_EXAMPLE = "Observation-SDOHCC-ObservationResponseHungerVitalSignQuestion3Example"
GROUPING_EXAMPLE = "Observation-SDOHCC-ObservationResponseNHANESGroupingExample"


def codings(concepts: list[dict]) -> list[tuple[str, str]]:
    return [(c["coding"][0]["system"], c["coding"][0]["code"]) for c in concepts]


@pytest.fixture
def screening(tenant):
    answers = {
        **AHC_NEGATIVE,
        "123820": ("LA28580-1", "LA32001-2"),  # mold, water leaks: housing positive
        "123821": ("LA28397-0",),  # often true: food positive
        "123823": "declined",
    }
    return assessment_for(tenant.client, organization=tenant.hco, answers=answers)


def test_questionnaire_response_validates_and_matches_the_example_shape(screening):
    resource = fhir.questionnaire_response(screening)
    QuestionnaireResponse.model_validate(resource)
    shape = example(QR_EXAMPLE)
    assert resource["meta"]["profile"] == shape["meta"]["profile"]
    assert resource["status"] == shape["status"] == "completed"
    assert resource["subject"] == {"reference": f"Patient/{screening.client_id}"}
    assert resource["questionnaire"] == "http://loinc.org/q/96777-8"
    assert resource["authored"].endswith("Z")
    groups = {g["linkId"]: g for g in resource["item"]}
    assert list(groups) == ["ach-housing", "ach-food", "ach-other-risks", "ach-safety"]
    items = {i["linkId"]: i for g in resource["item"] for i in g["item"]}
    # Same answer structure as the example: answer[].valueCoding with system/code/display.
    assert items["123821"]["answer"] == [
        {
            "valueCoding": {
                "system": "http://loinc.org",
                "code": "LA28397-0",
                "display": "Often true",
            }
        }
    ]
    assert set(items["123821"]["answer"][0]["valueCoding"]) == set(
        shape["item"][0]["answer"][0]["valueCoding"]
    )
    assert [a["valueCoding"]["code"] for a in items["123820"]["answer"]] == [
        "LA28580-1",
        "LA32001-2",
    ]
    assert "123823" not in items  # declined: no answer


def test_observations_validate_and_match_the_example_shape(screening):
    resources = fhir.observations(screening)
    for resource in resources:
        Observation.model_validate(resource)
    shape = example(OBS_EXAMPLE)
    by_code = {}
    for r in resources[1:]:
        by_code.setdefault(r["code"]["coding"][0]["code"], []).append(r)
    food = by_code["88122-7"][0]
    assert food["meta"]["profile"] == shape["meta"]["profile"]
    assert food["status"] == shape["status"] == "final"
    assert codings(food["category"])[:2] == codings(shape["category"])[:2]
    assert codings(food["category"])[2] == (
        "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
        "food-insecurity",
    )
    assert food["code"] == {
        "coding": [
            {
                "system": "http://loinc.org",
                "code": "88122-7",
                "display": "Within the past 12 months, you worried that your food would run "
                "out before you got money to buy more",
            }
        ]
    }
    assert food["valueCodeableConcept"]["coding"][0]["code"] == "LA28397-0"
    assert food["interpretation"] == shape["interpretation"]  # POS, as the example flags it
    assert food["subject"] == {"reference": f"Patient/{screening.client_id}"}
    assert food["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/assessment-{screening.pk}"}
    ]
    assert set(shape) - {"text"} <= set(food)
    assert food["performer"] == [{"reference": f"Organization/{screening.organization_id}"}]
    # A negative answer is not flagged; safety maps to its category.
    assert "interpretation" not in by_code["88123-5"][0]
    assert codings(by_code["95618-5"][0]["category"])[2][1] == "intimate-partner-violence"
    # Multi-select: one Observation per chosen answer, distinct ids.
    housing = by_code["96778-6"]
    assert [r["valueCodeableConcept"]["coding"][0]["code"] for r in housing] == [
        "LA28580-1",
        "LA32001-2",
    ]
    assert len({r["id"] for r in resources}) == len(resources)
    # Declined: no value, the IG's data-absent reason.
    (declined,) = by_code["93030-5"]
    assert "valueCodeableConcept" not in declined
    assert declined["dataAbsentReason"]["coding"][0]["code"] == "asked-declined"


def test_grouping_observation_lists_the_answers_under_the_loinc_panel(screening):
    grouping, *members = fhir.observations(screening)
    Observation.model_validate(grouping)
    shape = example(GROUPING_EXAMPLE)
    assert grouping["meta"]["profile"] == shape["meta"]["profile"]
    assert grouping["code"]["coding"][0]["code"] == "96777-8"
    assert codings(grouping["category"])[:2] == codings(shape["category"])[:2]
    assert grouping["hasMember"] == [{"reference": f"Observation/{m['id']}"} for m in members]
    assert len(members) == 11  # ten questions, one of them with two answers


def test_bundle_validates(screening):
    Bundle.model_validate(fhir.bundle(screening))


def test_ssm_exports_a_questionnaire_response_and_no_loinc_observations(tenant):
    keys = ["housing", "income", "food", "transportation", "health-care-coverage"]
    keys += ["employment", "adult-education", "social-support"]
    assessment = assessment_for(
        tenant.client,
        organization=tenant.cbo,
        instrument_key="self-sufficiency-matrix",
        answers={k: (f"{k}-2",) for k in keys},
    )
    resource = fhir.questionnaire_response(assessment)
    QuestionnaireResponse.model_validate(resource)
    coding = resource["item"][0]["item"][0]["answer"][0]["valueCoding"]
    assert coding["system"] == "https://linkage.invalid/fhir/CodeSystem/self-sufficiency-matrix"
    assert coding["code"] == "housing-2"
    assert fhir.observations(assessment) == []


def test_in_progress_and_self_completed(tenant):
    assessment = assessment_start(
        client=tenant.client,
        organization=tenant.hco,
        instrument=instrument(),
        mode="self",
        actor=tenant.hco_navigator,
    )
    resource = fhir.questionnaire_response(assessment)
    QuestionnaireResponse.model_validate(resource)
    assert resource["status"] == "in-progress"
    assert resource["source"] == {"reference": f"Patient/{tenant.client.pk}"}
    assert "item" not in resource
    assert fhir.observations(assessment) == []
