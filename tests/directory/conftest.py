"""Helpers for the directory tests: HSDS files built in memory, imports run inline."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

EXAMPLE_DIR = Path(__file__).with_name("hsds_example")


def zip_of(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def csv_text(rows: list[dict]) -> str:
    out = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def example_zip() -> bytes:
    """The official HSDS 3.0 example tables, zipped as a publisher would."""
    return zip_of({p.name: p.read_bytes() for p in sorted(EXAMPLE_DIR.glob("*.csv"))})


def unzip(payload: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def run_import():
    """`run_import(network=..., organization=..., payload=...)`: start and run an import as
    the worker would, returning the finished HsdsImport."""
    from directory.services import hsds_import_run, hsds_import_start

    def _run(*, network, organization, payload: bytes, actor=None, file_name="data.zip"):
        started = hsds_import_start(
            network=network,
            organization=organization,
            actor=actor,
            file_name=file_name,
            payload=payload,
        )
        return hsds_import_run(hsds_import=started)

    return _run
