"""The data categories a release covers (ARCHITECTURE.md, Consent)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    DEMOGRAPHICS = "demographics", _("Demographics and contact")
    SOCIAL_NEEDS = "social_needs", _("Social needs and assessments")
    REFERRALS = "referrals", _("Referral details and outcomes")
    HEALTH = "health", _("Health information")
    BEHAVIORAL_HEALTH = "behavioral_health", _("Behavioral health")
    # 42 CFR Part 2: may only be released to recipients named one by one.
    SUD = "sud", _("Substance-use-disorder records (42 CFR Part 2)")


# Release has one boolean column per category: "covers category C" is then a plain,
# indexable filter on every database.
FIELD_FOR = {c: f"covers_{c.value}" for c in Category}
NAMED_RECIPIENTS_ONLY = frozenset({Category.SUD})

# What a referral carries to its receiver (who the client is, the needs, the referral
# itself): sending checks a release covers these, and a new release starts with them ticked.
CARRIED_CATEGORIES = (Category.DEMOGRAPHICS, Category.SOCIAL_NEEDS, Category.REFERRALS)
