"""Headers every answer carries: `Cache-Control: no-store` on client data (pages, API, FHIR,
errors), a Content-Security-Policy without inline script or style, and templates that need
no inline code to work under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from config.middleware import NoStoreMiddleware
from organizations.roles import Role
from tests.factories import referral_for

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def _directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        name: value.strip()
        for name, _, value in (part.strip().partition(" ") for part in header.split(";"))
    }


def _bearer(organization) -> APIClient:
    raw = api_key_create(organization=organization, role=Role.NAVIGATOR, name="EHR")[1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def _no_store(response) -> None:
    assert "no-store" in response["Cache-Control"], (response.status_code, response.headers)
    assert response["Pragma"] == "no-cache"


def test_pages_api_and_fhir_answers_are_never_stored(tenant, login):
    referral = referral_for(tenant)
    c = login(tenant.hco_navigator)
    pages = {
        f"/referrals/{referral.pk}/": 200,
        f"/clients/{tenant.client.pk}/": 200,
        "/referrals/sent/": 200,
        "/clients/": 200,
        "/no-such-page/": 404,
        f"/referrals/{referral.pk + 1000}/": 404,
    }
    for url, status in pages.items():
        response = c.get(url)
        assert response.status_code == status, url
        _no_store(response)
        assert _directives(response) == POLICY, url

    api = _bearer(tenant.hco)
    for url, status in {
        "/api/v1/referrals/": 200,
        f"/api/v1/referrals/{referral.pk}/": 200,
        f"/api/v1/clients/{tenant.client.pk}/": 200,
        "/api/v1/no-such-route/": 404,
    }.items():
        response = api.get(url)
        assert response.status_code == status, url
        _no_store(response)

    for url, status in {
        f"/fhir/r4/Task/{referral.pk}": 200,
        f"/fhir/r4/Patient/{tenant.client.pk}": 200,
        "/fhir/r4/Task": 200,
        "/fhir/r4/Task/999999999": 404,
    }.items():
        response = api.get(url)
        assert response.status_code == status, (url, response.content[:300])
        _no_store(response)

    # Refused answers too: they still name the route, and a 401 is no one's to cache.
    _no_store(APIClient().get("/api/v1/referrals/"))
    _no_store(APIClient().get(f"/fhir/r4/Task/{referral.pk}"))


def test_a_view_that_said_no_store_keeps_its_wording(tenant, login):
    c = login(tenant.hco_admin)
    # The API key page names its own "no-store" already (api/views/keys.py).
    assert c.get("/api/keys/")["Cache-Control"] == "no-store"
    # The signed-out sign-in page is dynamic too (its CSRF token).
    anonymous = APIClient()
    response = anonymous.get("/account/login/")
    assert response.status_code == 200
    _no_store(response)
    assert _directives(response) == POLICY


def test_public_schema_and_docs_stay_cacheable(client):
    for url in ("/api/schema/", "/api/docs/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.get("Cache-Control", ""), url
        assert "Pragma" not in response, url
    # drf-spectacular's Swagger page needs its inline script: it has no policy (and no
    # client data); the schema, plain JSON/YAML, has the site's.
    assert "Content-Security-Policy" not in client.get("/api/docs/")
    assert "Content-Security-Policy" in client.get("/api/schema/")


def test_static_files_keep_their_caching_and_a_cache_header_on_client_data_is_replaced(rf):
    # WhiteNoise answers /static/ before this middleware in production; with runserver's
    # static handler or a collected-less WhiteNoise the path is still left alone.
    def cacheable(request):
        response = HttpResponse("x")
        response["Cache-Control"] = "public, max-age=3600"
        return response

    middleware = NoStoreMiddleware(cacheable)
    static = middleware(rf.get("/static/css/linkage.css"))
    assert static["Cache-Control"] == "public, max-age=3600"
    assert "Pragma" not in static
    page = middleware(rf.get("/clients/1/"))
    assert page["Cache-Control"] == "no-store"
    assert page["Pragma"] == "no-cache"


INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
OTHER = {
    "hx-on attribute (htmx evaluates it)": re.compile(r"\bhx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "style attribute": re.compile(r"""\sstyle\s*=\s*["']""", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "js: value (htmx eval)": re.compile(r"""hx-vals\s*=\s*["']\s*js:""", re.I),
}


TEMPLATE_COMMENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.S)


def _template_problems(text: str) -> list[str]:
    # Template comments never reach the browser (and may well name what they forbid).
    text = TEMPLATE_COMMENT.sub("", text)
    problems = [f"inline <script>: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
    problems += [f"inline handler: {m.group(0).strip()}" for m in HANDLER.finditer(text)]
    for what, pattern in OTHER.items():
        problems += [what for _ in pattern.finditer(text)]
    return problems


def test_the_template_check_finds_what_the_policy_refuses():
    assert _template_problems('<script>alert(1)</script><script src="/x.js"></script>') == [
        "inline <script>: <script>"
    ]
    assert _template_problems('<form onsubmit="return confirm(1)">') == [
        'inline handler: onsubmit="'
    ]
    assert _template_problems('<button ONCLICK="x()">') == ['inline handler: ONCLICK="']
    assert _template_problems('<div style="columns: 15rem">') == ["style attribute"]
    assert _template_problems('<a href="javascript:void(0)">') == ["javascript: URL"]
    assert _template_problems("<button hx-on:click='x()'>") == [
        "hx-on attribute (htmx evaluates it)"
    ]
    assert _template_problems("<style>p {}</style>") == ["<style> element"]
    assert (
        _template_problems("{% comment %}no <style>, no hx-on{% endcomment %}{# <script> #}") == []
    )
    # Data and data attributes are fine.
    assert _template_problems('<script type="application/json" id="c">{}</script>') == []
    assert _template_problems('<form data-confirm="Sure?"><button data-print>') == []


def test_no_template_carries_inline_script_handler_or_style():
    found = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        problems = _template_problems(path.read_text(encoding="utf-8"))
        if problems:
            found[str(path.relative_to(TEMPLATES))] = problems
    assert not found, found
