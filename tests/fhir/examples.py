"""The IG's example resources (tests/fhir/fixtures/, see NOTICE.md), pointed at a test
tenant's organizations and patient, and the comparisons that say "equivalent on read".

The examples name servers and rows that do not exist here (Organization/SDOHCC-...,
PractitionerRole/SDOHCC-PractitionerRoleDrJanWaterExample, Patient/pat-53234); `repoint`
replaces those references, and nothing else, before a test posts an example.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"

SR_FOOD_PANTRY = "ServiceRequest-SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample"
SR_SUMMER_FOOD = "ServiceRequest-SDOHCC-ServiceRequestSubreferralSummerFoodProgramExample"
TASK_ACCEPTED = "Task-SDOHCC-TaskReferralManagementOrderFulfillmentAcceptedExample"
TASK_COMPLETED = "Task-SDOHCC-TaskReferralManagementOrderFulfillmentCompletedExample"
SUBTASK_ACCEPTED = "Task-SDOHCC-TaskReferralManagementOrderSubtaskAcceptedExample"
SUBTASK_COMPLETED = "Task-SDOHCC-TaskReferralManagementOrderSubtaskCompletedExample"
PROCEDURE_FOOD_PANTRY = "Procedure-SDOHCC-ProcedureFoodPantryApplicationAssistanceExample"
PROCEDURE_SUMMER_FOOD = "Procedure-SDOHCC-ProcedureSummerFoodProgramApplicationAssistanceExample"
CONSENT = "Consent-SDOHCC-ConsentInformationDisclosureExample"
QR_HUNGER_VITAL_SIGN = "QuestionnaireResponse-SDOHCC-QuestionnaireResponseHungerVitalSignExample"
QR_PRAPARE = "QuestionnaireResponse-SDOHCC-QuestionnaireResponsePRAPAREExample"
PATIENT = "Patient-pat-53234"

# The example's own references to things of the IG's imagined servers.
EXAMPLE_PATIENT = "Patient/pat-53234"
EXAMPLE_PRACTITIONER = "PractitionerRole/SDOHCC-PractitionerRoleDrJanWaterExample"
EXAMPLE_PLATFORM = "Organization/SDOHCC-OrganizationCoordinationPlatformExample"
EXAMPLE_CLINIC = "Organization/SDOHCC-OrganizationClinicExample"
EXAMPLE_PAYER = "Organization/SDOHCC-OrganizationPayerExample"


def ref_of(name: str) -> str:
    """The example's own reference: "Task-SDOHCC-X" -> "Task/SDOHCC-X"."""
    kind, _, resource_id = name.partition("-")
    return f"{kind}/{resource_id}"


def load(name: str) -> dict:
    """A fresh copy of an example (its narrative dropped: it names the example patient)."""
    resource = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    resource.pop("text", None)
    return copy.deepcopy(resource)


def repoint(resource, mapping: dict[str, str]):
    """Replace every `reference` found in `mapping` (and drop the displays that named the
    example's people and organizations)."""
    if isinstance(resource, list):
        return [repoint(item, mapping) for item in resource]
    if not isinstance(resource, dict):
        return resource
    out = {}
    for key, value in resource.items():
        out[key] = repoint(value, mapping)
    if "reference" in out and out["reference"] in mapping:
        out["reference"] = mapping[out["reference"]]
        out.pop("display", None)
    return out


def codes_of(concepts) -> set[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept or a list of them."""
    if isinstance(concepts, dict):
        concepts = [concepts]
    return {(c.get("system"), c.get("code")) for cc in concepts or [] for c in cc.get("coding", [])}


def reference(element) -> str:
    return (element or {}).get("reference", "")


def assert_service_request_equivalent(sent: dict, read: dict) -> None:
    """What the ServiceRequest asks for comes back: status, intent, categories (the need),
    the requested service's code, the subject, basedOn. (reasonReference to Conditions is
    not kept: Linkage holds the need as its SDOH category.)"""
    assert read["resourceType"] == "ServiceRequest"
    assert read["status"] == sent["status"]
    assert codes_of(read["category"]) == codes_of(sent["category"])
    assert codes_of(read["code"]) == codes_of(sent["code"])
    assert reference(read["subject"]) == reference(sent["subject"])


def assert_task_equivalent(sent: dict, read: dict) -> None:
    """The workflow comes back: status, intent, code, focus, for, requester, owner,
    partOf, and outputs by type."""
    assert read["resourceType"] == "Task"
    for name in ("status", "intent"):
        assert read[name] == sent[name], name
    assert codes_of(read["code"]) == codes_of(sent["code"])
    for name in ("focus", "for", "requester", "owner"):
        assert reference(read[name]) == reference(sent[name]), name
    assert [reference(p) for p in read.get("partOf", [])] == [
        reference(p) for p in sent.get("partOf", [])
    ]
    assert [codes_of(o["type"]) for o in read.get("output", [])] == [
        codes_of(o["type"]) for o in sent.get("output", [])
    ]
    for output in read.get("output", []):
        assert reference(output["valueReference"]).startswith("Procedure/")


def assert_procedure_equivalent(sent: dict, read: dict) -> None:
    """What was done comes back: status, category, code, subject, basedOn, date."""
    assert read["resourceType"] == "Procedure"
    assert read["status"] == sent["status"]
    assert codes_of(read["category"]) == codes_of(sent["category"])
    assert codes_of(read["code"]) == codes_of(sent["code"])
    assert reference(read["subject"]) == reference(sent["subject"])
    assert [reference(b) for b in read["basedOn"]] == [reference(b) for b in sent["basedOn"]]
    assert read["performedDateTime"][:10] == sent["performedDateTime"][:10]
