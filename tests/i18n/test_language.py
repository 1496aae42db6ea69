"""Who sees which language: the browser's (Accept-Language) before sign-in, the user's own
choice after it, whatever the browser asks for; English when nothing says otherwise."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from referrals.services import referral_send
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db

ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


@pytest.fixture
def referral(tenant):
    program = ProgramFactory(organization=tenant.cbo, name="Weekly Groceries")
    return referral_send(
        client=tenant.client,
        program=program,
        sender_organization=tenant.hco,
        sender_user=tenant.hco_navigator,
        needs=["food-insecurity"],
    )


def test_the_login_page_speaks_the_browsers_spanish_before_sign_in(client):
    response = client.get(reverse("login"), **ES)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    assert '<html lang="es">' in html
    assert "<h1>Iniciar sesión</h1>" in html
    assert "¿Olvidó su contraseña?" in html
    assert "Correo electrónico" in html or "correo electrónico" in html
    assert "Sign in" not in html


def test_the_login_page_stays_english_for_an_english_or_silent_browser(client):
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}):
        html = client.get(reverse("login"), **headers).content.decode()
        assert "<h1>Sign in</h1>" in html and "Iniciar sesión" not in html


def test_a_wrong_password_is_refused_in_spanish(client, tenant):
    response = client.post(
        reverse("login"), {"username": tenant.cbo_staff.email, "password": "wrong"}, **ES
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Por favor" in html  # Django's own Spanish for the refused sign-in
    assert "Please enter a correct" not in html


def test_a_user_who_picks_spanish_sees_the_inbox_and_the_referral_in_spanish(
    tenant, referral, login, user_language_middleware
):
    c = login(tenant.cbo_staff)
    response = c.post(reverse("set_language"), {"language": "es"}, HTTP_REFERER="/referrals/inbox/")
    assert response.status_code == 302 and response.url == "/referrals/inbox/"
    tenant.cbo_staff.refresh_from_db()
    assert tenant.cbo_staff.language == "es"

    # Another session of the same person, whose browser asks for English: still Spanish.
    other = login(tenant.cbo_staff, Client())
    inbox = other.get(reverse("referral_inbox"), HTTP_ACCEPT_LANGUAGE="en")
    html = inbox.content.decode()
    assert inbox.headers["Content-Language"] == "es"
    assert ">Recibidas</a>" in html and ">Cerrar sesión</button>" in html
    assert "Aceptar" in html and "Rechazar" in html
    assert ">Inbox</a>" not in html

    detail = other.get(reverse("referral_detail", args=[referral.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = detail.content.decode()
    assert f"Referencia n.º {referral.pk}" in html
    assert "Solicitada" in html or "Requested" not in html
    assert "Timeline" not in html and "Historial" in html


def test_a_user_who_picks_english_sees_english_even_with_a_spanish_browser(
    tenant, referral, login, user_language_middleware
):
    c = login(tenant.cbo_staff)
    c.post(reverse("set_language"), {"language": "en"})
    tenant.cbo_staff.refresh_from_db()
    assert tenant.cbo_staff.language == "en"
    other = login(tenant.cbo_staff, Client())
    for url in (reverse("referral_inbox"), reverse("referral_detail", args=[referral.pk])):
        response = other.get(url, **ES)
        html = response.content.decode()
        assert response.headers["Content-Language"] == "en"
        assert ">Inbox</a>" in html and ">Recibidas</a>" not in html


def test_a_user_who_leaves_it_blank_follows_the_browser(tenant, login, user_language_middleware):
    c = login(tenant.cbo_staff)
    c.post(reverse("set_language"), {"language": ""})
    tenant.cbo_staff.refresh_from_db()
    assert tenant.cbo_staff.language == ""
    assert (
        settings.LANGUAGE_COOKIE_NAME not in c.cookies
        or not c.cookies[settings.LANGUAGE_COOKIE_NAME].value
    )
    assert ">Recibidas</a>" in c.get(reverse("referral_inbox"), **ES).content.decode()
    assert ">Inbox</a>" in c.get(reverse("referral_inbox")).content.decode()


def test_the_account_page_offers_the_choice_and_the_header_switches_before_sign_in(
    tenant, login, client
):
    page = login(tenant.cbo_staff).get(reverse("account_security")).content.decode()
    assert 'data-testid="account-language"' in page
    assert '<option value="" selected>' in page  # blank: follows the browser

    # Not signed in: the header's picker keeps the choice in the language cookie.
    anonymous = Client()
    response = anonymous.post(reverse("set_language"), {"language": "es"})
    assert response.status_code == 302
    assert anonymous.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "<h1>Iniciar sesión</h1>" in anonymous.get(reverse("login")).content.decode()


def test_an_unknown_language_or_a_get_is_refused(client):
    assert client.post(reverse("set_language"), {"language": "xx"}).status_code == 400
    assert client.get(reverse("set_language")).status_code == 405


def test_the_way_back_stays_on_this_site(client):
    response = client.post(
        reverse("set_language"), {"language": "es"}, HTTP_REFERER="https://evil.example/"
    )
    assert response.status_code == 302 and response.url == reverse("dashboard")
