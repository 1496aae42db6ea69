"""The codes the FHIR interface speaks, and where each comes from.

- The SDOH Clinical Care IG's value sets and temporary code system are read from the IG's own
  FHIR Shorthand files (`terminology/`, copied unchanged from the reference folder), so a code
  Linkage accepts or writes is the IG's, never a guess.
- FHIR core code systems appear by their canonical URLs; their codes come from the FHIR model
  library (fhir.resources enumerations) where it lists them, and from the IG's examples
  otherwise (each constant says which example).
- Linkage's own codes (referral outcomes, decline reasons, business statuses, release
  categories and purposes, organization kinds) are published under
  `settings.FHIR_CANONICAL_BASE`, with the code values the domain models use. README.md
  ("FHIR R4") lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

from organizations.sdoh import CODE_SYSTEM as SDOHCC_CODE_SYSTEM

TERMINOLOGY = Path(__file__).resolve().parent / "terminology"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
TASK_STATUS_SYSTEM = "http://hl7.org/fhir/task-status"
REQUEST_PRIORITY_SYSTEM = "http://hl7.org/fhir/request-priority"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
V3_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_POLICY_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentpolicycodes"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
OMB_RACE_ETHNICITY = "urn:oid:2.16.840.1.113883.6.238"
US_CORE_RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
US_CORE_ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
IG_URL = f"{SDOHCC}/ImplementationGuide/hl7.fhir.us.sdoh-clinicalcare"
PROFILE = {
    "Task": f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement",
    "ServiceRequest": f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest",
    "Procedure": f"{SDOHCC}/StructureDefinition/SDOHCC-Procedure",
    "Consent": f"{SDOHCC}/StructureDefinition/SDOHCC-Consent",
    "HealthcareService": f"{SDOHCC}/StructureDefinition/SDOHCC-HealthcareService",
    "Patient": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient",
    "Organization": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-organization",
    "QuestionnaireResponse": (
        "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaireresponse"
    ),
}

# FHIR R4 TaskStatus (http://hl7.org/fhir/R4/valueset-task-status.html): the value set the
# IG's referral Task status value set starts from ("include codes from valueset TaskStatus").
TASK_STATUS = frozenset(
    {
        "draft",
        "requested",
        "received",
        "accepted",
        "rejected",
        "ready",
        "cancelled",
        "in-progress",
        "on-hold",
        "failed",
        "completed",
        "entered-in-error",
    }
)

# From the IG's examples: the category every SDOH ServiceRequest and Procedure carries
# (ServiceRequest-SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample,
# Procedure-SDOHCC-ProcedureFoodPantryApplicationAssistanceExample) and the referral Task's
# code (Task-SDOHCC-TaskReferralManagementOrderFulfillment*Example).
SOCIAL_SERVICE_PROCEDURE = {
    "system": SNOMED,
    "code": "410606002",
    "display": "Social service procedure",
}
TASK_FULFILL = {
    "system": TASK_CODE_SYSTEM,
    "code": "fulfill",
    "display": "Fulfill the focal request",
}
# The consent's kind, from Consent-SDOHCC-ConsentInformationDisclosureExample.
CONSENT_SCOPE_PRIVACY = {
    "system": CONSENT_SCOPE_SYSTEM,
    "code": "patient-privacy",
    "display": "Privacy Consent",
}
CONSENT_CATEGORY_DISCLOSURE = {
    "system": V3_ACT_CODE,
    "code": "IDSCL",
    "display": "information disclosure",
}
CONSENT_POLICY_HIPAA = {
    "system": CONSENT_POLICY_SYSTEM,
    "code": "hipaa-auth",
    "display": "HIPAA Authorization",
}
# v3-ParticipationType IRCP: the information recipient of a disclosure (the Consent
# mapping: release recipients are provision.actor entries with this role).
RECIPIENT_ROLE = {
    "system": V3_PARTICIPATION_TYPE,
    "code": "IRCP",
    "display": "information recipient",
}
# The security label on a resource shown without the parts the viewer may not see.
REDACTED = {"system": V3_OBSERVATION_VALUE, "code": "REDACTED", "display": "redacted"}


@dataclass(frozen=True)
class Concept:
    system: str
    code: str
    display: str

    def coding(self) -> dict:
        return {"system": self.system, "code": self.code, "display": self.display}


_ALIASES = {
    "SDOHCCCodeSystemTemporaryCodes": SDOHCC_CODE_SYSTEM,
    "TemporaryCodes": SDOHCC_CODE_SYSTEM,
    "TaskStatus": TASK_STATUS_SYSTEM,
    "RequestPriority": REQUEST_PRIORITY_SYSTEM,
}
_VS_CONCEPT = re.compile(r'^\*\s+(?P<system>[^#\s]+)#(?P<code>[^\s"]+)(?:\s+"(?P<display>[^"]*)")?')
_VS_EXCLUDE = re.compile(r"^\*\s+exclude\s+(?P<system>[^#\s]+)#(?P<code>\S+)")
_CS_CONCEPT = re.compile(r'^\*\s+#(?P<code>[^\s"]+)\s+"(?P<display>[^"]*)"')


def _system(name: str) -> str:
    name = name.split("|", 1)[0]
    return _ALIASES.get(name, name)


def _lines(file_name: str) -> list[str]:
    return (TERMINOLOGY / file_name).read_text(encoding="utf-8").splitlines()


@cache
def value_set(file_name: str) -> tuple[Concept, ...]:
    """The concepts a value set lists one by one (`* System#code "Display"`)."""
    out = []
    for line in _lines(file_name):
        if _VS_EXCLUDE.match(line) or line.lstrip("* ").startswith(("include", "^")):
            continue
        match = _VS_CONCEPT.match(line)
        if match:
            out.append(
                Concept(_system(match["system"]), match["code"], match["display"] or match["code"])
            )
    return tuple(out)


@cache
def excluded(file_name: str) -> frozenset[tuple[str, str]]:
    """The (system, code) pairs a value set excludes (`* exclude System#code`)."""
    found = set()
    for line in _lines(file_name):
        match = _VS_EXCLUDE.match(line)
        if match:
            found.add((_system(match["system"]), match["code"]))
    return frozenset(found)


@cache
def temporary_codes() -> dict[str, Concept]:
    """The IG's temporary code system (SDOHCC-CodeSystemTemporaryCodes), by code."""
    out = {}
    for line in _lines("SDOHCCCodeSystemTemporaryCodes.fsh"):
        match = _CS_CONCEPT.match(line)
        if match:
            out[match["code"]] = Concept(SDOHCC_CODE_SYSTEM, match["code"], match["display"])
    return out


@cache
def sdoh_categories() -> dict[str, Concept]:
    """SDOHCC-ValueSetSDOHCategory, by code (system: the IG's temporary code system)."""
    return {c.code: c for c in value_set("SDOHCCValueSetSDOHCategory.fsh")}


@cache
def referral_task_statuses() -> frozenset[str]:
    """SDOHCC-ValueSetReferralTaskStatus: TaskStatus less the codes the IG excludes."""
    dropped = {
        code
        for system, code in excluded("SDOHCCValueSetReferralTaskStatus.fsh")
        if system == TASK_STATUS_SYSTEM
    }
    return TASK_STATUS - dropped


@cache
def task_priorities() -> frozenset[str]:
    """SDOHCC-ValueSetTaskPriority (routine, urgent)."""
    return frozenset(c.code for c in value_set("SDOHCCValueSetTaskPriority.fsh"))


def resulting_activity() -> dict:
    return temporary_codes()["resulting-activity"].coding()


def contacting_subject_prohibited() -> dict:
    return temporary_codes()["contacting-subject-prohibited"].coding()


# --- Linkage's own code systems ---------------------------------------------------------


def linkage_system(name: str) -> str:
    """The canonical URL of one of Linkage's code systems (or identifier systems)."""
    return f"{settings.FHIR_CANONICAL_BASE.rstrip('/')}/CodeSystem/{name}"


def referral_outcome_system() -> str:
    return linkage_system("referral-outcome")


def decline_reason_system() -> str:
    """Why a receiver declined a referral (Task.statusReason.coding of a rejected Task):
    the codes of Referral.DeclineReason."""
    return linkage_system("referral-decline-reason")


def business_status_system() -> str:
    return linkage_system("referral-business-status")


def release_category_system() -> str:
    return linkage_system("release-category")


def release_purpose_system() -> str:
    return linkage_system("release-purpose")


def organization_kind_system() -> str:
    return linkage_system("organization-kind")


def release_recipient_system() -> str:
    """The identifier system of the one logical recipient a Consent may name besides
    Organizations: `all-network-partners` (every active partner of the network)."""
    return linkage_system("release-recipient")


ALL_NETWORK_PARTNERS = "all-network-partners"
