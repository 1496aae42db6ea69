"""Writes for the service directory: programs (create, edit, close) and HSDS imports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_record
from organizations.models import Network, Organization, Partnership, User
from organizations.sdoh import SDOHCategory
from organizations.services import partnership_may_manage

from .models import HsdsImport, Program
from .selectors import zip5
from .service_codes import SNOMED, is_sctid

# Program columns a person edits; HSDS carries all of them but the last two (HSDS 3.0 has
# no capacity), so an import leaves a program's waitlist and capacity as its staff set them.
SCALAR_FIELDS = (
    "name",
    "description",
    "eligibility",
    "minimum_age",
    "maximum_age",
    "fees",
    "hours",
    "intake",
    "phone",
    "email",
    "website",
    "is_listed",
    "accepting_referrals",
    "manual_waitlist",
    "capacity",
)
HSDS_SCALAR_FIELDS = SCALAR_FIELDS[:-2]


@dataclass
class ProgramData:
    """Everything about a program that people or an HSDS file set."""

    name: str
    description: str = ""
    categories: list[str] = field(default_factory=list)
    eligibility: str = ""
    minimum_age: int | None = None
    maximum_age: int | None = None
    fees: str = ""
    hours: str = ""
    intake: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    zip_codes: list[str] = field(default_factory=list)
    counties: list[str] = field(default_factory=list)
    other_areas: list[str] = field(default_factory=list)
    languages: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    is_listed: bool = True
    accepting_referrals: bool = True
    manual_waitlist: bool = False
    capacity: int | None = None
    # SNOMED CT service codes it delivers, (code, display); None leaves them as they are.
    service_codes: list[tuple[str, str]] | None = None

    def validate(self) -> None:
        """ValidationError naming each problem; the services call it before any write."""
        errors = []
        if not self.name.strip():
            errors.append(gettext("A program needs a name."))
        if len(self.name) > Program._meta.get_field("name").max_length:
            errors.append(gettext("The name is longer than 200 characters."))
        unknown = [c for c in self.categories if c not in SDOHCategory.values]
        if unknown:
            errors.append(
                gettext("Unknown SDOH category code(s): %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        bad_zips = [z for z in self.zip_codes if zip5(z) != z]
        if bad_zips:
            errors.append(
                gettext("Not a five-digit ZIP code: %(codes)s.") % {"codes": ", ".join(bad_zips)}
            )
        for message, age in (
            (gettext("The minimum age must be between 0 and 130."), self.minimum_age),
            (gettext("The maximum age must be between 0 and 130."), self.maximum_age),
        ):
            if age is not None and not 0 <= age <= 130:
                errors.append(message)
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.maximum_age < self.minimum_age
        ):
            errors.append(gettext("The maximum age is below the minimum age."))
        if self.capacity is not None and self.capacity < 0:
            errors.append(gettext("Capacity cannot be negative."))
        bad_codes = [c for c, _ in self.service_codes or () if not is_sctid(c)]
        if bad_codes:
            errors.append(
                gettext("Not a SNOMED CT code: %(codes)s.") % {"codes": ", ".join(bad_codes)}
            )
        if errors:
            raise ValidationError(errors)


def program_snapshot(program: Program) -> dict:
    """A program's directory content, comparable before and after a write."""
    return {
        **{name: getattr(program, name) for name in SCALAR_FIELDS},
        "categories": sorted(c.code for c in program.categories.all()),
        "service_areas": sorted((a.kind, a.value) for a in program.service_areas.all()),
        "languages": sorted((lang.code, lang.name) for lang in program.languages.all()),
        "service_codes": sorted((c.code, c.display) for c in program.service_codes.all()),
    }


@transaction.atomic
def program_create(
    *,
    organization: Organization,
    data: ProgramData,
    actor: User | None,
    request: HttpRequest | None = None,
    hsds_id: str = "",
    acting_for: Organization | None = None,
) -> Program:
    """A new program of `organization` (an HSDS id is minted unless one is given).
    `acting_for`: the organization the actor works for, when not the program's own (the
    backbone importing a network's directory)."""
    data.validate()
    program = Program(organization=organization)
    if hsds_id:
        program.hsds_id = hsds_id
    _write(program, data, SCALAR_FIELDS)
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="program",
        object_ids=[program.pk],
        actor=actor,
        organization=acting_for or organization,
        request=request,
    )
    return program


@transaction.atomic
def program_update(
    *,
    program: Program,
    data: ProgramData,
    actor: User | None,
    request: HttpRequest | None = None,
    fields: Iterable[str] = SCALAR_FIELDS,
    acting_for: Organization | None = None,
) -> list[str]:
    """Change a program to `data` (only the scalar `fields` named, and its categories,
    areas and languages); returns the names of what changed, [] when nothing did."""
    data.validate()
    program = Program.objects.select_for_update().get(pk=program.pk)
    changed = _write(program, data, tuple(fields))
    if changed:
        audit_record(
            action=AuditEvent.Action.UPDATE,
            object_type="program",
            object_ids=[program.pk],
            actor=actor,
            organization=acting_for or program.organization,
            request=request,
            detail={"fields": changed},
        )
    return changed


@transaction.atomic
def program_close(
    *, program: Program, actor: User | None, request: HttpRequest | None = None
) -> bool:
    """Stop a program accepting referrals (its capacity state becomes closed). Returns
    False when it was already closed."""
    updated = Program.objects.filter(pk=program.pk, accepting_referrals=True).update(
        accepting_referrals=False, updated_at=timezone.now()
    )
    if updated:
        audit_record(
            action=AuditEvent.Action.UPDATE,
            object_type="program",
            object_ids=[program.pk],
            actor=actor,
            organization=program.organization,
            request=request,
            detail={"fields": ["accepting_referrals"]},
        )
    return bool(updated)


def _write(program: Program, data: ProgramData, fields: tuple[str, ...]) -> list[str]:
    before = program_snapshot(program) if program.pk else {}
    for name in fields:
        setattr(program, name, getattr(data, name))
    scalar_changed = [n for n in fields if before.get(n) != getattr(program, n)]
    if not program.pk or scalar_changed:
        program.updated_at = timezone.now()
        program.save()
    children_changed = _set_children(program, data)
    if children_changed:
        program.updated_at = timezone.now()
        program.save(update_fields=["updated_at"])
    return scalar_changed + children_changed


def _set_children(program: Program, data: ProgramData) -> list[str]:
    changed = []
    wanted_codes = set(data.categories)
    have_codes = set(program.categories.values_list("code", flat=True))
    if wanted_codes != have_codes:
        program.categories.exclude(code__in=wanted_codes).delete()
        program.categories.bulk_create(
            [program.categories.model(program=program, code=c) for c in wanted_codes - have_codes]
        )
        changed.append("categories")

    area_model = program.service_areas.model
    wanted_areas = (
        {(area_model.Kind.ZIP.value, z) for z in data.zip_codes}
        | {(area_model.Kind.COUNTY.value, c) for c in data.counties}
        | {(area_model.Kind.OTHER.value, a[:255]) for a in data.other_areas}
    )
    have_areas = {(a.kind, a.value): a.pk for a in program.service_areas.all()}
    if wanted_areas != set(have_areas):
        program.service_areas.filter(
            pk__in=[pk for key, pk in have_areas.items() if key not in wanted_areas]
        ).delete()
        program.service_areas.bulk_create(
            [
                area_model(program=program, kind=kind, value=value)
                for kind, value in sorted(wanted_areas - set(have_areas))
            ]
        )
        changed.append("service_areas")

    wanted_languages = dict(data.languages)
    have_languages = dict(program.languages.values_list("code", "name"))
    if wanted_languages != have_languages:
        program.languages.all().delete()
        program.languages.bulk_create(
            [
                program.languages.model(program=program, code=code, name=name)
                for code, name in wanted_languages.items()
            ]
        )
        changed.append("languages")

    if data.service_codes is not None:
        wanted_services = {code: display[:500] for code, display in data.service_codes}
        have_services = dict(
            program.service_codes.filter(system=SNOMED).values_list("code", "display")
        )
        if wanted_services != have_services:
            program.service_codes.all().delete()
            program.service_codes.bulk_create(
                [
                    program.service_codes.model(
                        program=program, system=SNOMED, code=code, display=display
                    )
                    for code, display in sorted(wanted_services.items())
                ]
            )
            changed.append("service_codes")
    # Later reads through the prefetch cache must not see the old rows.
    getattr(program, "_prefetched_objects_cache", {}).clear()
    return changed


# --- HSDS imports -------------------------------------------------------------------------


@transaction.atomic
def hsds_import_start(
    *,
    network: Network,
    organization: Organization | None,
    actor: User | None,
    file_name: str,
    payload: bytes,
) -> HsdsImport:
    """Record an upload to import. The file's structure is checked first: a file that is not
    HSDS raises ValidationError with one clear message and nothing is written.

    `organization` is the importer: a backbone (or None, an operator on the command line)
    imports for the whole network; any other organization only its own programs. The
    caller runs it: `hsds_import_run`, directly or through `tasks.hsds_import_task`.
    """
    from .hsds import HsdsFormatError, read_dataset

    try:
        dataset = read_dataset(payload)
    except HsdsFormatError as exc:
        raise ValidationError(str(exc)) from exc
    started = HsdsImport.objects.create(
        network=network,
        organization=organization,
        created_by=actor,
        file_name=file_name[:255],
        payload=payload,
        total_rows=dataset.row_count(),
    )
    audit_record(
        action=AuditEvent.Action.CREATE,
        object_type="hsds_import",
        object_ids=[started.pk],
        actor=actor,
        organization=organization,
    )
    return started


def hsds_import_run(*, hsds_import: HsdsImport) -> HsdsImport:
    """Run a pending import once (a second call, or a second worker, does nothing).

    Rows are written one service at a time, each in its own transaction, so the progress
    counter the page polls moves while the import runs; a crash leaves the rows already
    done, and re-running the same file updates rather than duplicates (HSDS ids are kept).
    """
    from .hsds_import import apply_dataset

    claimed = HsdsImport.objects.filter(pk=hsds_import.pk, status=HsdsImport.Status.PENDING).update(
        status=HsdsImport.Status.RUNNING, started_at=timezone.now()
    )
    hsds_import.refresh_from_db()
    if not claimed:
        return hsds_import
    apply_dataset(hsds_import)
    hsds_import.refresh_from_db()
    return hsds_import


@transaction.atomic
def partnership_programs_set(
    *, partnership: Partnership, programs: list[Program], organization: Organization
) -> list[Program]:
    """Set the programs (services) the partnership covers. Each must be a program of one of
    the partnership's organizations; anything else is refused and nothing changes."""
    if not partnership_may_manage(partnership=partnership, organization=organization):
        raise ValidationError(
            gettext("Only the partnership's organizations or the backbone may do this.")
        )
    members = set(partnership.organizations.values_list("pk", flat=True))
    foreign = [p.name for p in programs if p.organization_id not in members]
    if foreign:
        raise ValidationError(
            gettext("These programs are not run by an organization of the partnership: %(names)s.")
            % {"names": ", ".join(sorted(foreign))}
        )
    Partnership.objects.select_for_update().filter(pk=partnership.pk).first()
    partnership.programs.set(programs)
    return list(partnership.programs.order_by("name"))
