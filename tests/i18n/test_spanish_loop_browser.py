"""The closed loop in Spanish, in two browsers: a clinic coordinator whose browser asks for
Spanish signs in, screens a client (the questions in Spanish), is refused for want of a
release, records one and sends the referral; a food bank worker picks Spanish in the page header,
accepts, records a contact and completes it; the coordinator reads the outcome. Every page
on the way is in Spanish and passes the accessibility check."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from referrals.models import Referral
from tests.browser.conftest import (
    CSP_LISTENER,
    PHONE,
    assert_accessible,
    browser,  # noqa: F401 (the module's Chromium, a fixture)
)
from tests.factories import PASSWORD, ClientFactory, ProgramFactory, instrument

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_page(browser, live_server, settings, user_language_middleware):  # noqa: F811
    """`open_page(locale=..., phone=...)`: a page in a fresh browser profile whose
    Accept-Language is `locale`."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    contexts = []

    def _open(*, locale: str = "en-US", phone: bool = False):
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport=PHONE if phone else {"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def answer(page, link_id: str, code: str) -> None:
    """Tick an answer by its LOINC code (the same whatever language the question is in)."""
    page.locator(f'input[name="q-{link_id}"][value="{code}"]').check()


def test_the_loop_closes_in_spanish(open_page, tenant):
    """Screen (the questions in Spanish) → refused for want of a release → release →
    send → accept → contact → complete, every page in Spanish."""
    instrument()  # transactional tests start with empty tables: load the instruments
    pantry = ProgramFactory(
        organization=tenant.cbo, name="Northside Pantry", categories=["food-insecurity"]
    )
    person = ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        given_name="Odalys",
        family_name="Quenneville",
        preferred_language="es",
    )

    # The coordinator's browser asks for Spanish: the sign-in page is in Spanish already.
    coordinator = open_page(locale="es-US")
    coordinator.goto("/account/login/")
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    assert coordinator.locator("html").get_attribute("lang") == "es"
    assert_accessible(coordinator)
    coordinator.get_by_label("Correo electrónico").fill(tenant.hco_navigator.email)
    coordinator.get_by_label("Contraseña").fill(PASSWORD)
    coordinator.get_by_role("button", name="Iniciar sesión").click()

    # The screening, its questions in the client's language (Spanish, chosen by default).
    coordinator.goto(f"/clients/{person.pk}/")
    coordinator.get_by_test_id("client-assessments").get_by_role(
        "link", name="Nueva evaluación"
    ).click()
    coordinator.get_by_label(re.compile("AHC")).check()
    expect(coordinator.get_by_test_id("language-choice").get_by_label("Español")).to_be_checked()
    coordinator.get_by_label("En persona").check()
    assert_accessible(coordinator)
    coordinator.get_by_role("button", name="Comenzar").click()
    expect(coordinator.get_by_text("¿Cuál es su situación de vivienda hoy?")).to_be_visible()
    assert_accessible(coordinator)
    answer(coordinator, "124296", "LA31993-1")
    answer(coordinator, "123820", "LA9-3")
    coordinator.get_by_role("button", name="Guardar y continuar").click()
    answer(coordinator, "123821", "LA28397-0")  # often true: food insecurity
    answer(coordinator, "123822", "LA28398-8")
    coordinator.get_by_role("button", name="Guardar y continuar").click()
    answer(coordinator, "123823", "LA32-8")
    answer(coordinator, "123824", "LA32-8")
    coordinator.get_by_role("button", name="Guardar y continuar").click()
    for link_id in ("123825", "123826", "123827", "123828"):
        answer(coordinator, link_id, "LA6270-8")
    coordinator.get_by_role("button", name="Guardar y terminar").click()
    expect(coordinator.get_by_test_id("needs")).to_contain_text("Inseguridad alimentaria")
    assert_accessible(coordinator)

    # Refer from the result: refused (no release yet), in Spanish, with the way out.
    coordinator.get_by_test_id("refer-from-assessment").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Nueva referencia")
    suggestion = coordinator.get_by_test_id("suggestion").filter(has_text="Northside Pantry")
    expect(suggestion.get_by_test_id("capacity")).to_have_text("Con cupo")
    suggestion.get_by_role("radio").check()
    coordinator.get_by_label("Nota para el programa que recibe").fill("Por las mañanas.")
    coordinator.get_by_role("button", name="Enviar referencia").click()
    expect(coordinator.get_by_test_id("consent-missing")).to_contain_text(tenant.cbo.name)
    assert_accessible(coordinator)

    with coordinator.context.expect_page() as opened:
        coordinator.get_by_test_id("capture-release-link").click()
    form = opened.value
    expect(form.get_by_role("heading", level=1)).to_have_text(
        "Registrar una autorización para divulgar información"
    )
    expect(form.get_by_label(tenant.cbo.name)).to_be_checked()
    form.get_by_label("Nombre completo de quien firma, escrito por esa persona").fill(
        "Odalys Quenneville"
    )
    form.get_by_label("Yo, quien firma, acepto esta autorización").check()
    form.get_by_role("button", name="Registrar la autorización").click()
    expect(form.get_by_test_id("release-status")).to_have_text("Activa")
    assert_accessible(form)

    coordinator.bring_to_front()
    coordinator.get_by_role("button", name="Enviar referencia").click()
    expect(coordinator).to_have_url(re.compile(r"/referrals/\d+/$"))
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Enviada")
    referral = Referral.objects.get(client=person, program=pantry)
    expect(coordinator.get_by_role("heading", level=1)).to_contain_text(
        f"Referencia n.º {referral.pk}"
    )

    # The food bank worker's phone asks for English; they pick Spanish in the header.
    worker = open_page(phone=True)
    worker.goto("/account/login/")
    worker.get_by_label("Email").fill(tenant.cbo_staff.email)
    worker.get_by_label("Password").fill(PASSWORD)
    worker.get_by_role("button", name="Sign in").click()
    worker.get_by_test_id("language-picker").get_by_label("Language").select_option("es")
    worker.get_by_role("button", name="Change language").click()
    expect(worker.get_by_role("link", name="Recibidas", exact=True)).to_be_visible()
    tenant.cbo_staff.refresh_from_db()
    assert tenant.cbo_staff.language == "es"

    worker.get_by_role("link", name="Recibidas", exact=True).click()
    row = worker.get_by_test_id("referral-row")
    expect(row.get_by_test_id("status")).to_have_text("Nueva")
    assert_accessible(worker)
    row.get_by_role("link").first.click()
    expect(worker.get_by_test_id("client-name")).to_have_text(person.display_name)

    worker.get_by_test_id("move-accept").get_by_role("button", name="Aceptar").click()
    expect(worker.get_by_test_id("referral-status")).to_have_text("Aceptada")

    worker.get_by_test_id("record-contact").locator("summary").click()
    worker.get_by_label("Contacto por").select_option("phone")
    worker.get_by_label("Se comunicó con el cliente").check()
    worker.get_by_role("button", name="Registrar contacto").click()
    expect(worker.get_by_text("Se registró el contacto.")).to_be_visible()

    complete = worker.get_by_test_id("move-complete")
    complete.locator("summary").click()
    complete.get_by_label("Resultado").select_option("need-met")
    complete.get_by_label("Lo que se hizo").fill("Inscrito para recoger alimentos cada semana.")
    complete.get_by_role("button", name="Confirmar: completar").click()
    expect(worker.get_by_test_id("referral-status")).to_have_text("Completada")
    expect(worker.get_by_test_id("closed-note")).to_contain_text("Esta referencia está cerrada")
    assert_accessible(worker)

    # The loop is closed, in Spanish, for the coordinator too.
    coordinator.reload()
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Completada")
    expect(coordinator.get_by_test_id("outcome")).to_contain_text(
        "Servicio prestado \u2013 necesidad cubierta"
    )
    expect(coordinator.get_by_test_id("event").locator("strong").first).to_have_text("Enviada")
    assert_accessible(coordinator)
