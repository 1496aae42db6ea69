"""Every FHIR and REST route answers with and without its trailing slash (an EHR configured
with the base as advertised, `/fhir/r4`, or with `/fhir/r4/`, must reach the same thing), and
nothing answers 500 — not even with DEBUG on, where Django refuses to redirect a POST."""

from __future__ import annotations

import json
import re

import pytest
from django.test import RequestFactory
from django.urls import resolve
from django.urls.resolvers import RegexPattern

from config.middleware import CATCH_ALL_ROUTES, OptionalTrailingSlashMiddleware
from referrals.models import Referral
from tests.factories import referral_program
from tests.tenancy.harness import iter_routes

from .conftest import FHIR
from .test_referral_examples import direct_referral_bundle

SAMPLE = {"int": "7", "str": "Task", "slug": "x", "path": "x"}


def machine_routes():
    """(name, path) of every /fhir/r4/ and /api/v1/ route, with sample values for its
    parameters; the catch-all 404 routes are not routes a client aims at."""
    for route in iter_routes():
        if not route.template.startswith(("fhir/r4/", "api/v1/", "api/^v1/")):
            continue
        if route.name in CATCH_ALL_ROUTES:
            continue
        path = "/"
        for part in route.pattern_parts:
            text = str(part)
            if isinstance(part, RegexPattern):
                text = re.sub(r"\(\?P<\w+>[^)]*\)", "7", text.lstrip("^").rstrip("$"))
            for name, converter in getattr(part, "converters", {}).items():
                kind = type(converter).__name__.removesuffix("Converter").lower()
                text = text.replace(f"<{kind}:{name}>", SAMPLE.get(kind, "x"))
                text = text.replace(f"<{name}>", "x")
            path += text
        yield route.name, path


ROUTES = sorted(set(machine_routes()))


def test_the_walk_finds_both_faces():
    names = {name for name, _ in ROUTES}
    assert {"fhir_base", "fhir_metadata", "fhir_Task_instance", "api-referral-list"} <= names
    assert len(ROUTES) > 30


@pytest.mark.parametrize(("name", "path"), ROUTES, ids=[n for n, _ in ROUTES])
def test_each_route_is_reached_in_both_forms(name, path):
    seen = []

    def view(request):
        seen.append(resolve(request.path_info).url_name)

    middleware = OptionalTrailingSlashMiddleware(view)
    toggled = path[:-1] if path.endswith("/") else path + "/"
    for form in (path, toggled):
        middleware(RequestFactory().post(form))
    assert seen == [name, name]


@pytest.mark.django_db
def test_a_transaction_posted_to_the_base_without_its_slash_is_processed(
    settings, tenant, hco_fhir
):
    settings.DEBUG = True  # where APPEND_SLASH used to raise RuntimeError on a POST
    referral_program(tenant)
    bundle, _sr, _task = direct_referral_bundle(tenant)
    response = hco_fhir.api.generic("POST", "/fhir/r4", json.dumps(bundle), content_type=FHIR)
    assert response.status_code == 200, response.content
    assert response.json()["type"] == "transaction-response"
    assert Referral.objects.filter(receiver_organization=tenant.cbo).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/fhir/r4/metadata/", "/fhir/r4/Task/", "/fhir/r4/Task"])
def test_fhir_reads_answer_in_both_forms(hco_fhir, path):
    response = hco_fhir.api.get(path)
    assert response.status_code == 200
    assert response.json()["resourceType"] in {"CapabilityStatement", "Bundle"}


@pytest.mark.django_db
def test_rest_answers_in_both_forms(tenant, hco_fhir):
    with_slash = hco_fhir.api.get("/api/v1/organizations/")
    without = hco_fhir.api.get("/api/v1/organizations")
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json() == without.json()


@pytest.mark.django_db
def test_an_unknown_path_is_still_a_404_in_both_forms(hco_fhir):
    for path in ("/fhir/r4/NoSuchThing", "/fhir/r4/NoSuchThing/", "/api/v1/nothing"):
        assert hco_fhir.api.get(path).status_code == 404
