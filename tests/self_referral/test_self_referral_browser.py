"""A person whose browser asks for Spanish asks the network for help on a phone; the
request reaches the backbone's queue."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from organizations.roles import Role
from referrals.models import Referral
from referrals.public_forms import MIN_FILL_SECONDS
from tests.browser.conftest import PHONE, assert_accessible, sign_in
from tests.factories import PASSWORD, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPANISH_NUMBERS = {
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
}


def _answer(question: str) -> str:
    found = re.search(r"¿Cuánto es (\w+) más (\w+)\?", question)
    assert found, question
    return str(SPANISH_NUMBERS[found.group(1)] + SPANISH_NUMBERS[found.group(2)])


def test_a_person_asks_for_help_in_spanish_and_the_backbone_receives_it(
    new_context, tenant, public_spanish
):
    context = new_context(phone=True)
    context.set_extra_http_headers({"Accept-Language": "es-MX,es;q=0.9"})
    page = context.new_page()
    page.goto(f"/help/{tenant.network.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pida ayuda a {tenant.network.name}")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_test_id("agreement")).to_contain_text(
        "Autorización para compartir información"
    )
    assert_accessible(page)

    page.get_by_label("Comida").check()
    page.get_by_label("Facturas de luz, gas o agua").check()
    page.get_by_label("Cuéntenos más (opcional)").fill("Perdí mi trabajo el mes pasado.")
    page.get_by_label("Nombre", exact=True).fill("Rosalind")
    page.get_by_label("Apellido").fill("Quarrington")
    page.get_by_label("Fecha de nacimiento").fill("1984-05-17")
    page.get_by_label("Idioma que prefiere").select_option("es")
    page.get_by_role("radio", name="Mensaje de texto").check()
    page.get_by_label("Número de teléfono (para un mensaje de texto o una llamada)").fill(
        "312-555-0142"
    )
    page.get_by_label("Acepto la autorización para compartir información de arriba.").check()
    page.get_by_label("Su respuesta").fill(_answer(page.get_by_test_id("question").inner_text()))
    # A person takes a moment; the page refuses a form sent faster than that.
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000)
    page.get_by_role("button", name="Enviar mi solicitud").click()

    expect(page.get_by_test_id("sent-heading")).to_have_text("Gracias: su solicitud fue enviada")
    expect(page.get_by_test_id("next-steps")).to_contain_text(
        f"{tenant.backbone.name} le enviará un mensaje de texto en un plazo de 2 días hábiles."
    )
    assert "Rosalind" not in page.url and "555" not in page.url
    assert_accessible(page)

    referral = Referral.objects.get(source=Referral.Source.SELF)
    assert referral.receiver_organization == tenant.backbone
    assert referral.client.preferred_language == "es"
    assert sorted(n.code for n in referral.needs.all()) == [
        "food-insecurity",
        "utility-insecurity",
    ]

    # The backbone's navigator finds it in the queue.
    navigator = member(tenant.backbone, Role.NAVIGATOR, email="hub.navigator@self.test")
    staff = new_context().new_page()
    sign_in(staff, navigator.email, PASSWORD)
    staff.goto("/referrals/inbox/")
    expect(staff.locator(f'a[href="/referrals/{referral.pk}/"]').first).to_be_visible()
