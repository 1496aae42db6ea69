"""The service codes a program can say it delivers (HSDS taxonomy terms; FHIR
HealthcareService.type), and how a referral's requested service is matched to them.

The SDOH Clinical Care IG codes a requested service (ServiceRequest.code) and what was done
(Procedure.code) with SNOMED CT concepts from its intervention value sets. Those value sets
live in VSAC, not in the IG source kept in ../shared/reference/fhir-sdoh-clinicalcare/; the
SNOMED CT intervention codes that source does carry are the ones its own examples use, and
they are the offered choices here, copied as they appear (code and display):

- 467771000124109 — in examples/
  ServiceRequest-SDOHCC-ServiceRequestActiveFoodPantryApplicationAssistExample.json
  (also Procedure-SDOHCC-ProcedureFoodPantryApplicationAssistanceExample.json)
- 467681000124101 — in examples/
  ServiceRequest-SDOHCC-ServiceRequestSubreferralSummerFoodProgramExample.json
  (also Procedure-SDOHCC-ProcedureSummerFoodProgramApplicationAssistanceExample.json)
- 467751000124104 — in examples/
  ServiceRequest-SDOHCC-ServiceRequestSubreferralGardenProgramExample.json
- 710925007 — examples/Procedure-SDOHCC-ProcedureProvisionOfFoodExample.json

An HSDS import may bring other SNOMED CT concepts (the full value sets are larger): they
are kept as the file gives them, so a program's codes are never narrowed by this list.
"""

from __future__ import annotations

import re

SNOMED = "http://snomed.info/sct"

# (code, display), in the order of the list above.
IG_INTERVENTION_CODES: tuple[tuple[str, str], ...] = (
    ("467771000124109", "Assistance with application for food pantry program"),
    ("467681000124101", "Assistance with application for Summer Food Service Program"),
    ("467751000124104", "Assistance with application for garden program"),
    ("710925007", "Provision of food"),
)
IG_DISPLAY = dict(IG_INTERVENTION_CODES)

# A SNOMED CT identifier: 6 to 18 digits, no leading zero (SNOMED CT IHTSDO technical
# guide, "SCTID"). Checked on every write so a typo never becomes a routing key.
_SCTID = re.compile(r"[1-9]\d{5,17}")


def is_sctid(code: str) -> bool:
    return bool(_SCTID.fullmatch(code or ""))


def display_for(code: str) -> str:
    return IG_DISPLAY.get(code, "")
