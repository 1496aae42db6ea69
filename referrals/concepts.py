"""Coded concepts a referral carries from the systems it travels through: the requested
service (FHIR ServiceRequest.code) and the resulting activity (the Procedure a completed
referral's Task.output references: what was done, and when).

Stored on the referral as JSON (`Referral.requested_service`, `Referral.resulting_activity`)
in one shape, {"system", "code", "display"} plus "performed" for the activity, so the pages,
the REST API and the FHIR facade read the same values. A concept is a coding (system and
code, with its display) or, as FHIR allows, a text alone (display only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext

MAX_SYSTEM = 500
MAX_CODE = 200
MAX_DISPLAY = 500


@dataclass(frozen=True)
class Concept:
    """A coded concept: `system` and `code` (a coding), and/or `display` (its words)."""

    system: str = ""
    code: str = ""
    display: str = ""

    def as_json(self) -> dict:
        return {"system": self.system, "code": self.code, "display": self.display}

    @classmethod
    def from_json(cls, data: dict | None) -> Concept | None:
        if not data:
            return None
        return cls(**_coding(data))


@dataclass(frozen=True)
class Activity(Concept):
    """What the receiver did for a completed referral, and when (`performed`: a date, or
    a moment)."""

    performed: date | datetime | None = None

    def as_json(self) -> dict:
        out = super().as_json()
        out["performed"] = _iso(self.performed)
        return out

    @classmethod
    def from_json(cls, data: dict | None) -> Activity | None:
        if not data:
            return None
        return cls(**_coding(data), performed=_parse(data.get("performed") or ""))


def _coding(data: dict) -> dict:
    return {key: data.get(key, "") for key in ("system", "code", "display")}


def _iso(moment: date | datetime | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        # Stored in UTC, as the database stores moments.
        return moment.astimezone(UTC).isoformat()
    return moment.isoformat()


def _parse(text: str) -> date | datetime | None:
    if not text:
        return None
    if "T" in text:
        return parse_datetime(text)
    return parse_date(text)


def clean_concept(concept: Concept | None, *, field: str) -> dict | None:
    """The JSON to store for `concept` (None for none), or ValidationError naming `field`:
    a code needs its system, and a concept has a code or a display; each part is bounded."""
    if concept is None:
        return None
    system, code, display = (
        (concept.system or "").strip(),
        (concept.code or "").strip(),
        " ".join((concept.display or "").split()),
    )
    if not (system or code or display):
        return None
    if code and not system:
        raise ValidationError({field: gettext("A code needs the code system it comes from.")})
    if system and not code:
        raise ValidationError({field: gettext("A code system needs the code.")})
    if not code and not display:
        raise ValidationError({field: gettext("Give a code or the words for it.")})
    if len(system) > MAX_SYSTEM or len(code) > MAX_CODE or len(display) > MAX_DISPLAY:
        raise ValidationError(
            {
                field: f"Too long: a system of at most {MAX_SYSTEM} characters, a code of "
                f"{MAX_CODE}, words of {MAX_DISPLAY}."
            }
        )
    cleaned = Concept(system=system, code=code, display=display).as_json()
    if isinstance(concept, Activity):
        performed = concept.performed
        if performed is not None and not isinstance(performed, date):
            raise ValidationError({field: gettext("When it was done is a date or a moment.")})
        if isinstance(performed, datetime) and performed.tzinfo is None:
            raise ValidationError({field: gettext("Say the moment's time zone.")})
        cleaned["performed"] = _iso(performed)
    return cleaned
