"""The AHC HRSN screening in Spanish: the wording is data (every question and answer, its
source cited or marked unofficial), the staff member chooses the client's language at the
start, the questions and answers render in it, and the answers keep their LOINC codes and
score exactly as in English. The assessment pages' own strings are marked for translation
and translated in the fragment locale/fragments/assessments.po."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess

import pytest
from django.urls import reverse

from assessments.engine import DefinitionError, check_translation
from assessments.loader import INSTRUMENTS_DIR, read_instrument
from assessments.models import Assessment
from clients.models import Client
from tests.assessments_i18n.extract import FRAGMENT, entries, extract
from tests.factories import instrument

pytestmark = pytest.mark.django_db

FOLDER = INSTRUMENTS_DIR / "ahc-hrsn-core"

# One set of answers with something positive in every domain, and a declined item.
ANSWERS = [
    {"q-124296": "LA31994-9", "q-123820": ["LA28580-1", "LA32001-2"]},
    {"q-123821": "LA6729-3", "q-123822": "LA28398-8"},
    {"q-123823": "LA33-6", "q-123824": "LA32002-0"},
    {
        "q-123825": "LA10082-8",
        "q-123826": "LA16644-9",
        "q-123827": "LA6482-9",
        "q-123828": "declined",
    },
]


def test_every_question_and_answer_has_spanish_wording():
    ahc = instrument()
    assert ahc.languages == ["en", "es"]
    english, spanish = ahc.definition, ahc.definition_in("es")
    assert [s.link_id for s in spanish.steps] == [s.link_id for s in english.steps]
    for step_en, step_es in zip(english.steps, spanish.steps, strict=True):
        assert step_es.title and step_es.title != step_en.title
        for q_en, q_es in zip(step_en.questions, step_es.questions, strict=True):
            assert q_es.link_id == q_en.link_id and q_es.code == q_en.code
            assert q_es.text and q_es.text != q_en.text
            assert [o.code for o in q_es.options] == [o.code for o in q_en.options]
            assert [o.score for o in q_es.options] == [o.score for o in q_en.options]
            assert all(o.display for o in q_es.options)
    assert spanish.questions["124296"].text == "¿Cuál es su situación de vivienda hoy?"
    assert spanish.questions["123823"].option("LA33-6").display == "Sí"
    assert [d.title for d in spanish.domains] == [
        "Situación de vivienda",
        "Alimentos",
        "Transporte",
        "Servicios públicos",
        "Seguridad",
    ]


def test_the_source_is_cited_or_the_translation_marked_unofficial():
    about = instrument().translation("es")
    assert isinstance(about["official"], bool)
    assert about["official"] is False or about["source"]
    # No citable CMS wording was found: the shipped Spanish says it is Linkage's own.
    assert about["official"] is False and "Not the official CMS Spanish wording" in about["note"]
    assert instrument().translation("en") == {}


def test_a_partial_or_unofficial_without_note_translation_is_refused():
    files = read_instrument(FOLDER)
    translation_doc = files.translations["es"]
    partial = copy.deepcopy(translation_doc)
    del partial["items"]["123824"]["answers"]["LA32002-0"]
    with pytest.raises(DefinitionError, match="123824"):
        check_translation(files.questionnaire, files.scoring, partial)
    claimed = copy.deepcopy(translation_doc)
    claimed["translation"]["official"] = True
    with pytest.raises(DefinitionError, match="cites its source"):
        check_translation(files.questionnaire, files.scoring, claimed)
    unknown = copy.deepcopy(translation_doc)
    unknown["items"]["999"] = {"text": "x"}
    with pytest.raises(DefinitionError, match="999"):
        check_translation(files.questionnaire, files.scoring, unknown)


def test_a_reworded_translation_loads_into_a_version_in_use(tmp_path, tenant):
    """Words only: a version assessments use takes a new translation (the loader refuses
    changed questions or scores, not changed wording)."""
    from assessments.loader import load_instruments
    from tests.factories import assessment_for

    assessment_for(tenant.client, organization=tenant.hco)
    folder = tmp_path / "ahc-hrsn-core"
    shutil.copytree(FOLDER, folder)
    doc = json.loads((folder / "translation-es.json").read_text(encoding="utf-8"))
    doc["items"]["124296"]["text"] = "¿Dónde vive hoy?"
    (folder / "translation-es.json").write_text(json.dumps(doc), encoding="utf-8")
    outcomes = load_instruments(directory=tmp_path)
    assert [o.action for o in outcomes] == ["updated"]
    assert instrument_row().definition_in("es").questions["124296"].text == "¿Dónde vive hoy?"


def instrument_row():
    from assessments.models import Instrument

    return Instrument.objects.get(key="ahc-hrsn-core", is_current=True)


def start(client, person, language=None):
    data = {"instrument": instrument().pk, "mode": "self"}
    if language:
        data["language"] = language
    response = client.post(reverse("assessment_start", args=[person.pk]), data)
    assert response.status_code == 302, response.content.decode()[:1500]
    return Assessment.objects.filter(client=person).latest("id")


def answer_all(client, assessment):
    for number, data in enumerate(ANSWERS, start=1):
        response = client.post(
            reverse("assessment_step", args=[assessment.pk, number]), {**data, "save": "1"}
        )
        assert response.status_code == 302, response.content.decode()[:1500]
    assessment.refresh_from_db()
    return assessment


def stored(assessment):
    return sorted(
        assessment.answers.values_list(
            "link_id", "question_code", "system", "code", "display", "score", "declined"
        )
    )


def test_spanish_and_english_screenings_score_and_store_the_same(client, login, tenant):
    login(tenant.hco_navigator)
    english = answer_all(client, start(client, tenant.client, "en"))
    spanish = answer_all(client, start(client, tenant.client, "es"))
    assert (english.language, spanish.language) == ("en", "es")
    assert spanish.status == english.status == "completed"
    assert spanish.domain_results == english.domain_results
    assert spanish.risk_level == english.risk_level
    assert spanish.need_codes == english.need_codes
    assert spanish.domain_results["safety"] == {"status": "positive", "score": 12}
    assert stored(spanish) == stored(english)
    # Stored with the LOINC answer and its LOINC display, whatever the language asked in.
    assert (
        "123824",
        "96779-4",
        "http://loinc.org",
        "LA32002-0",
        "Already shut off",
        None,
        False,
    ) in stored(spanish)


def test_step_pages_render_the_spanish_questions(client, login, tenant):
    login(tenant.hco_navigator)
    assessment = start(client, tenant.client, "es")
    body = client.get(reverse("assessment_step", args=[assessment.pk, 1])).content.decode()
    assert "¿Cuál es su situación de vivienda hoy?" in body
    assert "Tengo un lugar estable donde vivir" in body
    assert "Piense en el lugar donde vive." in body and "Ninguna de las anteriores" in body
    assert 'lang="es"' in body
    assert 'value="LA31993-1"' in body  # the answers are still their LOINC codes
    assert "What is your living situation today?" not in body
    assert 'data-testid="translation-note"' in body
    safety = client.get(reverse("assessment_step", args=[assessment.pk, 4])).content.decode()
    assert (
        "¿Con qué frecuencia alguien, incluidos familiares y amigos, le hace daño físico?" in safety
    )
    assert "Con bastante frecuencia" in safety

    english = start(client, tenant.client, "en")
    body = client.get(reverse("assessment_step", args=[english.pk, 1])).content.decode()
    assert "What is your living situation today?" in body
    assert "¿Cuál es su situación de vivienda hoy?" not in body
    assert 'data-testid="translation-note"' not in body


def test_start_defaults_to_the_clients_language_when_spanish_is_available(client, login, tenant):
    login(tenant.hco_navigator)
    url = reverse("assessment_start", args=[tenant.client.pk])
    assert client.get(url).context["form"]["language"].initial == "en"
    Client.objects.filter(pk=tenant.client.pk).update(preferred_language="es")
    page = client.get(url)
    assert page.context["form"]["language"].initial == "es"
    assert 'value="es"' in page.content.decode() and "Español" in page.content.decode()
    # Left out (an older form, the API): English.
    assert start(client, tenant.client).language == "en"


def test_an_instrument_without_spanish_is_refused_in_spanish(client, login, tenant):
    login(tenant.hco_navigator)
    response = client.post(
        reverse("assessment_start", args=[tenant.client.pk]),
        {
            "instrument": instrument("self-sufficiency-matrix").pk,
            "mode": "in_person",
            "language": "es",
        },
    )
    assert response.status_code == 400
    assert "is not available in Español" in response.content.decode()
    assert not Assessment.objects.exists()


def test_result_page_shows_the_answers_in_the_readers_language(client, login, tenant):
    login(tenant.hco_navigator)
    assessment = answer_all(client, start(client, tenant.client, "es"))
    url = reverse("assessment_result", args=[assessment.pk])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mold; Water leaks" in english and "Moho" not in english
    assert "Living situation" in english
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Moho; Goteras o fugas de agua" in spanish
    assert "Situación de vivienda" in spanish and "Alimentos" in spanish
    # The same stored codes behind both.
    assert assessment.answers.filter(link_id="123820").count() == 2


# -- the pages' own strings ------------------------------------------------------------------


def test_every_marked_string_is_in_the_fragment_with_spanish():
    wanted = {msgid for _ctx, msgid in entries(extract())}
    fragment = entries(FRAGMENT.read_text(encoding="utf-8"))
    translated = {msgid: strings for (_ctx, msgid), strings in fragment.items()}
    assert wanted, "nothing extracted: the extraction is broken"
    assert wanted - set(translated) == set()
    assert [m for m in wanted if not all(translated[m])] == []
    assert "Declined to answer" in wanted and "New assessment" in wanted


def test_the_fragment_is_a_valid_catalogue(tmp_path):
    subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(FRAGMENT)], check=True
    )


@pytest.fixture
def spanish_catalogue(tmp_path, settings):
    """The fragment compiled into a locale directory searched first (the merged
    catalogue will hold the same)."""
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    subprocess.run(["msgfmt", "-o", str(folder / "django.mo"), str(FRAGMENT)], check=True)
    settings.LOCALE_PATHS = [str(tmp_path), *settings.LOCALE_PATHS]
    return tmp_path


def test_staff_pages_in_spanish(client, login, tenant, spanish_catalogue):
    login(tenant.hco_navigator)
    page = client.get(
        reverse("assessment_start", args=[tenant.client.pk]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Nueva evaluación" in page
    assert "Idioma de las preguntas" in page and "Comenzar" in page
    assessment = start(client, tenant.client, "es")
    step = client.get(
        reverse("assessment_step", args=[assessment.pk, 2]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Paso 2 de 4" in step and "Guardar y continuar" in step
    assert "Prefirió no responder" in step and "Con frecuencia es cierto" in step


def test_the_clients_questions_follow_the_client_not_the_staff_language(
    client, login, tenant, spanish_catalogue
):
    """A Spanish-speaking staff member screening an English-speaking client: the page's
    own words are Spanish, the questions and the answer hints English."""
    login(tenant.hco_navigator)
    assessment = start(client, tenant.client, "en")
    step = client.get(
        reverse("assessment_step", args=[assessment.pk, 1]), HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Guardar y continuar" in step
    assert "What is your living situation today?" in step
    assert "Declined to answer" in step and "(choose all that apply)" in step
    assert "Prefirió no responder" not in step
