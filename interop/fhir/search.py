"""Search: parameters, paging, the searchset Bundle.

Parameters are declared per resource (registry.py) with the function that narrows the
resource's scoped queryset; the CapabilityStatement lists the same declarations. An
unknown parameter is refused (400) rather than ignored, so that a misspelt filter never
returns everything. Paging is by id (newest first): `_count` (default 50) and an opaque
`_cursor` in the `next` link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .errors import FhirError, Issue
from .references import Caller
from .validation import row_id

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Accepted everywhere and ignored (formatting hints of FHIR clients).
IGNORED = frozenset({"_format", "_pretty", "_summary"})


def bad_search(message: str, name: str = "") -> FhirError:
    return FhirError(400, [Issue(message, "invalid", expression=(name,) if name else ())])


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # token | reference | date | string
    documentation: str
    apply: Callable[[QuerySet, list[str], Caller], QuerySet]
    target: str = ""  # reference parameters: the resource type referenced


@dataclass(frozen=True)
class Include:
    name: str  # "Task:focus"
    documentation: str
    resources: Callable[[list, Caller], list[dict]]


@dataclass(frozen=True)
class SearchSpec:
    queryset: Callable[[Caller], QuerySet]
    params: tuple[Param, ...]
    render: Callable[[list, Caller], list[dict]]
    audit: Callable[[list, Caller], None] | None = None
    includes: tuple[Include, ...] = ()
    # Sensitive terms (identifiers) stay out of links, and the result is one page.
    sensitive: bool = False
    max_count: int = MAX_COUNT
    paths: tuple[str, ...] = field(default=("GET", "POST"))


# --- parameter types ----------------------------------------------------------------------


def values_of(raw: list[str]) -> list[str]:
    """Comma-separated alternatives (OR), across repeats."""
    return [v.strip() for r in raw for v in r.split(",") if v.strip()]


def ids_of(raw: list[str], *, kind: str, name: str) -> list[int]:
    """`Kind/123` or `123` → 123 (400 otherwise)."""
    out = []
    for value in values_of(raw):
        if "/" in value:
            prefix, _, value = value.rpartition("/")
            if prefix.rsplit("/", 1)[-1] != kind:
                raise bad_search(
                    f"{name}: expected a {kind} reference, got {prefix}/{value}.", name
                )
        number = row_id(value)
        if number is None:
            raise bad_search(f"{name}: {value!r} is not a {kind} id.", name)
        out.append(number)
    return out


def reference_param(name: str, kind: str, field_name: str, documentation: str) -> Param:
    def apply(qs, raw, caller):
        return qs.filter(**{f"{field_name}__in": ids_of(raw, kind=kind, name=name)})

    return Param(name, "reference", documentation, apply, target=kind)


def token_param(name: str, field_name: str, allowed, documentation: str, system: str = "") -> Param:
    def apply(qs, raw, caller):
        codes = []
        for value in values_of(raw):
            given_system, bar, code = value.rpartition("|")
            if bar and system and given_system not in ("", system):
                raise bad_search(f"{name}: codes of {system} only.", name)
            code = code if bar else value
            if code not in allowed:
                raise bad_search(
                    f"{name}: {code!r} is not one of {', '.join(sorted(allowed))}.", name
                )
            codes.append(code)
        return qs.filter(**{f"{field_name}__in": codes})

    return Param(name, "token", documentation, apply)


def id_param(documentation: str = "The resource's id (comma-separated for several).") -> Param:
    def apply(qs, raw, caller):
        ids = []
        for value in values_of(raw):
            number = row_id(value.removeprefix("assessment-"))
            if number is None:
                raise bad_search(f"_id: {value!r} is not an id here.", "_id")
            ids.append(number)
        return qs.filter(pk__in=ids)

    return Param("_id", "token", documentation, apply)


def _range(value: str, name: str) -> tuple[datetime, datetime, bool]:
    """(start, end, exact): the instants a date or dateTime value covers."""
    try:
        moment = parse_datetime(value) if "T" in value else None
        day = parse_date(value) if len(value) == 10 else None
    except ValueError:  # well-formed but impossible (month 13)
        moment = day = None
    if moment is None and day is None:
        raise bad_search(f"{name}: {value!r} is not a date or dateTime.", name)
    if moment is not None and timezone.is_naive(moment):
        raise bad_search(f"{name}: a dateTime needs its time zone (e.g. Z).", name)
    try:
        if moment is not None:
            # In UTC: Python takes offsets up to ±23:59, PostgreSQL only ±15:59.
            moment = moment.astimezone(UTC)
            return moment, moment, True
        start = timezone.make_aware(datetime(day.year, day.month, day.day))
        return start, start + timedelta(days=1), False
    except OverflowError:  # the first or last day of year 1 or 9999, with the time zone
        raise bad_search(f"{name}: {value!r} is out of range.", name) from None


def date_param(name: str, field_name: str, documentation: str) -> Param:
    """eq, ne, gt, ge, lt, le prefixes; repeats are AND-ed (ge X & lt Y is a range)."""

    def apply(qs, raw, caller):
        for value in raw:
            prefix, rest = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
            start, end, exact = _range(rest, name)
            f = field_name
            if prefix == "eq":
                cond = Q(**{f: start}) if exact else Q(**{f"{f}__gte": start, f"{f}__lt": end})
            elif prefix == "ne":
                cond = ~(Q(**{f: start}) if exact else Q(**{f"{f}__gte": start, f"{f}__lt": end}))
            elif prefix == "gt":
                cond = Q(**{f"{f}__gt": start}) if exact else Q(**{f"{f}__gte": end})
            elif prefix == "ge":
                cond = Q(**{f"{f}__gte": start})
            elif prefix == "lt":
                cond = Q(**{f"{f}__lt": start})
            elif prefix == "le":
                cond = Q(**{f"{f}__lte": start}) if exact else Q(**{f"{f}__lt": end})
            else:
                raise bad_search(f"{name}: prefix {prefix!r}; use eq, ne, gt, ge, lt or le.", name)
            qs = qs.filter(cond)
        return qs

    return Param(name, "date", documentation, apply)


# --- running a search -----------------------------------------------------------------------


def run(*, kind: str, spec: SearchSpec, params: dict[str, list[str]], caller: Caller) -> dict:
    """The searchset Bundle for `params` (already split into name → values)."""
    declared = {p.name: p for p in spec.params}
    includes = {i.name: i for i in spec.includes}
    count = _count(params.get("_count"), spec.max_count)
    cursor = params.get("_cursor")
    queryset = spec.queryset(caller)
    wanted_includes = []
    for name, raw in params.items():
        if name in ("_count", "_cursor") or name in IGNORED:
            continue
        if name == "_include":
            for value in raw:
                if value not in includes:
                    offered = ", ".join(includes) or "nothing"
                    raise bad_search(
                        f"_include: {value!r}; this search includes {offered}.", "_include"
                    )
                wanted_includes.append(includes[value])
            continue
        param = declared.get(name.split(":", 1)[0])
        if param is None or ":" in name:
            known = ", ".join(sorted(declared))
            raise bad_search(
                f"{name}: not a search parameter of {kind} here (known: {known}).", name
            )
        queryset = param.apply(queryset, raw, caller)
    if cursor and not spec.sensitive:
        position = row_id(cursor[-1])
        if position is None:
            raise bad_search("_cursor: use the next link as given.", "_cursor")
        queryset = queryset.filter(pk__lt=position)
    rows = list(queryset.order_by("-pk")[: count + 1])
    more = len(rows) > count and not spec.sensitive
    rows = rows[:count]
    if spec.audit is not None:
        spec.audit(rows, caller)
    entries = [
        {
            "fullUrl": f"{caller.base_url}{kind}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in spec.render(rows, caller)
    ]
    for include in wanted_includes:
        entries += [
            {
                "fullUrl": f"{caller.base_url}{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "include"},
            }
            for r in include.resources(rows, caller)
        ]
    links = [{"relation": "self", "url": _link(caller, kind, params, spec, None)}]
    if more:
        links.append({"relation": "next", "url": _link(caller, kind, params, spec, rows[-1].pk)})
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


def _count(raw: list[str] | None, maximum: int) -> int:
    if not raw:
        return min(DEFAULT_COUNT, maximum)
    count = row_id(raw[-1])  # a whole number, as ids are
    if count is None or not 1 <= count <= maximum:
        raise bad_search(f"_count: a number from 1 to {maximum}.", "_count")
    return count


def _link(caller: Caller, kind: str, params: dict, spec: SearchSpec, cursor: int | None) -> str:
    if spec.sensitive:
        return f"{caller.base_url}{kind}/_search"
    query = [(k, v) for k, values in params.items() if k != "_cursor" for v in values]
    if cursor is not None:
        query.append(("_cursor", str(cursor)))
    return f"{caller.base_url}{kind}" + (f"?{urlencode(query)}" if query else "")
