"""Rules for client record values, shared by forms and services (and later the API)."""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from .normalize import digits

ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")
STATE_RE = re.compile(r"^[A-Z]{2}$")
# What a person may type in a phone number besides digits: (555) 123-4567, 555.123.4567,
# +1 555 123 4567. Letters and extensions are refused rather than silently dropped.
PHONE_CHARS_RE = re.compile(r"^[\d\s().+-]*$")
OLDEST_BIRTH_YEAR = 1900
PHONE_MESSAGE = "Enter a 10-digit US phone number, for example (555) 123-4567."


def normalize_us_phone(value: str) -> str:
    """ "(555) 123-4567" for any accepted spelling of a 10-digit US number (blank stays
    blank); ValidationError otherwise."""
    value = (value or "").strip()
    if not value:
        return ""
    number = digits(value)
    if not PHONE_CHARS_RE.match(value):
        raise ValidationError(PHONE_MESSAGE, code="phone")
    if len(number) == 11 and number.startswith("1"):
        number = number[1:]
    if len(number) != 10:
        raise ValidationError(PHONE_MESSAGE, code="phone")
    # NANP: an area code never starts with 0 or 1.
    if number[0] in "01":
        raise ValidationError(
            gettext("That area code does not exist; check the first three digits."), code="phone"
        )
    return f"({number[:3]}) {number[3:6]}-{number[6:]}"


def validate_birth_date(value: date | None) -> date | None:
    if value is None:
        return None
    if value > timezone.localdate():
        raise ValidationError(gettext("Date of birth cannot be in the future."), code="future")
    if value.year < OLDEST_BIRTH_YEAR:
        raise ValidationError(
            gettext("Date of birth must be after %(year)s.") % {"year": OLDEST_BIRTH_YEAR},
            code="too_old",
        )
    return value


def normalize_zip(value: str) -> str:
    value = (value or "").strip()
    if value and not ZIP_RE.match(value):
        raise ValidationError(
            gettext("Enter a 5-digit ZIP code (or ZIP+4, like 60601-1234)."), code="zip_code"
        )
    return value


def normalize_state(value: str) -> str:
    value = (value or "").strip().upper()
    if value and not STATE_RE.match(value):
        raise ValidationError(
            gettext("Use the two-letter state code, for example IL."), code="state"
        )
    return value


def clean_client_values(data: dict) -> dict:
    """The values normalized, or one ValidationError naming every bad field."""
    cleaned = dict(data)
    errors: dict[str, list[ValidationError]] = {}
    for field, check in (
        ("phone", normalize_us_phone),
        ("date_of_birth", validate_birth_date),
        ("zip_code", normalize_zip),
        ("state", normalize_state),
    ):
        if field in cleaned:
            try:
                cleaned[field] = check(cleaned[field])
            except ValidationError as error:
                errors[field] = [error]
    for field in ("given_name", "family_name", "preferred_name"):
        if field in cleaned:
            cleaned[field] = (cleaned[field] or "").strip()
    if "email" in cleaned:
        cleaned["email"] = (cleaned["email"] or "").strip().lower()
    if errors:
        raise ValidationError(errors)
    return cleaned
