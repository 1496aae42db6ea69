"""The instruments are data: the shipped files, their codes, and loading them."""

from __future__ import annotations

import copy
import csv
import importlib
import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from fhir.resources.R4B.questionnaire import Questionnaire

from assessments.engine import DefinitionError, InstrumentDefinition
from assessments.loader import INSTRUMENTS_DIR, load_instruments, read_all
from assessments.models import Instrument
from organizations.sdoh import SDOHCategory
from tests.factories import assessment_for

AHC_DIR = INSTRUMENTS_DIR / "ahc-hrsn-core"
SSM_DIR = INSTRUMENTS_DIR / "self-sufficiency-matrix"
LOCAL_SYSTEM = "https://linkage.invalid/fhir/CodeSystem/self-sufficiency-matrix"


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_ahc_files_keep_their_licence_and_attribution():
    assert "Apache License" in (AHC_DIR / "LICENSE").read_text()
    notice = (AHC_DIR / "NOTICE.md").read_text()
    assert "MyCarePlanner" in notice and "LOINC" in notice and "Apache" in notice


def test_ahc_codes_are_the_real_loinc_codes_of_the_csv():
    """Every question and answer of the AHC definition appears, with the same LOINC codes,
    in the published code list, and the scoring rules name only those codes."""
    rows = list(csv.DictReader((AHC_DIR / "ahc_hrsn_core_loinc_codes.csv").open()))
    published = {(r["question_loinc"], r["answer_loinc"]) for r in rows}
    (files,) = [f for f in read_all() if f.key == "ahc-hrsn-core"]
    definition = InstrumentDefinition.from_documents(files.questionnaire, files.scoring)
    shipped = {(q.code["code"], o.code) for q in definition.questions.values() for o in q.options}
    assert shipped == published
    assert all(q.code["system"] == "http://loinc.org" for q in definition.questions.values())
    assert definition.code == {
        "system": "http://loinc.org",
        "code": "96777-8",
        "display": "Accountable health communities health-related social needs screening tool",
    }
    # The published wording of the rule answers.
    displays = {r["answer_loinc"]: r["answer_display"] for r in rows}
    utilities = next(d for d in definition.domains if d.key == "utilities")
    assert [displays[c] for c in utilities.rule["any_answer_in"]["123824"]] == [
        "Yes",
        "Already shut off",
    ]
    food = next(d for d in definition.domains if d.key == "food")
    assert {displays[c] for c in food.rule["any_answer_in"]["123821"]} == {
        "Often true",
        "Sometimes true",
    }


def test_ssm_uses_only_its_linkage_local_code_system_and_says_so():
    questionnaire = _json(SSM_DIR / "Questionnaire-linkage-self-sufficiency-matrix.json")
    systems = set()

    def walk(items):
        for item in items:
            systems.update(c["system"] for c in item.get("code", []))
            systems.update(o["valueCoding"]["system"] for o in item.get("answerOption", []))
            walk(item.get("item", []))

    walk(questionnaire["item"])
    assert systems == {LOCAL_SYSTEM}
    assert "Linkage-local" in questionnaire["description"]
    assert "No standard codes exist" in (SSM_DIR / "README.md").read_text()


def test_shipped_questionnaires_are_valid_fhir():
    for folder in (AHC_DIR, SSM_DIR):
        (path,) = folder.glob("Questionnaire-*.json")
        Questionnaire.model_validate(_json(path))


def test_every_need_is_a_gravity_sdoh_category():
    for files in read_all():
        for domain in files.scoring["domains"]:
            assert domain["category"] in SDOHCategory.values


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda s: s["domains"][0].update(category="hunger"), "not an SDOH category"),
        (
            lambda s: s["domains"][1]["positive_when"]["any_answer_in"]["123821"].append("LA0-0"),
            "are not answers",
        ),
        (lambda s: s["domains"][4].update(items=["123825", "nope"]), "items must be questions"),
        (lambda s: s["answer_scores"]["123825"].pop("LA6482-9"), "score every answer or none"),
        (lambda s: s["risk"]["rules"].append({"level": "dire"}), "unknown level"),
        (lambda s: s.update(format="other/9"), "format"),
    ],
)
def test_inconsistent_definitions_are_refused(breakage, message):
    sidecar = _json(AHC_DIR / "instrument.json")
    questionnaire = _json(AHC_DIR / "Questionnaire-AHC-HRSN-96777-8.json")
    broken = copy.deepcopy(sidecar)
    breakage(broken)
    with pytest.raises(DefinitionError, match=message):
        InstrumentDefinition.from_documents(questionnaire, broken)


# -- loading into the database ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_data_migration_loads_the_instruments():
    # Run the migration's own function on an empty table (the suite's fixtures reload the
    # instruments after flushes, so the rows present could have come from them instead).
    Instrument.objects.all().delete()
    migration = importlib.import_module("assessments.migrations.0002_load_instruments")
    migration.load(django_apps, None)
    current = Instrument.objects.filter(is_current=True)
    assert set(current.values_list("key", "version")) == {
        ("ahc-hrsn-core", "2024-08-06"),
        ("self-sufficiency-matrix", "1.0.0"),
    }
    ahc = current.get(key="ahc-hrsn-core")
    assert ahc.kind == Instrument.Kind.SCREENING
    assert len(ahc.definition.steps) == 4
    assert current.get(key="self-sufficiency-matrix").kind == Instrument.Kind.MATRIX


@pytest.mark.django_db
def test_loading_again_changes_nothing():
    before = list(Instrument.objects.order_by("pk").values("pk", "loaded_at", "is_current"))
    outcomes = load_instruments()
    assert {o.action for o in outcomes} == {"unchanged"}
    assert list(Instrument.objects.order_by("pk").values("pk", "loaded_at", "is_current")) == (
        before
    )
    out = StringIO()
    call_command("load_instruments", stdout=out)
    assert "ahc-hrsn-core 2024-08-06: unchanged" in out.getvalue()


def _copy_instruments(tmp_path: Path) -> Path:
    target = tmp_path / "instruments"
    shutil.copytree(INSTRUMENTS_DIR, target)
    return target


def _edit_sidecar(folder: Path, change) -> None:
    path = folder / "ahc-hrsn-core" / "instrument.json"
    data = _json(path)
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.django_db
def test_a_new_version_becomes_current_and_the_old_one_stays(tmp_path):
    folder = _copy_instruments(tmp_path)
    _edit_sidecar(folder, lambda d: d.update(version="2025-01-01", title="AHC HRSN (2025)"))
    outcomes = {(o.key, o.action) for o in load_instruments(directory=folder)}
    assert ("ahc-hrsn-core", "created") in outcomes
    versions = dict(
        Instrument.objects.filter(key="ahc-hrsn-core").values_list("version", "is_current")
    )
    assert versions == {"2024-08-06": False, "2025-01-01": True}


@pytest.mark.django_db
def test_a_changed_file_under_a_used_version_is_refused(tmp_path, tenant):
    assessment_for(tenant.client, organization=tenant.hco)
    folder = _copy_instruments(tmp_path)
    _edit_sidecar(folder, lambda d: d["domains"][4]["positive_when"].update(sum_at_least=12))
    with pytest.raises(DefinitionError, match="give the changed definition a new version"):
        load_instruments(directory=folder)
    assert Instrument.objects.get(key="ahc-hrsn-core", is_current=True).scoring["domains"][4][
        "positive_when"
    ] == {"sum_at_least": 11}


@pytest.mark.django_db
def test_a_changed_file_under_an_unused_version_is_updated(tmp_path):
    folder = _copy_instruments(tmp_path)
    _edit_sidecar(folder, lambda d: d.update(title="AHC HRSN core"))
    outcomes = {(o.key, o.action) for o in load_instruments(directory=folder)}
    assert ("ahc-hrsn-core", "updated") in outcomes
    assert Instrument.objects.get(key="ahc-hrsn-core", is_current=True).title == "AHC HRSN core"
