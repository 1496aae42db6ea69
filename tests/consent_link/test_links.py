"""Consent by link: staff make a one-time link; the client signs it on the public page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from consent import links
from consent.models import ConsentLink, Release
from tests.consent_link.conftest import make_link

pytestmark = pytest.mark.django_db

SIGN = {"signer": "client", "esignature_name": "Quennell Ostrovar", "esignature_confirmed": "on"}
DEAD_LINK = "Please ask the organization that sent it to you for a new link."


def _open(client, token, query="", **extra):
    """The link as sent: it keeps the token in the session and moves to /c/sign/."""
    return client.get(f"/c/{token}/{query}", **extra)


def _page(client, token, query="", **extra):
    opened = _open(client, token, query, **extra)
    assert opened.status_code == 302, opened.status_code
    assert token not in opened["Location"]
    return client.get(opened["Location"], **extra)


def _sign(client, token, data=SIGN, **extra):
    if client.session.get("release_link_token") != token:
        _open(client, token, **extra)
    return client.post("/c/sign/", data, **extra)


# --- Making a link ---------------------------------------------------------------------------


def test_staff_make_a_link_and_only_its_hash_is_kept(
    tenant, unreleased_client, login, client, announced, django_capture_on_commit_callbacks
):
    login(tenant.hco_navigator)
    page = client.get(f"/clients/{unreleased_client.pk}/release-links/new/")
    assert page.status_code == 200
    assert tenant.cbo.name in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/clients/{unreleased_client.pk}/release-links/new/",
            {
                "recipients": [tenant.cbo.pk],
                "categories": ["demographics", "social_needs", "referrals"],
                "purpose": "care_coordination",
                "channel": "sms",
            },
        )
    link = ConsentLink.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/release-links/{link.pk}/"
    [(kind, sent)] = announced
    assert kind == "created"
    assert sent["link_id"] == link.pk and sent["channel"] == "sms"
    token = sent["url"].rstrip("/").rsplit("/", 1)[-1]
    assert sent["url"].endswith(f"/c/{token}/")
    assert link.token_hash == links.token_hash(token) != token
    assert token not in str(ConsentLink.objects.values().get())
    assert link.expires_at - link.created_at == timedelta(hours=72)
    assert list(link.recipients.all()) == [tenant.cbo]
    assert AuditEvent.objects.filter(object_type="release_link", action="create").exists()
    detail = client.get(f"/release-links/{link.pk}/")
    assert detail.status_code == 200
    assert "Waiting for the client to sign" in detail.content.decode()


def test_a_link_needs_the_release_rules_and_a_number_to_text(tenant, unreleased_client):
    unreleased_client.phone = ""
    unreleased_client.save()
    with pytest.raises(Exception) as refused:
        make_link(tenant, unreleased_client, recipients=[], categories=[])
    errors = refused.value.message_dict
    assert set(errors) == {"recipients", "categories", "channel"}
    assert ConsentLink.objects.count() == 0


def test_another_network_cannot_make_a_link_for_the_client(
    tenant, foreign_tenant, unreleased_client, login, client
):
    login(foreign_tenant.hco_navigator)
    url = f"/clients/{unreleased_client.pk}/release-links/new/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"channel": "sms"}).status_code == 404
    link, _url, _token = make_link(tenant, unreleased_client)
    assert client.get(f"/release-links/{link.pk}/").status_code == 404


# --- Signing ---------------------------------------------------------------------------------


def test_the_client_signs_and_the_release_is_an_esignature_with_the_links_evidence(
    tenant, unreleased_client, client, announced, django_capture_on_commit_callbacks
):
    link, _url, token = make_link(tenant, unreleased_client)
    page = _page(client, token)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Authorization to share information" in body
    assert tenant.cbo.name in body
    # The holder of the link reads the release's terms: audited, for the link's organization.
    read = AuditEvent.objects.filter(object_type="release_link", action="view").get()
    assert read.organization_id == tenant.hco.pk and read.actor_id is None
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign(
            client, token, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="PhoneBrowser/1.0"
        )
    assert response.status_code == 302
    assert response["Location"] == "/c/signed/?lang=en"
    assert token not in response["Location"]
    release = Release.objects.get(client=unreleased_client)
    assert release.method == Release.Method.ESIGNATURE
    assert release.esignature_name == "Quennell Ostrovar" and release.esignature_confirmed
    assert release.signer == Release.Signer.CLIENT
    assert release.staff_present is None  # signed on the client's own phone
    assert release.organization == tenant.hco and release.captured_by == tenant.hco_navigator
    assert list(release.recipients.all()) == [tenant.cbo]
    assert set(release.categories) == {"demographics", "social_needs", "referrals"}
    assert release.is_active()
    link.refresh_from_db()
    assert link.release == release
    assert link.used_at == release.esignature_signed_at
    assert link.signed_ip == "203.0.113.7"
    assert link.signed_user_agent == "PhoneBrowser/1.0"
    assert announced[-1] == ("signed", {"release_id": release.pk, "link_id": link.pk})
    done = client.get(response["Location"])
    assert "your release is signed" in done.content.decode()


def test_a_representative_signs_with_name_and_relationship(tenant, unreleased_client, client):
    _link, _url, token = make_link(tenant, unreleased_client)
    missing = _sign(client, token, {**SIGN, "signer": "representative"})
    assert missing.status_code == 400
    assert Release.objects.filter(client=unreleased_client).count() == 0
    data = {
        **SIGN,
        "signer": "representative",
        "representative_name": "Ada Ostrovar",
        "representative_relationship": "mother",
    }
    assert _sign(client, token, data).status_code == 302
    release = Release.objects.get(client=unreleased_client)
    assert release.signer == Release.Signer.REPRESENTATIVE
    assert release.representative_relationship == "mother"


def test_an_incomplete_signature_writes_nothing(tenant, unreleased_client, client):
    link, _url, token = make_link(tenant, unreleased_client)
    response = _sign(client, token, {"signer": "client", "esignature_name": "Q. O."})
    assert response.status_code == 400
    assert "Tick the box to agree to this release." in response.content.decode()
    link.refresh_from_db()
    assert link.used_at is None
    assert not Release.objects.filter(client=unreleased_client).exists()


def test_spanish_for_a_spanish_speaking_client_with_a_switch_to_english(
    tenant, unreleased_client, client
):
    unreleased_client.preferred_language = "es"
    unreleased_client.save()
    _link, _url, token = make_link(tenant, unreleased_client)
    spanish = _page(client, token)
    assert "Autorización para compartir información" in spanish.content.decode()
    assert '<html lang="es">' in spanish.content.decode()
    assert spanish["Content-Language"] == "es"
    english = _page(client, token, "?lang=en")
    assert "Authorization to share information" in client.get("/c/sign/?lang=en").content.decode()
    assert "Authorization to share information" in english.content.decode()
    response = _sign(client, token, {**SIGN, "lang": "es"})
    assert response["Location"] == "/c/signed/?lang=es"
    assert Release.objects.get(client=unreleased_client).language == "es"


# --- Links that no longer work ---------------------------------------------------------------


def _says_nothing_of_the_client(response, tenant, client_record) -> None:
    body = response.content.decode()
    assert DEAD_LINK in body
    for secret in (
        client_record.given_name,
        client_record.family_name,
        tenant.hco.name,
        tenant.cbo.name,
        tenant.network.name,
    ):
        assert secret not in body


def test_a_link_works_once(tenant, unreleased_client, client):
    _link, _url, token = make_link(tenant, unreleased_client)
    assert _sign(client, token).status_code == 302
    again = _open(client, token)
    assert again.status_code == 410
    _says_nothing_of_the_client(again, tenant, unreleased_client)
    assert _sign(client, token).status_code == 410
    assert Release.objects.filter(client=unreleased_client).count() == 1


@pytest.mark.calendar
def test_a_link_expires_after_72_hours(tenant, unreleased_client, client):
    link, _url, token = make_link(tenant, unreleased_client)
    with time_machine.travel(link.created_at + timedelta(hours=71, minutes=59), tick=False):
        assert _page(client, token).status_code == 200
    with time_machine.travel(link.created_at + timedelta(hours=72), tick=False):
        expired = _open(client, token)
        assert expired.status_code == 410
        _says_nothing_of_the_client(expired, tenant, unreleased_client)
        # The page open since before the expiry refuses too.
        assert client.post("/c/sign/", SIGN).status_code == 410
    assert not Release.objects.filter(client=unreleased_client).exists()
    link.refresh_from_db()
    assert link.status_at(link.created_at + timedelta(hours=72)) == "expired"


def test_a_tampered_token_finds_nothing(tenant, unreleased_client, client):
    _link, _url, token = make_link(tenant, unreleased_client)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = _open(client, tampered)
    assert response.status_code == 404
    _says_nothing_of_the_client(response, tenant, unreleased_client)
    assert _sign(client, tampered).status_code == 404
    assert not Release.objects.filter(client=unreleased_client).exists()


def test_an_unknown_token_finds_nothing(tenant, unreleased_client, client):
    response = client.get("/c/not-a-real-link-at-all/")
    assert response.status_code == 404
    _says_nothing_of_the_client(response, tenant, unreleased_client)
    # The page without a link opened in this browser finds nothing either.
    assert client.get("/c/sign/").status_code == 404
    assert client.post("/c/sign/", SIGN).status_code == 404


# --- Rate limits -----------------------------------------------------------------------------


def test_one_address_is_limited_however_many_tokens_it_tries(tenant, unreleased_client, client):
    _link, _url, token = make_link(tenant, unreleased_client)
    limit = int(links_rate("RATE_BY_IP"))
    for n in range(limit):
        assert client.get(f"/c/guess-{n}/").status_code == 404
    limited = _open(client, token)
    assert limited.status_code == 429
    assert "Too many tries" in limited.content.decode()
    assert _sign(client, token).status_code == 429
    assert not Release.objects.filter(client=unreleased_client).exists()
    # Another address is not held up.
    assert _page(client, token, REMOTE_ADDR="198.51.100.9").status_code == 200


def test_one_link_is_limited_from_any_address(tenant, unreleased_client, client):
    _link, _url, token = make_link(tenant, unreleased_client)
    limit = int(links_rate("RATE_BY_LINK"))
    for n in range(limit):
        wrong = _sign(client, token, {"signer": "client"}, REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert wrong.status_code == 400
    limited = _sign(client, token, REMOTE_ADDR="192.0.2.200")
    assert limited.status_code == 429
    assert not Release.objects.filter(client=unreleased_client).exists()


def links_rate(name: str) -> str:
    from consent import link_views

    return getattr(link_views, name).split("/")[0]


def test_the_link_page_is_written_for_the_links_organization_only(
    tenant, neighbour, unreleased_client, login, client
):
    link, _url, _token = make_link(tenant, unreleased_client)
    login(neighbour.navigator)
    assert client.get(f"/release-links/{link.pk}/").status_code == 404
    assert links.link_for_token(_token).pk == link.pk
    assert timezone.now() < link.expires_at


def test_a_working_link_never_reaches_the_logs(tenant, unreleased_client, client, caplog):
    """Django logs the path of every 4xx answer: after the first request the page's path
    carries no token, so a form sent back with errors (400) logs no working link."""
    _link, _url, token = make_link(tenant, unreleased_client)
    caplog.set_level("DEBUG")
    assert _sign(client, token, {"signer": "client"}).status_code == 400
    assert _sign(client, token, {"signer": "representative"}).status_code == 400
    assert caplog.records, "the 400 answers were logged"
    assert token not in caplog.text
    assert unreleased_client.family_name not in caplog.text
