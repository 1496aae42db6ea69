"""Reads for the service directory: search, program pages, suggestions for a client's needs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext

from organizations.languages import language_code, language_name
from organizations.models import Network, Organization
from organizations.sdoh import SDOHCategory

from .capacity import CapacityState, capacity_state, with_capacity
from .models import Program, ProgramCategory, ProgramLanguage, ProgramServiceArea

__all__ = [
    "DirectoryFilters",
    "Suggestion",
    "capacity_state",
    "directory_language_choices",
    "directory_programs",
    "directory_search",
    "resolve_program",
    "suggest_programs",
    "with_capacity",
    "zip5",
]

_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")


def zip5(value: str) -> str:
    """The five-digit ZIP in "60601" or "60601-1234"; "" for anything else."""
    match = _ZIP.match(value or "")
    return match.group(1) if match else ""


def _for_listing(programs: QuerySet[Program]) -> QuerySet[Program]:
    return with_capacity(
        programs.select_related("organization__network").prefetch_related(
            "categories", "service_areas", "languages"
        )
    )


def directory_programs(org: Organization) -> QuerySet[Program]:
    """The programs `org` sees in its network's directory, with what pages and exports show
    (organization, categories, areas, languages, open-referral count)."""
    return _for_listing(Program.objects.visible_to(org))


@dataclass(frozen=True)
class DirectoryFilters:
    """What a directory search asks for (all optional)."""

    text: str = ""
    category: str = ""
    area: str = ""  # a ZIP code, a county, or words of an area
    language: str = ""
    accepting_now: bool = False  # open now: accepting and not waitlisted


def directory_search(org: Organization, filters: DirectoryFilters) -> QuerySet[Program]:
    """Programs of `org`'s network directory matching the filters, for a paged list.

    Multi-valued filters use EXISTS so a program appears once however many rows match.
    """
    programs = Program.objects.visible_to(org)
    if filters.text:
        text = filters.text
        programs = programs.filter(
            Q(name__icontains=text)
            | Q(description__icontains=text)
            | Q(eligibility__icontains=text)
            | Q(organization__name__icontains=text)
        )
    if filters.category:
        programs = programs.filter(categories__code=filters.category)
    if filters.area:
        programs = programs.filter(Exists(_areas_matching(filters.area)))
    if filters.language:
        code = language_code(filters.language)
        programs = programs.filter(
            Exists(ProgramLanguage.objects.filter(program=OuterRef("pk"), code=code))
        )
    programs = _for_listing(programs)
    if filters.accepting_now:
        programs = programs.filter(accepting_referrals=True, manual_waitlist=False).filter(
            Q(capacity__isnull=True) | Q(capacity__gt=F("open_referrals"))
        )
    return programs.order_by("name", "organization__name", "id")


def _areas_matching(area: str) -> QuerySet[ProgramServiceArea]:
    areas = ProgramServiceArea.objects.filter(program=OuterRef("pk"))
    code = zip5(area)
    if code:
        return areas.filter(kind=ProgramServiceArea.Kind.ZIP, value=code)
    county = re.sub(r"\s+county\s*$", "", area.strip(), flags=re.IGNORECASE)
    return areas.filter(
        Q(kind=ProgramServiceArea.Kind.COUNTY, value__iexact=county)
        | Q(kind=ProgramServiceArea.Kind.OTHER, value__icontains=area.strip())
    )


def directory_language_choices(org: Organization) -> list[tuple[str, str]]:
    """The languages programs of the network's directory serve in, by name."""
    codes = (
        ProgramLanguage.objects.filter(program__in=Program.objects.visible_to(org))
        .values_list("code", "name")
        .distinct()
    )
    names: dict[str, str] = {}
    for code, name in codes:
        names.setdefault(code, name or language_name(code))
    return sorted(names.items(), key=lambda item: item[1].lower())


@dataclass
class Suggestion:
    """A program proposed for a client's needs, with why, best first."""

    program: Program
    score: float
    reasons: list[str] = field(default_factory=list)
    capacity_state: str = CapacityState.OPEN
    # False when the program's age limits exclude the client (the reasons say why).
    eligible: bool = True


# Weights: serving a need matters most, then serving the client's ZIP, then language; open
# beats waitlisted only between otherwise equal programs.
_PER_NEED = 10.0
_ZIP_SERVED = 4.0
_ZIP_NOT_SERVED = -4.0
_LANGUAGE = 2.0
_OPEN = 1.0
_WAITLIST = -1.0
# Below any program that fits: still listed, so people see why it is not offered.
_NOT_ELIGIBLE = -100.0


def suggest_programs(
    *,
    network: Network,
    needs: list[str],
    zip_code: str = "",
    language: str = "",
    age: int | None = None,
    limit: int = 10,
) -> list[Suggestion]:
    """Programs of the network's directory for a client's needs, ranked, with reasons.

    `needs` are SDOH category codes (`SDOHCategory`); unknown codes are ignored. With needs,
    only programs serving at least one of them are suggested. Ranked by the needs served,
    then the client's ZIP against the program's ZIP codes ("Serves ZIP 60601"; a program
    listing ZIPs without it ranks lower), then language, then capacity: open before
    waitlist. A program whose age limits exclude the client (`age`) is shown last, saying
    why (sending to it is refused). Closed programs (not accepting referrals) and unlisted
    ones are not suggested. Four queries whatever the number of programs.
    """
    wanted = [c for c in dict.fromkeys(needs) if c in SDOHCategory.values]
    if needs and not wanted:
        return []
    programs = Program.objects.filter(
        organization__network=network,
        organization__is_active=True,
        is_listed=True,
        accepting_referrals=True,
    )
    if wanted:
        programs = programs.filter(
            Exists(ProgramCategory.objects.filter(program=OuterRef("pk"), code__in=wanted))
        )
    client_zip = zip5(zip_code)
    client_language = language_code(language)
    suggestions = [
        _suggestion(program, wanted, client_zip, client_language, age)
        for program in _for_listing(programs)
    ]
    suggestions.sort(key=lambda s: (-s.score, s.program.name.lower(), s.program.pk))
    return suggestions[: max(limit, 0)]


def _suggestion(
    program: Program, wanted: list[str], zip_code: str, language: str, age: int | None = None
) -> Suggestion:
    score, reasons = 0.0, []
    refusal = program.age_refusal(age)
    if refusal:
        score += _NOT_ELIGIBLE
        reasons.append(gettext("Not eligible: %(reason)s") % {"reason": refusal})
    elif age is not None and program.age_range:
        reasons.append(gettext("Eligible by age (%(ages)s)") % {"ages": program.age_range})
    served = {c.code for c in program.categories.all()}
    for code in wanted:
        if code in served:
            score += _PER_NEED
            reasons.append(
                gettext("Serves %(need)s") % {"need": str(SDOHCategory(code).label).lower()}
            )
    if zip_code:
        zips = {a.value for a in program.service_areas.all() if a.kind == "zip"}
        if zip_code in zips:
            score += _ZIP_SERVED
            reasons.append(gettext("Serves ZIP %(zip)s") % {"zip": zip_code})
        elif zips:
            score += _ZIP_NOT_SERVED
            reasons.append(gettext("ZIP %(zip)s is not in its service area") % {"zip": zip_code})
    if language:
        spoken = {lang.code: lang.name for lang in program.languages.all()}
        if language in spoken:
            score += _LANGUAGE
            reasons.append(
                gettext("Speaks %(language)s")
                % {"language": spoken[language] or language_name(language)}
            )
    state = program.capacity_state
    if state == CapacityState.OPEN:
        score += _OPEN
        reasons.append(gettext("Accepting referrals"))
    elif state == CapacityState.WAITLIST:
        score += _WAITLIST
        reasons.append(gettext("Waitlist"))
    return Suggestion(
        program=program,
        score=score,
        reasons=reasons,
        capacity_state=state.value,
        eligible=not refusal,
    )


def resolve_program(
    organization: Organization,
    requested_codes: Iterable[tuple[str, str]],
    *,
    viewer: Organization | None = None,
) -> Program | None:
    """The program of `organization` a referral addressed to the organization goes to:
    the one program accepting referrals whose service codes include one of
    `requested_codes` ((system, code) pairs: ServiceRequest.code's codings). None when no
    program or several match: the referral then waits in the organization's intake queue
    and the receiver chooses the program when accepting. `viewer`: only programs in that
    organization's directory count (a sender never routes to what it cannot see)."""
    wanted = Q()
    for system, code in requested_codes:
        if system and code:
            wanted |= Q(service_codes__system=system, service_codes__code=code)
    if not wanted:
        return None
    programs = Program.objects.visible_to(viewer) if viewer is not None else Program.objects
    matches = list(
        programs.filter(organization=organization, accepting_referrals=True)
        .filter(wanted)
        .select_related("organization")
        .distinct()
        .order_by("pk")[:2]
    )
    return matches[0] if len(matches) == 1 else None
