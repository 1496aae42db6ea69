"""Reading FHIR input: JSON, the resource's shape (fhir.resources models), required codes.

The IG's examples load with fhir.resources' R4B models (FHIR R4B changed nothing in the
resources Linkage reads from R4), so input is validated against those. The library checks
structure, cardinality, primitive formats and unknown elements; it does not check code
values, so `_check_codes` walks the validated model and refuses any code outside the
enumeration the library publishes for a required binding (Task.intent, Consent.status...).
The IG's own value sets are checked by the handlers (codes.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

import pydantic
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel

from .errors import FhirError, Issue, code_invalid, structure

MAX_ISSUES = 20


# PostgreSQL bigint: a larger number is no row's id (and must not reach a query).
MAX_ID = 2**63 - 1


def row_id(text: str) -> int | None:
    """`text` as a row id, or None when it is not one: ASCII digits only (str.isdigit also
    takes "²", which int() refuses), at most a bigint."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def parse_json(raw: bytes) -> Any:
    """The body's JSON; FhirError 400 for a body that is not JSON, nests deeper than the
    parser goes, or holds a NUL character in any string (refused as on every other path:
    Django's and DRF's text fields refuse it, and PostgreSQL cannot store it)."""
    if not raw:
        raise structure("The request has no body: send a FHIR resource as JSON.")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise structure(f"The body is not valid JSON: {error}.") from None
    except RecursionError:
        raise structure("The body is not valid JSON: it is nested too deeply.") from None
    where = _null_character_at(data)
    if where is not None:
        raise structure(f"{where}: {ProhibitNullCharactersValidator.message}", expression=where)
    return data


def _null_character_at(data: Any) -> str | None:
    """The FHIRPath of a string (or property name) that holds a NUL character, if any."""
    root = data.get("resourceType") if isinstance(data, dict) else None
    stack: list[tuple[str, Any]] = [(root if isinstance(root, str) else "", data)]
    while stack:  # not recursive: the parser allows deeper nesting than Python's stack
        path, value = stack.pop()
        if isinstance(value, str):
            if _has_null(value):
                return path or "$"
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                if _has_null(key):
                    return child
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return None


def _has_null(value: str) -> bool:
    try:
        ProhibitNullCharactersValidator()(value)
    except ValidationError:
        return True
    return False


def resource_of(data: Any, *, expected: str | tuple[str, ...], where: str = "") -> dict:
    """`data` as a resource of one of the `expected` types, validated (FhirError 400 when
    it is not one, or is not valid). Returns the JSON as sent."""
    expected = (expected,) if isinstance(expected, str) else expected
    if not isinstance(data, dict):
        raise structure("Send a FHIR resource: a JSON object with a resourceType.")
    kind = data.get("resourceType")
    if kind not in expected:
        wanted = " or ".join(expected)
        raise structure(
            f"resourceType is {kind!r}; this interaction takes {wanted}.",
            expression=f"{where}.resourceType" if where else None,
        )
    validate(data, where=where)
    return data


def validate(data: dict, *, where: str = "") -> FHIRAbstractModel:
    """Validate one resource with the R4B model; FhirError 400 listing each problem with
    its element. `where`: the resource's own path when it sits inside another
    ("Bundle.entry[2].resource"); the resource type otherwise."""
    kind = data.get("resourceType", "")
    try:
        model_class = get_fhir_model_class(kind)
    except (KeyError, ValueError):
        raise structure(f"{kind!r} is not a FHIR resource type.") from None
    root = where or kind
    try:
        model = model_class.model_validate(data)
    except pydantic.ValidationError as error:
        issues = [
            Issue(
                f"{_path(root, e['loc'])}: {e['msg']}",
                "required" if "missing" in e["type"] else "structure",
                expression=(_path(root, e["loc"]),),
            )
            for e in error.errors()[:MAX_ISSUES]
        ]
        raise FhirError(400, issues) from None
    problems = list(_check_codes(model, root))
    if problems:
        raise FhirError(422, problems[:MAX_ISSUES])
    return model


def _name(part: Any) -> str:
    text = str(part)
    if text.endswith("__ext"):
        return f"_{text[:-5]}"
    if text.endswith("_fhir"):
        return text[:-5]
    return "resourceType" if text == "resource_type" else text


def _path(root: str, loc: tuple) -> str:
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{_name(part)}"
    return out


def _check_codes(model: FHIRAbstractModel, path: str) -> Iterator[Issue]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        if value is None:
            continue
        element = info.alias or _name(name)
        here = f"{path}.{element}"
        allowed = (info.json_schema_extra or {}).get("enum_values")
        if allowed and "+" not in allowed:
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, str) and v not in allowed:
                    yield Issue(
                        f"{here}: {v!r} is not a valid code; use one of {', '.join(allowed)}.",
                        "code-invalid",
                        expression=(here,),
                    )
        if isinstance(value, FHIRAbstractModel):
            yield from _check_codes(value, here)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, FHIRAbstractModel):
                    yield from _check_codes(item, f"{here}[{index}]")


# --- small readers over validated JSON --------------------------------------------------


def codings(concept: dict | None) -> list[dict]:
    return list((concept or {}).get("coding") or [])


def has_coding(concept: dict | None, system: str, code: str) -> bool:
    return any(c.get("system") == system and c.get("code") == code for c in codings(concept))


def text_of(concept: dict | None) -> str:
    """A CodeableConcept as words: its text, else its first coding's display."""
    if not concept:
        return ""
    if concept.get("text"):
        return concept["text"].strip()
    for coding in codings(concept):
        if coding.get("display"):
            return coding["display"].strip()
    return ""


def moment(value: str, *, where: str, end_of_day: bool = False) -> datetime:
    """A FHIR date or dateTime as an aware datetime (a date is the local day's start, or
    its end with `end_of_day`)."""
    try:
        parsed = parse_datetime(value) if "T" in value else None
        day = parse_date(value[:10]) if len(value) >= 10 else None
    except ValueError:  # well-formed but impossible (month 13)
        parsed = day = None
    if parsed is not None:
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
    if day is None:
        raise structure(f"{where}: give a full date (YYYY-MM-DD).", expression=where)
    return timezone.make_aware(datetime.combine(day, time.max if end_of_day else time.min))


def day_of(value: str, *, where: str) -> date:
    try:
        day = parse_date(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise structure(f"{where}: give a full date (YYYY-MM-DD).", expression=where)
    return day


def coded(concept: dict | None, *, system: str, allowed, where: str, name: str) -> list[str]:
    """The codes of `system` in a CodeableConcept, each checked against `allowed`
    (FhirError 422 naming the element otherwise)."""
    found = []
    for index, coding in enumerate(codings(concept)):
        if coding.get("system") != system:
            continue
        code = coding.get("code", "")
        if code not in allowed:
            raise code_invalid(
                f"{where}.coding[{index}]: {code!r} is not in {name}.",
                expression=f"{where}.coding[{index}].code",
            )
        found.append(code)
    return found
