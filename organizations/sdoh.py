"""Codes from the HL7 SDOH Clinical Care IG (Gravity Project), STU 3, used across Linkage.

SDOH categories: value set SDOHCC-ValueSetSDOHCategory, drawn from the IG's temporary code
system below (the directory's capacity statuses, `directory.capacity`, use it too). The code
values are the IG's exactly, so they travel unchanged into FHIR, HSDS exports and reports.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext, gettext_noop

CODE_SYSTEM = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"


class SDOHCategory(models.TextChoices):
    """Social determinants of health domains (labels are the IG's display strings)."""

    SDOH_CATEGORY_UNSPECIFIED = "sdoh-category-unspecified", "SDOH Category Unspecified"
    FOOD_INSECURITY = "food-insecurity", "Food Insecurity"
    HOUSING_INSTABILITY = "housing-instability", "Housing Instability"
    HOMELESSNESS = "homelessness", "Homelessness"
    INADEQUATE_HOUSING = "inadequate-housing", "Inadequate Housing"
    TRANSPORTATION_INSECURITY = "transportation-insecurity", "Transportation Insecurity"
    FINANCIAL_INSECURITY = "financial-insecurity", "Financial Insecurity"
    MATERIAL_HARDSHIP = "material-hardship", "Material Hardship"
    EDUCATIONAL_ATTAINMENT = "educational-attainment", "Educational Attainment"
    EMPLOYMENT_STATUS = "employment-status", "Employment Status"
    VETERAN_STATUS = "veteran-status", "Veteran Status"
    STRESS = "stress", "Stress"
    SOCIAL_CONNECTION = "social-connection", "Social Connection"
    INTIMATE_PARTNER_VIOLENCE = "intimate-partner-violence", "Intimate Partner Violence"
    ELDER_ABUSE = "elder-abuse", "Elder Abuse"
    PERSONAL_HEALTH_LITERACY = "personal-health-literacy", "Personal Health Literacy"
    HEALTH_INSURANCE_COVERAGE_STATUS = (
        "health-insurance-coverage-status",
        "Health Insurance Coverage Status",
    )
    MEDICAL_COST_BURDEN = "medical-cost-burden", "Medical Cost Burden"
    DIGITAL_LITERACY = "digital-literacy", "Digital Literacy"
    DIGITAL_ACCESS = "digital-access", "Digital Access"
    UTILITY_INSECURITY = "utility-insecurity", "Utility Insecurity"
    INCARCERATION_STATUS = "incarceration-status", "Incarceration Status"
    LANGUAGE_ACCESS = "language-access", "Language Access"
    PROTECTIVE_FACTOR = "protective-factor", "Protective Factor"


# The categories' names in the words of the page's language. The labels above stay the
# code system's own displays (FHIR and HSDS output carries them verbatim); gettext_noop
# only lists them for the catalogue.
_NAMES_FOR_TRANSLATION = (
    gettext_noop("SDOH Category Unspecified"),
    gettext_noop("Food Insecurity"),
    gettext_noop("Housing Instability"),
    gettext_noop("Homelessness"),
    gettext_noop("Inadequate Housing"),
    gettext_noop("Transportation Insecurity"),
    gettext_noop("Financial Insecurity"),
    gettext_noop("Material Hardship"),
    gettext_noop("Educational Attainment"),
    gettext_noop("Employment Status"),
    gettext_noop("Veteran Status"),
    gettext_noop("Stress"),
    gettext_noop("Social Connection"),
    gettext_noop("Intimate Partner Violence"),
    gettext_noop("Elder Abuse"),
    gettext_noop("Personal Health Literacy"),
    gettext_noop("Health Insurance Coverage Status"),
    gettext_noop("Medical Cost Burden"),
    gettext_noop("Digital Literacy"),
    gettext_noop("Digital Access"),
    gettext_noop("Utility Insecurity"),
    gettext_noop("Incarceration Status"),
    gettext_noop("Language Access"),
    gettext_noop("Protective Factor"),
)


def sdoh_label(code: str) -> str:
    """A category code as people read it, in the active language ("food-insecurity":
    "Food Insecurity", "Inseguridad alimentaria"); an unknown code as given."""
    if code not in SDOHCategory.values:
        return code
    return gettext(SDOHCategory(code).label)
