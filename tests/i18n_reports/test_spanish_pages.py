"""Spanish on the directory, measure, payment, audit and API-key pages (issue 16).

The translations keep their placeholders, and the pages themselves come out in Spanish for
a browser that asks for it. English stays the default. (That every marked message has a
translation is tests/i18n/test_catalogue.py's check, for the whole project.)
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.utils import translation

from apikeys.services import api_key_create
from organizations.roles import Role
from payments.models import PaymentTerm
from payments.services import statement_generate
from tests.factories import ProgramFactory, ReferralFactory, member, referral_program
from tests.i18n_reports import catalogue
from tests.metrics.helpers import clients, referrals, rollup

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}
pytestmark = pytest.mark.django_db

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|\{\w*\}")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _text(html: str) -> str:
    """What a reader sees: the page without tags, scripts or JSON islands."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def spanish(settings, tmp_path):
    """The Spanish catalogue, compiled."""
    settings.LOCALE_PATHS = [str(catalogue.compile_fragment(tmp_path / "locale"))]
    yield
    translation.activate(settings.LANGUAGE_CODE)


# --- the catalogue ----------------------------------------------------------------------------


def test_translations_keep_every_placeholder():
    """A translation that drops or renames %(name)s or {label} breaks the page at render."""
    wrong = []
    for e in catalogue.fragment():
        sources = [e.msgid] + ([e.msgid_plural] * (len(e.msgstr) - 1) if e.msgid_plural else [])
        for source, text in zip(sources, e.msgstr, strict=True):
            if _placeholders(source) != _placeholders(text):
                wrong.append(e.msgid)
    assert not wrong, wrong[:5]


def test_published_measure_names_keep_their_official_english_name():
    """HEDIS/CMS measures are recognized by their English names: the Spanish keeps the code."""
    by_id = {e.msgid: e.msgstr[0] for e in catalogue.fragment()}
    for msgid in (
        "SDOH-1: screened for all five HRSN domains",
        "SNS-E: screened for {label}",
        "MIPS #498: connection to a community service provider",
    ):
        code = msgid.split(":")[0].replace("#", "n.º ")
        assert code in by_id[msgid], (msgid, by_id[msgid])
    assert (
        "Connection to Community Service Provider"
        in by_id["MIPS #498: connection to a community service provider"]
    )


# --- the pages -------------------------------------------------------------------------------


def test_dashboard_in_spanish_with_chart_data_still_json(spanish, tenant, login):
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    c = login(tenant.backbone_admin)
    html = c.get("/measures/?kind=month&period=2026-03-01", **SPANISH).content.decode()
    text = _text(html)
    assert "Indicadores: Marrowdale Network (red)" in text
    assert "Referencias enviadas" in text
    assert "Tasa de circuito cerrado" in text
    assert "Qué significa cada indicador" in text
    assert "Embudo de participación" in text
    assert "Mar 2026" in text  # the period (Django's Spanish month abbreviation)
    for english in (
        "Referrals sent",
        "Closed-loop rate",
        "What each measure means",
        "Download CSV",
    ):
        assert english not in text, english
    # The charts' data (json_script) is valid JSON with the Spanish labels.
    charts = re.findall(r'<script id="chart-[^"]+" type="application/json">(.*?)</script>', html)
    assert charts
    specs = [json.loads(unescape(c)) for c in charts]
    labels = [s["label"] for spec in specs for s in spec.get("series", [])]
    assert "Referencias enviadas" in labels


def test_dashboard_stays_english_by_default(spanish, tenant, login):
    referrals(tenant, clients(tenant, 3))
    rollup(tenant)
    c = login(tenant.backbone_admin)
    text = _text(c.get("/measures/").content.decode())
    assert "Measures: Marrowdale Network (network)" in text
    assert "Indicadores" not in text


def test_csv_export_headers_follow_the_language(spanish, tenant, login):
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    c = login(tenant.backbone_admin)
    csv_text = c.get(
        "/measures/export.csv?table=summary&kind=month&period=2026-03-01", **SPANISH
    ).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "Grupo,Indicador,Valor,Numerador (o n),Denominador"


@pytest.fixture
def statement(tenant):
    chicago = datetime(2032, 1, 15, 18, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2032, 2, 10, 15, 0, tzinfo=UTC), tick=False):
        term = PaymentTerm.objects.create(
            partnership=tenant.partnership,
            name="Pantry fee for service",
            kind=PaymentTerm.Kind.FEE_FOR_SERVICE,
            payer=tenant.hco,
            payee=tenant.cbo,
            effective_from=date(2031, 1, 1),
            unit_amount=Decimal("100.00"),
        )
        term.programs.set([referral_program(tenant)])
        ReferralFactory(
            client=tenant.client,
            program=referral_program(tenant),
            status="completed",
            outcome="need-met",
            closed_at=chicago,
            created_at=chicago,
        )
        admin = member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@marrowdale.test")
        made = statement_generate(
            term=term, month=date(2032, 1, 1), actor=admin, organization=tenant.cbo
        )
        yield made, admin


def test_payment_statement_and_its_printable_page_in_spanish(spanish, statement, login):
    made, admin = statement
    with time_machine.travel(datetime(2032, 2, 10, 15, 0, tzinfo=UTC), tick=False):
        c = login(admin)
        detail = _text(c.get(f"/payments/statements/{made.pk}/", **SPANISH).content.decode())
        printed = c.get(f"/payments/statements/{made.pk}/print/", **SPANISH).content.decode()
    assert f"Estado de cuenta n.º {made.pk}" in detail
    assert "Marrowdale Clinic le debe a Marrowdale Food Bank por enero 2032" in detail
    assert "Lo que usted puede hacer" in detail
    assert "Enviar al pagador" in detail
    assert "Borrador" in detail  # the status, a model choice
    for english in ("What you can do", "Submit to the payer", "Who pays", "Outcome adjustment"):
        assert english not in detail, english
    assert '<html lang="es">' in printed
    assert f"Estado de cuenta de pago n.º {made.pk}" in _text(printed)
    assert "Imprimir (o guardar como PDF)" in _text(printed)


def test_directory_search_and_program_pages_in_spanish(spanish, tenant, login):
    program = ProgramFactory(organization=tenant.cbo, name="Riverbend Pantry", capacity=4)
    c = login(tenant.hco_navigator)
    search = _text(c.get("/directory/", **SPANISH).content.decode())
    assert "Directorio de servicios" in search
    assert "Buscar programas" in search or "Buscar" in search
    assert "Código postal o condado" in search  # a form label
    assert "Cualquier necesidad" in search  # a choice added by the form
    assert "Service directory" not in search
    detail = _text(c.get(f"/directory/programs/{program.pk}/", **SPANISH).content.decode())
    assert "Necesidades que atiende" in detail
    assert "4 referencias abiertas a la vez" in detail  # blocktranslate count, plural
    assert "Volver al directorio" in detail
    assert "Back to the directory" not in detail


def test_access_log_in_spanish(spanish, tenant, login):
    c = login(tenant.hco_admin)
    text = _text(c.get("/audit/access-log/", **SPANISH).content.decode())
    assert "Registro de accesos de Marrowdale Clinic" in text
    assert "Miembro del personal" in text  # form label
    assert "Access log of" not in text


def test_api_keys_page_in_spanish(spanish, tenant, login):
    api_key_create(
        organization=tenant.hco, name="Epic EHR", role=Role.STAFF, created_by=tenant.hco_admin
    )
    c = login(tenant.hco_admin)
    text = _text(c.get("/api/keys/", **SPANISH).content.decode())
    assert "Claves de API de Marrowdale Clinic" in text
    assert "Crear clave" in text
    assert "Etiqueta" in text  # the form's label
    assert "activa" in text and "Revocar…" in text
    assert "Create key" not in text


def test_spanish_messages_from_python_code(spanish):
    """Messages built in Python (services, selectors) follow the active language."""
    from directory.partnerships import MESSAGES
    from metrics.selectors import period_label

    with translation.override("es"):
        assert str(MESSAGES["too_few"]) == "Elija al menos dos organizaciones para una alianza."
        assert period_label(date(2026, 4, 1), "quarter") == "2026 T2"
        assert period_label(date(2026, 1, 1), "month", so_far=True) == "Ene 2026 (hasta ahora)"
    assert period_label(date(2026, 1, 1), "month") == "Jan 2026"


@pytest.mark.parametrize(
    ("who", "path", "spanish_words"),
    [
        ("backbone_admin", "/measures/partnerships/{p}/review/", "Revisión de la alianza"),
        ("hco_admin", "/measures/partnerships/{p}/outcomes/", "Definir un indicador de resultado"),
        ("hco_admin", "/measures/stalled/", "Referencias estancadas"),
        ("hco_admin", "/payments/statements/", "Estados de cuenta de pago"),
        ("backbone_admin", "/payments/terms/", "Condiciones de pago"),
        ("backbone_admin", "/payments/partnerships/{p}/business-case/", "Caso de negocio"),
        ("hco_navigator", "/payments/pathways/", "Rutas de su organización"),
        ("hco_admin", "/partnerships/{p}/", "Servicios cubiertos"),
        ("backbone_admin", "/directory/import/", "Importar programas desde un archivo HSDS"),
        ("backbone_admin", "/audit/network-activity/", "Actividad en Marrowdale Network"),
        ("hco_admin", "/integrations/webhooks/", "Registrar un webhook"),
        ("hco_admin", "/integrations/webhooks/new/", "Incluir la Task de FHIR"),
    ],
)
def test_every_covered_page_renders_in_spanish(spanish, tenant, login, who, path, spanish_words):
    """Each page renders (no broken blocktranslate), in Spanish, with no placeholder left."""
    response = login(getattr(tenant, who)).get(path.format(p=tenant.partnership.pk), **SPANISH)
    assert response.status_code == 200
    text = _text(response.content.decode())
    assert spanish_words in text
    assert "%(" not in text and "{label}" not in text
