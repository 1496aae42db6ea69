"""QuestionnaireResponse → an assessment, scored by the instrument's own rules.

Neither of the IG's QuestionnaireResponse examples answers an instrument Linkage ships
(they answer the Hunger Vital Sign and PRAPARE; Linkage ships the AHC HRSN core screening
and a Self-Sufficiency Matrix): both are refused, saying so. The AHC screening is shown
with a response an EHR would send for the shipped Questionnaire."""

from __future__ import annotations

import pytest

from assessments.models import Assessment
from audit.models import AuditEvent
from tests.fhir import examples as ex

pytestmark = pytest.mark.django_db

AHC = "http://loinc.org/q/96777-8"
LOINC = "http://loinc.org"


def _answer(code: str) -> dict:
    return {"valueCoding": {"system": LOINC, "code": code}}


def ahc_response(client, **food) -> dict:
    """Every AHC core question answered: food positive ("often true"), the rest not."""
    answers = {
        "ach-housing": {"124296": "LA31993-1", "123820": "LA9-3"},
        "ach-food": {"123821": food.get("first", "LA28397-0"), "123822": "LA28398-8"},
        "ach-other-risks": {"123823": "LA32-8", "123824": "LA32-8"},
        "ach-safety": dict.fromkeys(("123825", "123826", "123827", "123828"), "LA6270-8"),
    }
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": AHC,
        "status": "completed",
        "subject": {"reference": f"Patient/{client.pk}"},
        "authored": "2025-03-01T10:00:00Z",
        "item": [
            {
                "linkId": group,
                "item": [{"linkId": q, "answer": [_answer(a)]} for q, a in items.items()],
            }
            for group, items in answers.items()
        ],
    }


def test_an_ahc_screening_is_recorded_and_scored(tenant, hco_fhir, cbo_fhir):
    sent = ahc_response(tenant.client)
    response = hco_fhir.post("QuestionnaireResponse", sent)
    assert response.status_code == 201, response.json()
    assert response.json()["id"].startswith("assessment-")
    assessment = Assessment.objects.get(pk=response.json()["id"].removeprefix("assessment-"))
    assert assessment.status == "completed" and assessment.organization == tenant.hco
    assert assessment.need_codes == ["food-insecurity"]
    assert assessment.risk_level == "moderate"
    # Read back (by the food bank too: the release covers social needs): the same answers.
    for api in (hco_fhir, cbo_fhir):
        read = api.get(f"QuestionnaireResponse/assessment-{assessment.pk}").json()
        assert (read["questionnaire"], read["status"]) == (AHC, "completed")
        assert ex.reference(read["subject"]) == sent["subject"]["reference"]

        def answers(qr):
            return {
                (q["linkId"], a["valueCoding"]["code"])
                for group in qr["item"]
                for q in group["item"]
                for a in q["answer"]
            }

        assert answers(read) == answers(sent)
    assert AuditEvent.objects.filter(object_type="assessment", action="view").count() == 2


def test_a_declined_question(tenant, hco_fhir):
    sent = ahc_response(tenant.client)
    safety = sent["item"][3]["item"][0]
    safety["answer"] = [
        {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                    "valueCode": "asked-declined",
                }
            ],
            "valueCoding": {"system": LOINC, "code": "LA6270-8"},
        }
    ]
    response = hco_fhir.post("QuestionnaireResponse", sent)
    assert response.status_code == 201, response.json()
    assessment = Assessment.objects.get()
    assert assessment.item_answers()["123825"].declined


@pytest.mark.parametrize("name", [ex.QR_HUNGER_VITAL_SIGN, ex.QR_PRAPARE])
def test_the_ig_examples_are_not_linkage_instruments(tenant, hco_fhir, name):
    qr = ex.repoint(ex.load(name), {ex.EXAMPLE_PATIENT: f"Patient/{tenant.client.pk}"})
    response = hco_fhir.post("QuestionnaireResponse", qr)
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["code"] == "not-supported"
    assert issue["expression"] == ["QuestionnaireResponse.questionnaire"]
    assert qr["questionnaire"] in issue["diagnostics"] and AHC in issue["diagnostics"]
    assert not Assessment.objects.exists()


def test_wrong_answers_name_their_item(tenant, hco_fhir):
    sent = ahc_response(tenant.client, first="LA0000-0")
    response = hco_fhir.post("QuestionnaireResponse", sent)
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["QuestionnaireResponse.item[1].item[0]"]
    assert "LA0000-0" in issue["diagnostics"]
    sent = ahc_response(tenant.client)
    sent["item"][0]["item"].append({"linkId": "999", "answer": [_answer("LA32-8")]})
    response = hco_fhir.post("QuestionnaireResponse", sent)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == [
        "QuestionnaireResponse.item[0].item[2].linkId"
    ]
    sent = ahc_response(tenant.client)
    sent["status"] = "in-progress"
    assert hco_fhir.post("QuestionnaireResponse", sent).status_code == 422
    assert not Assessment.objects.exists()
