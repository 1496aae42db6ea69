"""Every API route, requested with the API key of a foreign organization.

Routes come from the URL configuration (tests/tenancy/harness.py), so an API route added
later is probed without editing this file; object ids come from the same probes as the
page harness, built from the victim tenant's real objects.
"""

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.test import APIClient

from api.services import api_key_create
from tests.tenancy.harness import DENIED, build_url, iter_routes
from tests.tenancy.probes import page_probes, sentinels

pytestmark = pytest.mark.django_db


# The REST API and the FHIR interface take the same keys.
KEY_ROUTES = ("api/v1/", "fhir/r4/")


def probe_api_routes(api: APIClient, *, probes, secrets, urlconf=None) -> list[str]:
    """GET and POST (and, on FHIR instance routes, PUT) every /api/v1/ and /fhir/r4/ route
    with the key behind `api`; return what leaked."""
    findings = []
    for route in iter_routes(urlconf):
        if not route.template.startswith(KEY_ROUTES):
            continue
        missing = [k for k in route.kwargs if k not in probes]
        if missing:
            findings.append(f"{route.label}: no probe for {missing}")
            continue
        url = build_url(route, {k: probes[k]() for k in route.kwargs})
        methods = ["get", "post"]
        if route.template.startswith("fhir/r4/") and route.kwargs:
            methods.append("put")
        for method in methods:
            if method == "get":
                response = api.get(url)
            else:
                response = getattr(api, method)(url, {}, format="json")
            status = response.status_code
            body = response.content.decode(errors="replace")
            where = f"{method.upper()} {url} -> {status}"
            if status >= 500:
                findings.append(f"{where}: server error")
            if status == 401:
                findings.append(f"{where}: the key was not accepted")
            leaked = [s for s in secrets if s in body]
            if leaked:
                findings.append(f"{where}: shows foreign data {leaked}")
            if route.kwargs and status not in DENIED:
                findings.append(f"{where}: object route not denied")
    return findings


@pytest.fixture(autouse=True)
def _sweep_unthrottled(settings):
    # The sweep makes more requests with one key than the per-key rate allows in a minute
    # (the throttle has tests of its own: tests/api/test_keys.py).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/min"},
    }


def _foreign_api(org, role) -> APIClient:
    _key, raw = api_key_create(organization=org, role=role, name="Foreign EHR")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


@pytest.mark.parametrize(
    ("org_attr", "role"), [("hco", "navigator"), ("cbo", "staff"), ("backbone", "org_admin")]
)
def test_no_api_route_shows_another_tenant_anything(tenant, foreign_tenant, org_attr, role):
    api = _foreign_api(getattr(foreign_tenant, org_attr), role)
    findings = probe_api_routes(api, probes=page_probes(tenant), secrets=sentinels(tenant))
    assert not findings, "\n".join(findings)


def test_the_walk_sees_the_api_routes():
    templates = [r.template for r in iter_routes() if r.template.startswith("api/v1/")]
    assert len(templates) >= 20
    assert "api/v1/referrals/<int:referral_id>/accept/" in templates


def test_the_walk_sees_the_fhir_routes():
    templates = [r.template for r in iter_routes() if r.template.startswith("fhir/r4/")]
    assert "fhir/r4/Task/<int:referral_id>" in templates
    assert "fhir/r4/Patient/_search" in templates
    assert len(templates) >= 20


# A deliberately broken API, to show the walk reports what it must.
@api_view(["GET"])
def _unscoped_client(request, client_id):
    from clients.models import Client

    return Response({"name": Client.objects.get(pk=client_id).family_name})


urlpatterns = [path("api/v1/broken/<int:client_id>/", _unscoped_client)]


@override_settings(ROOT_URLCONF=__name__)
def test_walk_reports_a_leaking_api_route(tenant, foreign_tenant):
    api = _foreign_api(foreign_tenant.hco, "navigator")
    findings = probe_api_routes(api, probes=page_probes(tenant), secrets=sentinels(tenant))
    text = "\n".join(findings)
    assert f"GET /api/v1/broken/{tenant.client.pk}/ -> 200: shows foreign data" in text
    assert "object route not denied" in text
