"""The Open Referral Human Services Data Specification (HSDS 3.0), tabular form: reading an
uploaded dataset (a zip of the CSV tables, with or without its datapackage.json, or a
datapackage.json with the rows inline) and writing the directory out as one.

HSDS is CC BY-SA 4.0, "Human Services Data Specification: an Open Referral resource
(https://openreferral.org/)". `hsds_datapackage.json` holds the official 3.0 table schemas
of the tables Linkage writes; export columns come from it, in its order.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from functools import cache
from pathlib import Path, PurePosixPath

from config.spreadsheets import csv_cell
from organizations.models import Organization
from organizations.sdoh import CODE_SYSTEM, SDOHCategory

from .models import Program, ProgramServiceArea
from .service_codes import SNOMED

# Table name → file name in the official datapackage (HSDS 3.0).
OFFICIAL_PATHS = {
    "organization": "organizations.csv",
    "program": "programs.csv",
    "service": "services.csv",
    "attribute": "attributes.csv",
    "service_at_location": "service_at_location.csv",
    "location": "locations.csv",
    "phone": "phones.csv",
    "contact": "contacts.csv",
    "address": "addresses.csv",
    "schedule": "schedules.csv",
    "funding": "funding.csv",
    "service_area": "service_areas.csv",
    "required_document": "required_documents.csv",
    "language": "languages.csv",
    "accessibility": "accessibility.csv",
    "taxonomy_term": "taxonomy_terms.csv",
    "metadata": "metadata.csv",
    "meta_table_description": "meta_table_descriptions.csv",
    "cost_option": "cost_options.csv",
    "organization_identifier": "organization_identifiers.csv",
    "taxonomy": "taxonomies.csv",
}
# Tables whose rows an import applies, row by row (and reports on).
IMPORTED_TABLES = ("organization", "service", "service_area", "language", "phone", "schedule")
# Tables read to resolve links: categories (attribute → taxonomy_term → taxonomy) and postal
# codes of the places a service is delivered (service_at_location → location → address).
LINK_TABLES = ("attribute", "taxonomy_term", "taxonomy", "service_at_location", "address")
# Columns without which a table is not HSDS at all.
REQUIRED_COLUMNS = {
    "organization": ("id", "name"),
    "service": ("id", "organization_id", "name", "status"),
    "service_area": ("id", "service_id"),
    "language": ("id", "service_id"),
    "phone": ("id", "number"),
    "schedule": ("id", "service_id"),
    "attribute": ("id", "link_id", "taxonomy_term_id"),
    "taxonomy_term": ("id",),
    "taxonomy": ("id",),
    "service_at_location": ("id", "service_id", "location_id"),
    "address": ("id", "location_id", "postal_code"),
}
SERVICE_STATUSES = ("active", "inactive", "defunct", "temporarily closed")

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_FILES = 500
NOT_HSDS = (
    "This file is not an HSDS dataset. Upload a zip of the HSDS CSV tables (at least "
    "organizations.csv and services.csv, optionally with datapackage.json) or an HSDS "
    "datapackage.json with the rows inline."
)


class HsdsFormatError(Exception):
    """The upload is not an HSDS dataset; the message says why, in one sentence or two."""


@dataclass
class Table:
    """One HSDS table: its columns and rows, each row with its number in the file (the
    header is row 1)."""

    name: str
    path: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]


@dataclass
class Dataset:
    tables: dict[str, Table]
    # Files (or datapackage resources) that are not HSDS tables Linkage reads.
    ignored: list[str] = field(default_factory=list)

    def rows(self, name: str) -> list[tuple[int, dict[str, str]]]:
        table = self.tables.get(name)
        return table.rows if table else []

    def row_count(self) -> int:
        """Rows the import applies and reports on (its progress denominator)."""
        return sum(len(self.rows(n)) for n in (*IMPORTED_TABLES, "attribute"))


# --- Reading ------------------------------------------------------------------------------


def read_dataset(payload: bytes) -> Dataset:
    """Parse an upload. Raises HsdsFormatError, before anything is written, when it is not
    HSDS: not a zip or datapackage, no organization or service table, a table without its
    HSDS key columns, text that is not UTF-8 or not CSV."""
    if payload[:4] == b"PK\x03\x04":
        dataset = _read_zip(payload)
    elif payload.lstrip()[:1] == b"{":
        dataset = _read_datapackage(_json(payload, "The file"), files={})
    else:
        raise HsdsFormatError(NOT_HSDS)
    missing = [n for n in ("organization", "service") if n not in dataset.tables]
    if missing:
        wanted = " and ".join(f"{OFFICIAL_PATHS[n]} (or {n}.csv)" for n in missing)
        found = ", ".join(sorted(dataset.ignored)) or "nothing usable"
        raise HsdsFormatError(f"This is not an HSDS dataset: {wanted} missing. Found: {found}.")
    for table in dataset.tables.values():
        lacking = [c for c in REQUIRED_COLUMNS.get(table.name, ()) if c not in table.columns]
        if lacking:
            raise HsdsFormatError(
                f"{table.path} is not an HSDS {table.name} table: it has no "
                f"{', '.join(lacking)} column{'s' if len(lacking) > 1 else ''}."
            )
    return dataset


def _read_zip(payload: bytes) -> Dataset:
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir()
            and not m.filename.startswith("__MACOSX/")
            and not PurePosixPath(m.filename).name.startswith(".")
        ]
    except zipfile.BadZipFile as exc:
        raise HsdsFormatError("The zip file is damaged and cannot be opened.") from exc
    if len(members) > MAX_FILES:
        raise HsdsFormatError(f"The zip holds {len(members)} files; HSDS has 22 tables at most.")
    if sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
        raise HsdsFormatError("The zip unpacks to more than 200 MB; split the dataset.")
    # The shallowest file of each name wins (a zip of a folder nests everything once).
    files: dict[str, zipfile.ZipInfo] = {}
    for member in sorted(members, key=lambda m: m.filename.count("/")):
        files.setdefault(PurePosixPath(member.filename).name.lower(), member)

    def read(name: str) -> bytes:
        try:
            return archive.read(files[name])
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise HsdsFormatError(f"{name} cannot be unpacked from the zip: {exc}.") from exc

    contents = {name: read(name) for name in files}
    if "datapackage.json" in contents:
        package = _json(contents.pop("datapackage.json"), "datapackage.json")
        return _read_datapackage(package, files=contents)
    return _read_files(contents, paths={})


def _read_datapackage(package: object, *, files: dict[str, bytes]) -> Dataset:
    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list):
        raise HsdsFormatError("The datapackage.json has no list of resources: " + NOT_HSDS)
    paths: dict[str, str] = {}
    inline: dict[str, Table] = {}
    for resource in resources:
        if not isinstance(resource, dict):
            continue
        name = str(resource.get("name", "")).lower()
        if isinstance(resource.get("data"), list) and name in OFFICIAL_PATHS:
            inline[name] = _inline_table(name, resource["data"])
        elif isinstance(resource.get("path"), str) and name in OFFICIAL_PATHS:
            paths[name] = PurePosixPath(resource["path"]).name.lower()
    if not files:
        missing = sorted({p for n, p in paths.items() if n not in inline})
        if missing and not inline:
            raise HsdsFormatError(
                f"The datapackage.json refers to {', '.join(missing[:3])}, which are not in "
                "the upload: upload the zip of the CSV files with it."
            )
    dataset = _read_files(files, paths=paths)
    for name, table in inline.items():
        dataset.tables.setdefault(name, table)
    return dataset


def _read_files(files: dict[str, bytes], *, paths: dict[str, str]) -> Dataset:
    tables: dict[str, Table] = {}
    used: set[str] = set()
    for name, official in OFFICIAL_PATHS.items():
        candidates = [paths.get(name), f"{name}.csv", official]
        path = next((p for p in candidates if p and p in files), None)
        if path is None:
            continue
        used.add(path)
        if name in IMPORTED_TABLES or name in LINK_TABLES:
            tables[name] = _csv_table(name, path, files[path])
    ignored = sorted(set(files) - used) + sorted(
        p for p in used if not any(t.path == p for t in tables.values())
    )
    return Dataset(tables=tables, ignored=ignored)


def _csv_table(name: str, path: str, content: bytes) -> Table:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HsdsFormatError(
            f"{path} is not UTF-8 text (save it as “CSV UTF-8”): byte {exc.start} is invalid."
        ) from exc
    if "\x00" in text:
        raise HsdsFormatError(f"{path} is not a CSV file (it holds binary data).")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise HsdsFormatError(f"{path} is empty: an HSDS table starts with a header row.")
        columns = [h.strip().lower() for h in header]
        rows = []
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            row = {
                c: (_undefused(values[i].strip()) if i < len(values) else "")
                for i, c in enumerate(columns)
            }
            rows.append((number, row))
    except csv.Error as exc:
        raise HsdsFormatError(f"{path} is not valid CSV: {exc}.") from exc
    return Table(name=name, path=path, columns=columns, rows=rows)


def _undefused(value: str) -> str:
    """A cell as it was before `csv_cell` defused it: a Linkage export read back gives the
    same text ("'=x" → "=x"). A leading apostrophe `csv_cell` would not have added stays."""
    if value[:1] == "'" and csv_cell(value[1:]) == value:
        return value[1:]
    return value


def _inline_table(name: str, data: list) -> Table:
    path = f"datapackage.json ({name})"
    if data and all(isinstance(r, list) for r in data):
        columns = [str(h).strip().lower() for h in data[0]]
        records = [dict(zip(columns, r, strict=False)) for r in data[1:]]
        first = 2
    elif all(isinstance(r, dict) for r in data):
        columns = list(dict.fromkeys(str(k).lower() for r in data for k in r))
        records = [{str(k).lower(): v for k, v in r.items()} for r in data]
        first = 1
    else:
        raise HsdsFormatError(f"{path}: rows must all be objects or all be lists.")
    rows = [
        (n, {c: "" if r.get(c) is None else str(r.get(c)).strip() for c in columns})
        for n, r in enumerate(records, start=first)
    ]
    return Table(name=name, path=path, columns=columns, rows=rows)


def _json(content: bytes, label: str) -> object:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HsdsFormatError(f"{label} is not valid JSON: " + NOT_HSDS) from exc


# --- Ids ------------------------------------------------------------------------------------

# Ids Linkage mints for rows other than services are stable: the same program exported
# twice gives the same ids, so a consumer's re-import updates rather than duplicates.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://linkage.invalid/hsds")


def stable_id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def organization_hsds_id(org: Organization) -> str:
    return stable_id("organization", org.network.slug, org.slug)


# --- Writing --------------------------------------------------------------------------------


@cache
def _package_template() -> dict:
    return json.loads((Path(__file__).with_name("hsds_datapackage.json")).read_text())


def _columns(name: str) -> list[str]:
    resource = next(r for r in _package_template()["resources"] if r["name"] == name)
    return [f["name"] for f in resource["schema"]["fields"]]


def service_status(program: Program) -> str:
    """HSDS service.status for a program: unlisted → inactive; listed but not accepting
    referrals → temporarily closed; otherwise active."""
    if not program.is_listed:
        return "inactive"
    if not program.accepting_referrals:
        return "temporarily closed"
    return "active"


def area_name(kind: str, value: str) -> str:
    return f"{value} County" if kind == ProgramServiceArea.Kind.COUNTY else value


def export_dataset(programs: Iterable[Program], *, title: str) -> bytes:
    """A zip of HSDS CSV tables for these programs (with `organization`, `categories`,
    `service_areas` and `languages` prefetched) and a datapackage.json describing them."""
    rows: dict[str, list[dict]] = {r["name"]: [] for r in _package_template()["resources"]}
    taxonomy_id = stable_id("taxonomy", CODE_SYSTEM)
    organizations: dict[int, Organization] = {}
    used_codes: set[str] = set()
    used_services: dict[str, str] = {}
    for program in programs:
        org = program.organization
        organizations.setdefault(org.pk, org)
        sid = program.hsds_id
        rows["service"].append(
            {
                "id": sid,
                "organization_id": organization_hsds_id(org),
                "name": program.name,
                "description": program.description,
                "url": program.website,
                "email": program.email,
                "status": service_status(program),
                "application_process": program.intake,
                "fees_description": program.fees,
                "eligibility_description": program.eligibility,
                "minimum_age": "" if program.minimum_age is None else program.minimum_age,
                "maximum_age": "" if program.maximum_age is None else program.maximum_age,
                "last_modified": program.updated_at.astimezone(UTC).isoformat(),
            }
        )
        for area in program.service_areas.all():
            rows["service_area"].append(
                {
                    "id": stable_id(sid, "area", area.kind, area.value),
                    "service_id": sid,
                    "name": area_name(area.kind, area.value),
                    "extent_type": "text",
                }
            )
        for lang in program.languages.all():
            rows["language"].append(
                {
                    "id": stable_id(sid, "language", lang.code),
                    "service_id": sid,
                    "name": lang.name,
                    "code": lang.code,
                }
            )
        if program.phone:
            rows["phone"].append(
                {"id": stable_id(sid, "phone"), "service_id": sid, "number": program.phone}
            )
        if program.hours:
            rows["schedule"].append(
                {"id": stable_id(sid, "schedule"), "service_id": sid, "description": program.hours}
            )
        for category in program.categories.all():
            used_codes.add(category.code)
            rows["attribute"].append(
                {
                    "id": stable_id(sid, "category", category.code),
                    "link_id": sid,
                    "link_entity": "service",
                    "link_type": "service_type",
                    "taxonomy_term_id": stable_id("term", CODE_SYSTEM, category.code),
                }
            )
        for service in program.service_codes.all():
            used_services.setdefault(service.code, service.display)
            rows["attribute"].append(
                {
                    "id": stable_id(sid, "service-code", service.code),
                    "link_id": sid,
                    "link_entity": "service",
                    "link_type": "service_type",
                    "taxonomy_term_id": stable_id("term", SNOMED, service.code),
                }
            )
    for org in organizations.values():
        rows["organization"].append(
            {
                "id": organization_hsds_id(org),
                "name": org.name,
                "description": org.get_kind_display(),
            }
        )
    if used_codes:
        rows["taxonomy"].append(
            {
                "id": taxonomy_id,
                "name": "SDOH Category (HL7 SDOH Clinical Care IG, Gravity Project)",
                "description": "Social determinants of health domains: the SDOHCC value set "
                "SDOH Category, codes of the SDOHCC temporary code system.",
                "uri": CODE_SYSTEM,
            }
        )
    for code in sorted(used_codes):
        label = SDOHCategory(code).label
        rows["taxonomy_term"].append(
            {
                "id": stable_id("term", CODE_SYSTEM, code),
                "code": code,
                "name": label,
                "description": label,
                "taxonomy": "SDOHCC",
                "taxonomy_id": taxonomy_id,
                "term_uri": f"{CODE_SYSTEM}#{code}",
            }
        )
    if used_services:
        # The services a program delivers travel as terms of a SNOMED CT taxonomy, as the
        # categories do as terms of the SDOHCC one (HealthcareService.type on FHIR).
        snomed_taxonomy_id = stable_id("taxonomy", SNOMED)
        rows["taxonomy"].append(
            {
                "id": snomed_taxonomy_id,
                "name": "SNOMED CT",
                "description": "The services a program delivers: SNOMED CT interventions, as "
                "the HL7 SDOH Clinical Care IG codes ServiceRequest.code.",
                "uri": SNOMED,
            }
        )
        for code, display in sorted(used_services.items()):
            rows["taxonomy_term"].append(
                {
                    "id": stable_id("term", SNOMED, code),
                    "code": code,
                    "name": display or code,
                    "description": display,
                    "taxonomy": "SNOMED CT",
                    "taxonomy_id": snomed_taxonomy_id,
                    "term_uri": f"http://snomed.info/id/{code}",
                }
            )
    package = {**_package_template(), "title": title}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", json.dumps(package, indent=2, ensure_ascii=False))
        for resource in package["resources"]:
            archive.writestr(
                resource["path"], _csv(_columns(resource["name"]), rows[resource["name"]])
            )
    return buffer.getvalue()


def _csv(columns: list[str], rows: list[dict]) -> str:
    """The table as CSV. Cells are written through `csv_cell`: the tables are opened in
    spreadsheets too, and a program named "=HYPERLINK(...)" must not run there."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()
