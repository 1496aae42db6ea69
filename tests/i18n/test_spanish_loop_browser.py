"""The closed loop in Spanish, in two browsers: a clinic coordinator whose browser asks for
Spanish signs in and sends a referral; a food bank worker picks Spanish in the page header,
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
from tests.factories import PASSWORD, ProgramFactory

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


def test_the_loop_closes_in_spanish(open_page, tenant):
    ProgramFactory(organization=tenant.cbo, name="Northside Pantry", categories=["food-insecurity"])

    # The coordinator's browser asks for Spanish: the sign-in page is in Spanish already.
    coordinator = open_page(locale="es-US")
    coordinator.goto("/account/login/")
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
    assert coordinator.locator("html").get_attribute("lang") == "es"
    assert_accessible(coordinator)
    coordinator.get_by_label("Correo electrónico").fill(tenant.hco_navigator.email)
    coordinator.get_by_label("Contraseña").fill(PASSWORD)
    coordinator.get_by_role("button", name="Iniciar sesión").click()

    coordinator.goto(f"/clients/{tenant.client.pk}/")
    coordinator.get_by_test_id("new-referral").click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text("Nueva referencia")
    coordinator.get_by_label("Inseguridad alimentaria", exact=True).check()
    coordinator.get_by_role(
        "button", name="Actualizar las sugerencias para estas necesidades"
    ).click()
    suggestion = coordinator.get_by_test_id("suggestion").filter(has_text="Northside Pantry")
    expect(suggestion.get_by_test_id("capacity")).to_have_text("Con cupo")
    assert_accessible(coordinator)
    suggestion.get_by_role("radio").check()
    coordinator.get_by_label("Nota para el programa que recibe").fill("Por las mañanas.")
    coordinator.get_by_role("button", name="Enviar referencia").click()
    expect(coordinator).to_have_url(re.compile(r"/referrals/\d+/$"))
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Enviada")
    referral = Referral.objects.get()
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
    expect(worker.get_by_test_id("client-name")).to_have_text(tenant.client.display_name)

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
