"""Every API route, requested with the API key of an outsider: an organization of another
network, one of the victim's own network party to none of its referrals, and the victim
organization's own key in a role that lacks what the route needs.

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

from apikeys.services import api_key_create
from tests.tenancy.harness import (
    SAME_NETWORK,
    WRONG_ROLE,
    Outsider,
    iter_routes,
    probe_api_routes,
)
from tests.tenancy.probes import (
    page_probes,
    same_network_sentinels,
    sentinels,
    wrong_role_sentinels,
)

pytestmark = pytest.mark.django_db


def _api_with_key(org, role):
    key, raw = api_key_create(organization=org, role=role, name="Outsider EHR")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api, key


def _foreign_api(org, role) -> APIClient:
    return _api_with_key(org, role)[0]


@pytest.mark.parametrize(
    ("org_attr", "role"), [("hco", "navigator"), ("cbo", "staff"), ("backbone", "org_admin")]
)
def test_no_api_route_shows_another_tenant_anything(tenant, foreign_tenant, org_attr, role):
    api = _foreign_api(getattr(foreign_tenant, org_attr), role)
    findings = probe_api_routes(api, probes=page_probes(tenant), secrets=sentinels(tenant))
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize("role", ["org_admin", "navigator", "staff"])
def test_no_api_route_shows_a_neighbour_in_the_network_anything(tenant, neighbour, role):
    api = _foreign_api(neighbour.organization, role)
    findings = probe_api_routes(
        api,
        probes=page_probes(tenant),
        secrets=same_network_sentinels(tenant),
        outsider=Outsider(SAME_NETWORK),
    )
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize(
    ("org_attr", "role"), [("hco", "staff"), ("hco", "navigator"), ("backbone", "navigator")]
)
def test_no_api_route_serves_a_key_whose_role_lacks_its_capability(tenant, org_attr, role):
    api, key = _api_with_key(getattr(tenant, org_attr), role)
    findings = probe_api_routes(
        api,
        probes=page_probes(tenant),
        secrets=wrong_role_sentinels(tenant, key.user),
        outsider=Outsider(WRONG_ROLE, key.membership),
    )
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


@override_settings(ROOT_URLCONF=__name__)
def test_walk_reports_a_leaking_api_route_to_a_neighbour(tenant, neighbour):
    api = _foreign_api(neighbour.organization, "staff")
    findings = probe_api_routes(
        api,
        probes=page_probes(tenant),
        secrets=same_network_sentinels(tenant),
        outsider=Outsider(SAME_NETWORK),
    )
    text = "\n".join(findings)
    assert f"GET /api/v1/broken/{tenant.client.pk}/ -> 200: shows foreign data" in text
