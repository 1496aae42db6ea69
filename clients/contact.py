"""Contact details as another system sent them: kept, normalized when possible, flagged when
unusable, never a reason to refuse a record.

An EHR integration runs unattended: a Patient whose phone number has seven digits must still
become a client record (and its referral arrive). The browser forms stay strict
(clients.validation); this is the other side, for records that arrive from systems
(FHIR Patient create). What cannot be used as sent is recorded in `Client.contact_problems`
(field -> the value as sent) and shown to the people who may see the client's contact
details, so that someone checks it with the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .normalize import digits
from .validation import normalize_state, normalize_us_phone, normalize_zip

# Linkage's networks are in the United States (addresses carry a two-letter US state); a
# network in another country would bring its own region here.
DEFAULT_REGION = "US"
CONTACT_FIELDS = ("phone", "email", "zip_code", "state")
# How much of an unusable value is kept for the person who checks it.
SENT_MAX = 200
PHONE_MAX, ZIP_MAX = 30, 10  # the Client columns

# What a person reads on the client's record, per field ({sent}: the value as sent).
NOTES = {
    "phone": "The phone number the sender gave, {sent}, cannot be dialled as is: check it "
    "with the client.",
    "email": "The email address the sender gave, {sent}, is not a usable address and was not "
    "saved as the client's email: check it with the client.",
    "zip_code": "The ZIP code the sender gave, {sent}, is not a US ZIP code: check the address "
    "with the client.",
    "state": "The state the sender gave, {sent}, is not a two-letter US state code and was not "
    "saved: check the address with the client.",
}
# What the sending system is told (no values: the caller knows what it sent).
PROBLEMS = {
    "phone": "the phone number cannot be dialled as is",
    "email": "the email address is not usable",
    "zip_code": "the postal code is not a US ZIP code",
    "state": "the state is not a two-letter US state code",
}


@dataclass(frozen=True)
class SentContact:
    """The contact fields to store, and those that are unusable (field -> value as sent)."""

    values: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)


def contact_as_sent(data: dict, *, region: str = DEFAULT_REGION) -> SentContact:
    """The contact fields of `data` as a system sent them: each normalized as the browser
    would, else (phone) with `phonenumbers` for the region, else kept as sent when the column
    can hold it (phone, ZIP) or left blank (email, state), and flagged."""
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for name in CONTACT_FIELDS:
        if name not in data:
            continue
        sent = (data[name] or "").strip()
        value, usable = _KEEP[name](sent, region)
        values[name] = value
        if not usable:
            problems[name] = sent[:SENT_MAX]
    return SentContact(values=values, problems=problems)


def _phone(sent: str, region: str) -> tuple[str, bool]:
    try:
        return normalize_us_phone(sent), True
    except ValidationError:
        pass
    try:
        number = phonenumbers.parse(sent, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        extension = f" ext. {number.extension}" if number.extension else ""
        number.extension = None
        if phonenumbers.region_code_for_number(number) == region:
            formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        else:
            formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if len(formatted + extension) <= PHONE_MAX:
            return formatted + extension, True
    return sent[:PHONE_MAX], False


def _email(sent: str, region: str) -> tuple[str, bool]:
    if not sent:
        return "", True
    try:
        validate_email(sent)
    except ValidationError:
        # An unusable address is not stored where outreach would send to it.
        return "", False
    return sent.lower(), True


def _zip(sent: str, region: str) -> tuple[str, bool]:
    try:
        return normalize_zip(sent), True
    except ValidationError:
        pass
    number = digits(sent)
    # "74048 1234", "740481234": a ZIP+4 spelled another way.
    if len(number) == 9 and len(sent) <= 12 and not any(c.isalpha() for c in sent):
        return f"{number[:5]}-{number[5:]}", True
    return (sent if len(sent) <= ZIP_MAX else ""), False


def _state(sent: str, region: str) -> tuple[str, bool]:
    try:
        return normalize_state(sent), True
    except ValidationError:
        return "", False


_KEEP = {"phone": _phone, "email": _email, "zip_code": _zip, "state": _state}


def contact_notes(problems: dict[str, str]) -> list[str]:
    """What a person reads about a record's unusable contact details, field by field."""
    return [NOTES[name].format(sent=sent) for name, sent in problems.items() if name in NOTES]
