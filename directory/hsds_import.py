"""Applying an HSDS dataset to a network's directory, row by row, with a report.

Called only through `directory_services.hsds_import_run`, which claims the import first.
Mapping: organization → Organization (matched by name in the network), service → Program
(matched by its HSDS id within that organization), service_area (or, when a service has
none, its locations' postal codes) → service area, language → languages, phone → contact
phone, schedule → hours, attribute + taxonomy_term → SDOH categories when the code is one
of the Gravity Project's (`SDOHCategory`), or → service codes when the term is a SNOMED CT
concept (its taxonomy's uri, or its term_uri, is SNOMED CT's); any other code is rejected,
never invented. A file with no SNOMED CT term leaves programs' service codes as they are.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone

from organizations.languages import language_code, language_name
from organizations.models import Organization
from organizations.sdoh import SDOHCategory
from organizations.services import organization_get_or_create

from .hsds import SERVICE_STATUSES, Dataset, HsdsFormatError, read_dataset
from .models import HsdsImport, Program, ProgramServiceArea
from .selectors import zip5
from .service_codes import SNOMED, display_for, is_sctid
from .services import HSDS_SCALAR_FIELDS, ProgramData, program_create, program_update

logger = logging.getLogger(__name__)

Row = tuple[int, dict[str, str]]
_COUNTY = re.compile(r"^(?P<name>.+?)\s+county(?:\s*,\s*[a-z .]+)?$", re.IGNORECASE)
_ZIP_LIST = re.compile(r"^\d{5}(?:-\d{4})?(?:[\s,;]+\d{5}(?:-\d{4})?)*$")
_DAYS = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat", "SU": "Sun"}
PROGRESS_EVERY_SECONDS = 1.0


def parse_area(text: str) -> list[tuple[str, str]]:
    """A service_area name as ZIP codes ("60601, 60602"), a county ("Cook County, IL"), or
    an area in words (kept as written)."""
    text = " ".join(text.split())
    if not text:
        return []
    if _ZIP_LIST.match(text):
        return [(ProgramServiceArea.Kind.ZIP, zip5(z)) for z in re.split(r"[\s,;]+", text)]
    county = _COUNTY.match(text)
    if county:
        return [(ProgramServiceArea.Kind.COUNTY, county.group("name").strip())]
    return [(ProgramServiceArea.Kind.OTHER, text[:255])]


def schedule_text(row: dict[str, str]) -> str:
    """Opening hours in words: the schedule's description, else its days and times."""
    if row.get("description"):
        return row["description"]
    days = [_DAYS.get(d.strip().upper()[-2:], d.strip()) for d in row.get("byday", "").split(",")]
    days = [d for d in days if d]
    opens, closes = row.get("opens_at", "")[:5], row.get("closes_at", "")[:5]
    times = f"{opens}-{closes}" if opens and closes else opens or closes
    return " ".join(p for p in (", ".join(days), times) if p) or row.get("notes", "")


def apply_dataset(hsds_import: HsdsImport) -> None:
    try:
        dataset = read_dataset(bytes(hsds_import.payload))
    except HsdsFormatError as exc:
        _finish(hsds_import, status=HsdsImport.Status.FAILED, error=str(exc), report=[])
        return
    run = _Run(hsds_import, dataset)
    try:
        run.organizations()
        run.services()
    except Exception:
        # Rows done so far stay (each committed on its own); re-running the file is safe.
        logger.exception("HSDS import %s stopped", hsds_import.pk)
        _finish(
            hsds_import,
            status=HsdsImport.Status.FAILED,
            error=f"The import stopped after {run.processed} rows because of an internal "
            "error; the rows reported were applied. Run the import again to finish it.",
            report=run.report,
            counts=run.counts,
        )
        return
    run.ignored_files()
    _finish(hsds_import, status=HsdsImport.Status.DONE, report=run.report, counts=run.counts)


def _finish(hsds_import: HsdsImport, *, status, error="", report, counts=None) -> None:
    fields = {
        "status": status,
        "error": error,
        "report": report,
        "counts": dict(counts or {}),
        "finished_at": timezone.now(),
        # The file is not needed once applied; a failed one stays for a second look.
        "payload": b"" if status == HsdsImport.Status.DONE else hsds_import.payload,
    }
    if status == HsdsImport.Status.DONE:
        fields["processed_rows"] = hsds_import.total_rows
    HsdsImport.objects.filter(pk=hsds_import.pk).update(**fields)


class _Run:
    def __init__(self, hsds_import: HsdsImport, dataset: Dataset):
        self.imp = hsds_import
        self.data = dataset
        self.importer: Organization | None = hsds_import.organization
        self.network_wide = self.importer is None or self.importer.is_backbone
        self.report: list[dict] = []
        self.counts: Counter = Counter()
        self.processed = 0
        self._flushed_at = time.monotonic()
        self.orgs: dict[str, Organization] = {}
        self.org_problems: dict[str, str] = {}
        self._terms: dict[str, dict[str, str]] | None = None
        self._snomed_terms: set[str] = set()
        self._zips_by_service: dict[str, set[str]] | None = None

    # -- report --------------------------------------------------------------------------

    def note(self, table: str, row: Row | None, action: str, message: str) -> None:
        number, values = row if row else (None, {})
        if message.endswith(".."):  # a name ending in a period ("Example Inc.")
            message = message[:-1]
        self.report.append(
            {
                "table": table,
                "row": number,
                "id": values.get("id", ""),
                "action": action,
                "message": message,
            }
        )
        self.counts[action] += 1
        if row is not None:
            self.processed += 1
            if time.monotonic() - self._flushed_at >= PROGRESS_EVERY_SECONDS:
                HsdsImport.objects.filter(pk=self.imp.pk).update(processed_rows=self.processed)
                self._flushed_at = time.monotonic()

    def path(self, table: str) -> str:
        return self.data.tables[table].path

    # -- organizations -------------------------------------------------------------------

    def organizations(self) -> None:
        table = self.path("organization")
        seen: set[str] = set()
        for row in self.data.rows("organization"):
            values = row[1]
            oid, name = values.get("id", ""), values.get("name", "")
            if not oid:
                self.note(table, row, "rejected", "No id: every HSDS organization needs one.")
                continue
            if oid in seen:
                self.note(table, row, "rejected", f"Duplicate organization id “{oid}”.")
                continue
            seen.add(oid)
            problem = self._organization(oid, name, row, table)
            if problem:
                self.org_problems[oid] = problem
                self.note(table, row, "rejected", problem)

    def _organization(self, oid: str, name: str, row: Row, table: str) -> str:
        if not name:
            return "No name: organizations are matched by name."
        network = self.imp.network
        existing = Organization.objects.filter(network=network, name__iexact=name).first()
        if not self.network_wide and (existing is None or existing.pk != self.importer.pk):
            return (
                f"“{name}” is not {self.importer.name}: an organization admin imports only "
                "their own organization's services (the backbone imports for the network)."
            )
        if existing is not None:
            if not existing.is_active:
                return f"{existing.name} is deactivated in {network.name}."
            self.orgs[oid] = existing
            self.note(table, row, "unchanged", f"Matched {existing.name}.")
            return ""
        if len(name) > Organization._meta.get_field("name").max_length:
            return "The name is longer than 200 characters."
        with transaction.atomic():
            outcome = organization_get_or_create(
                network=network, name=name, kind=Organization.Kind.CBO
            )
        self.orgs[oid] = outcome.obj
        self.note(table, row, "created", f"Created community-based organization {name}.")
        return ""

    # -- services ------------------------------------------------------------------------

    def services(self) -> None:
        children = {
            name: self._by(name, "service_id")
            for name in ("service_area", "language", "phone", "schedule")
        }
        attributes = self._by("attribute", "link_id")
        service_ids = {r[1]["id"] for r in self.data.rows("service") if r[1].get("id")}
        handled: set[str] = set()
        table = self.path("service")
        for row in self.data.rows("service"):
            sid = row[1].get("id", "")
            if not sid:
                self.note(table, row, "rejected", "No id: every HSDS service needs one.")
                continue
            if sid in handled:
                self.note(table, row, "rejected", f"Duplicate service id “{sid}”.")
                continue
            handled.add(sid)
            self._service(
                row, {n: rows.get(sid, []) for n, rows in children.items()}, attributes.get(sid, [])
            )
        for name, by_service in children.items():
            for sid, rows in by_service.items():
                if sid not in service_ids:
                    for row in rows:
                        self.note(self.path(name), row, "skipped", self._unlinked(sid))
        for link_id, rows in attributes.items():
            if link_id not in service_ids:
                for row in rows:
                    self.note(self.path("attribute"), row, "skipped", self._unlinked(link_id))

    @staticmethod
    def _unlinked(sid: str) -> str:
        if not sid:
            return "Not linked to a service (only services' details are imported)."
        return f"Links to “{sid}”, which is not a service in this file."

    def _by(self, table: str, key: str) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = defaultdict(list)
        for row in self.data.rows(table):
            grouped[row[1].get(key, "")].append(row)
        return grouped

    def _service(self, row: Row, children: dict[str, list[Row]], attributes: list[Row]) -> None:
        table, values = self.path("service"), row[1]
        sid, name = values["id"], values.get("name", "")
        oid = values.get("organization_id", "")
        org = self.orgs.get(oid)
        status = values.get("status", "").lower()
        reason = ""
        if org is None:
            reason = (
                f"Its organization was rejected: {self.org_problems[oid]}"
                if oid in self.org_problems
                else f"organization_id “{oid}” is not in {self.path('organization')}."
            )
        elif not name:
            reason = "No name."
        elif status not in SERVICE_STATUSES:
            reason = (
                f"Status “{values.get('status', '')}” is not an HSDS service status "
                f"({', '.join(SERVICE_STATUSES)})."
            )
        ages = {}
        for key in ("minimum_age", "maximum_age"):
            text = values.get(key, "")
            try:
                ages[key] = int(float(text)) if text else None
            except (ValueError, OverflowError):
                reason = reason or f"{key} “{text}” is not a number."
        if reason:
            self.note(table, row, "rejected", reason)
            for name_, rows in (*children.items(), ("attribute", attributes)):
                for child in rows:
                    self.note(self.path(name_), child, "skipped", "Its service was rejected.")
            return

        warnings: list[str] = []
        data = ProgramData(
            name=name,
            description=values.get("description", ""),
            eligibility=values.get("eligibility_description", ""),
            fees=values.get("fees_description", ""),
            intake=values.get("application_process", ""),
            email=_valid(values.get("email", ""), EmailValidator(), "email", 254, warnings),
            website=_valid(values.get("url", ""), URLValidator(), "url", 200, warnings),
            is_listed=status in ("active", "temporarily closed"),
            accepting_referrals=status == "active",
            **ages,
        )
        child_notes: list[tuple[str, Row, str, str]] = []
        self._areas(data, children["service_area"], sid, child_notes)
        self._languages(data, children["language"], child_notes)
        self._phones(data, children["phone"], child_notes)
        for child in children["schedule"]:
            text = schedule_text(child[1])
            if text:
                data.hours = f"{data.hours}; {text}" if data.hours else text
                child_notes.append(("schedule", child, "imported", f"Hours: {text}"))
            else:
                child_notes.append(
                    ("schedule", child, "rejected", "No description, days or times.")
                )
        self._categories(data, attributes, child_notes)

        try:
            action, message = self._save(org, sid, data)
        except ValidationError as exc:
            action, message = "rejected", " ".join(exc.messages)
        self.note(table, row, action, " ".join([message, *warnings]))
        for name_, child, child_action, child_message in child_notes:
            if action == "rejected" and child_action != "rejected":
                child_action, child_message = "skipped", "Its service was rejected."
            self.note(self.path(name_), child, child_action, child_message)

    def _save(self, org: Organization, sid: str, data: ProgramData) -> tuple[str, str]:
        actor = self.imp.created_by
        program = (
            Program.objects.filter(organization=org, hsds_id=sid)
            .prefetch_related("categories", "service_areas", "languages", "service_codes")
            .first()
        )
        if program is None:
            program = program_create(
                organization=org, data=data, actor=actor, hsds_id=sid, acting_for=self.importer
            )
            return "created", f"Created program “{program.name}” of {org.name}."
        changed = program_update(
            program=program,
            data=data,
            actor=actor,
            fields=HSDS_SCALAR_FIELDS,
            acting_for=self.importer,
        )
        if changed:
            return "updated", f"Updated “{data.name}” of {org.name}: {', '.join(changed)}."
        return "unchanged", f"“{data.name}” of {org.name} is already up to date."

    def _areas(self, data: ProgramData, rows: list[Row], sid: str, notes: list) -> None:
        for row in rows:
            text = row[1].get("name") or row[1].get("description", "")
            areas = parse_area(text)
            if not areas:
                notes.append(("service_area", row, "rejected", "No name or description."))
                continue
            self._add_areas(data, areas)
            shown = ", ".join(_area_words(kind, value) for kind, value in areas)
            notes.append(("service_area", row, "imported", f"Service area: {shown}"))
        if not rows:
            # No service_area rows: the places it is delivered say where it serves.
            zips = self._location_zips(sid)
            self._add_areas(data, [(ProgramServiceArea.Kind.ZIP, z) for z in zips])

    @staticmethod
    def _add_areas(data: ProgramData, areas: list[tuple[str, str]]) -> None:
        target = {"zip": data.zip_codes, "county": data.counties, "other": data.other_areas}
        for kind, value in areas:
            if value not in target[kind]:
                target[kind].append(value)

    def _location_zips(self, sid: str) -> list[str]:
        if self._zips_by_service is None:
            zips_by_location: dict[str, set[str]] = defaultdict(set)
            for _, address in self.data.rows("address"):
                code = zip5(address.get("postal_code", ""))
                if code:
                    zips_by_location[address.get("location_id", "")].add(code)
            self._zips_by_service = defaultdict(set)
            for _, link in self.data.rows("service_at_location"):
                self._zips_by_service[link.get("service_id", "")] |= zips_by_location.get(
                    link.get("location_id", ""), set()
                )
        return sorted(self._zips_by_service.get(sid, set()))

    def _languages(self, data: ProgramData, rows: list[Row], notes: list) -> None:
        for row in rows:
            given_code, given_name = row[1].get("code", ""), row[1].get("name", "")
            code = language_code(given_code) or language_code(given_name)
            if not code:
                shown = given_name or given_code or "(blank)"
                notes.append(("language", row, "rejected", f"“{shown}” has no ISO 639 code."))
                continue
            name = given_name or language_name(code)
            if code not in dict(data.languages):
                data.languages.append((code, name[:100]))
            notes.append(("language", row, "imported", f"Language: {name} ({code})"))

    def _phones(self, data: ProgramData, rows: list[Row], notes: list) -> None:
        for row in rows:
            number = row[1].get("number", "").strip("\"' ")
            extension = row[1].get("extension", "")
            if extension:
                number = f"{number} ext. {extension.removesuffix('.0')}"
            if not number:
                notes.append(("phone", row, "rejected", "No number."))
            elif len(number) > 40:
                notes.append(("phone", row, "rejected", "The number is longer than 40 characters."))
            elif data.phone:
                notes.append(("phone", row, "skipped", f"Programs keep one phone: {data.phone}."))
            else:
                data.phone = number
                notes.append(("phone", row, "imported", f"Phone: {number}"))

    def _categories(self, data: ProgramData, rows: list[Row], notes: list) -> None:
        if self._terms is None:
            self._terms = {r[1].get("id", ""): r[1] for r in self.data.rows("taxonomy_term")}
            snomed_taxonomies = {
                r[1].get("id", "")
                for r in self.data.rows("taxonomy")
                if _is_snomed_uri(r[1].get("uri", ""))
            }
            self._snomed_terms = {
                tid
                for tid, term in self._terms.items()
                if term.get("taxonomy_id", "") in snomed_taxonomies
                or _is_snomed_uri(term.get("term_uri", ""))
            }
        if self._snomed_terms:
            data.service_codes = []
        for row in rows:
            term_id = row[1].get("taxonomy_term_id", "")
            term = self._terms.get(term_id)
            if term is None:
                notes.append(
                    ("attribute", row, "rejected", f"Taxonomy term “{term_id}” is not in the file.")
                )
                continue
            if term_id in self._snomed_terms:
                self._service_code(data, row, term, notes)
                continue
            code = (term.get("code") or "").strip().lower()
            if code not in SDOHCategory.values:
                notes.append(
                    (
                        "attribute",
                        row,
                        "rejected",
                        f"“{term.get('code') or term.get('name', '')}” is not an SDOH category "
                        "code of the Gravity Project value set; not imported.",
                    )
                )
                continue
            if code not in data.categories:
                data.categories.append(code)
            notes.append(
                ("attribute", row, "imported", f"Category: {SDOHCategory(code).label} ({code})")
            )

    @staticmethod
    def _service_code(data: ProgramData, row: Row, term: dict[str, str], notes: list) -> None:
        code = (term.get("code") or "").strip()
        if not is_sctid(code):
            notes.append(
                (
                    "attribute",
                    row,
                    "rejected",
                    f"“{code or term.get('name', '')}” is not a SNOMED CT code; not imported.",
                )
            )
            return
        display = (term.get("name") or "").strip() or display_for(code)
        if all(code != c for c, _ in data.service_codes):
            data.service_codes.append((code, display))
        notes.append(("attribute", row, "imported", f"Service: {display or code} ({code})"))

    def ignored_files(self) -> None:
        for path in self.data.ignored:
            self.note(path, None, "ignored", "Not used by Linkage's directory.")


def _is_snomed_uri(uri: str) -> bool:
    """SNOMED CT's FHIR system URI, or a concept URI under http://snomed.info/id/."""
    uri = (uri or "").strip().rstrip("/")
    return uri == SNOMED or uri.startswith(("http://snomed.info/id/", f"{SNOMED}|"))


def _area_words(kind: str, value: str) -> str:
    if kind == ProgramServiceArea.Kind.ZIP:
        return f"ZIP {value}"
    if kind == ProgramServiceArea.Kind.COUNTY:
        return f"{value} County"
    return f"“{value}”"


def _valid(value: str, validator, label: str, max_length: int, warnings: list[str]) -> str:
    if not value:
        return ""
    try:
        validator(value)
        if len(value) > max_length:
            raise ValidationError("too long")
    except ValidationError:
        warnings.append(f"Its {label} “{value}” is not valid and was left out.")
        return ""
    return value
