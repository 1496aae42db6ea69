"""Loading the instrument files (assessments/instruments/*/) into the Instrument table.

Used by the data migration (with the historical model) and by `manage.py load_instruments`.
Idempotent: an unchanged version is left alone; a changed file with the same version is
refused once assessments use that version (a changed definition must be a new version).
Translations (`translation-<language>.json`) are words only, so a new or reworded
translation updates the version in place, even one assessments use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from .engine import DefinitionError, InstrumentDefinition, check_translation

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
SIDECAR = "instrument.json"
TRANSLATIONS = "translation-*.json"


@dataclass(frozen=True)
class InstrumentFiles:
    key: str
    version: str
    title: str
    kind: str
    questionnaire: dict
    scoring: dict
    translations: dict  # language -> translation document


@dataclass(frozen=True)
class LoadOutcome:
    key: str
    version: str
    action: str  # "created", "updated", "unchanged"


def read_instrument(folder: Path) -> InstrumentFiles:
    """Read and check one instrument folder; DefinitionError when inconsistent."""
    scoring = json.loads((folder / SIDECAR).read_text(encoding="utf-8"))
    name = scoring.get("questionnaire", "")
    path = (folder / name).resolve()
    if not name or path.parent != folder.resolve() or not path.is_file():
        raise DefinitionError(f"{folder.name}: questionnaire file {name!r} not found beside it.")
    questionnaire = json.loads(path.read_text(encoding="utf-8"))
    definition = InstrumentDefinition.from_documents(questionnaire, scoring)
    translations = {}
    for file in sorted(folder.glob(TRANSLATIONS)):
        translation = json.loads(file.read_text(encoding="utf-8"))
        if translation.get("questionnaire") != name:
            raise DefinitionError(f"{folder.name}/{file.name}: translates another questionnaire.")
        check_translation(questionnaire, scoring, translation)
        if translation["language"] in translations:
            raise DefinitionError(f"{folder.name}: two translations into one language.")
        translations[translation["language"]] = translation
    return InstrumentFiles(
        key=definition.key,
        version=definition.version,
        title=definition.title,
        kind=definition.kind,
        questionnaire=questionnaire,
        scoring=scoring,
        translations=translations,
    )


def read_all(directory: Path = INSTRUMENTS_DIR) -> list[InstrumentFiles]:
    found = [read_instrument(p.parent) for p in sorted(directory.glob(f"*/{SIDECAR}"))]
    keys = [(f.key, f.version) for f in found]
    if len(set(keys)) != len(keys):
        raise DefinitionError("Two instrument folders declare the same key and version.")
    return found


def load_instruments(
    *, model=None, directory: Path = INSTRUMENTS_DIR, files: list[InstrumentFiles] | None = None
) -> list[LoadOutcome]:
    """Create or update Instrument rows from the files; the loaded version of each key
    becomes the current one. `model` is the Instrument model (the historical one inside a
    migration)."""
    if model is None:
        from .models import Instrument as model
    outcomes = []
    with transaction.atomic():
        for files_ in files if files is not None else read_all(directory):
            outcomes.append(_load_one(model, files_))
    return outcomes


def _load_one(model, files: InstrumentFiles) -> LoadOutcome:
    fields = {
        "title": files.title,
        "kind": files.kind,
        "questionnaire": files.questionnaire,
        "scoring": files.scoring,
    }
    # Words only: may change under assessments (the historical model of an early migration
    # has no such column yet).
    wording = {}
    if any(f.name == "translations" for f in model._meta.get_fields()):
        wording["translations"] = files.translations
    existing = model.objects.select_for_update().filter(key=files.key, version=files.version)
    row = existing.first()
    if row is None:
        model.objects.filter(key=files.key, is_current=True).update(is_current=False)
        model.objects.create(
            key=files.key,
            version=files.version,
            is_current=True,
            loaded_at=timezone.now(),
            **fields,
            **wording,
        )
        return LoadOutcome(files.key, files.version, "created")
    changed = [name for name, value in fields.items() if getattr(row, name) != value]
    reworded = [name for name, value in wording.items() if getattr(row, name) != value]
    if not changed and not reworded and row.is_current:
        return LoadOutcome(files.key, files.version, "unchanged")
    if changed and row.assessments.exists():
        raise DefinitionError(
            f"{files.key} {files.version} is already used by assessments and its files changed "
            f"({', '.join(changed)}): give the changed definition a new version."
        )
    model.objects.filter(key=files.key, is_current=True).exclude(pk=row.pk).update(is_current=False)
    for name, value in {**fields, **wording}.items():
        setattr(row, name, value)
    row.is_current = True
    row.save()
    return LoadOutcome(files.key, files.version, "updated" if changed or reworded else "unchanged")
