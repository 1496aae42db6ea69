"""Codes from the HL7 SDOH Clinical Care IG (Gravity Project), STU 3, used across Linkage.

SDOH categories: value set SDOHCC-ValueSetSDOHCategory, drawn from the IG's temporary code
system below (the directory's capacity statuses, `directory.capacity`, use it too). The code
values are the IG's exactly, so they travel unchanged into FHIR, HSDS exports and reports.
"""

from __future__ import annotations

from django.db import models

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
