"""Personas for the FHIR tests: API keys of the tenant's organizations (and of a foreign
tenant's), as FHIR clients."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from organizations.roles import Role

FHIR = "application/fhir+json"
BASE = "/fhir/r4/"


class Fhir:
    """A FHIR client for one API key: paths are relative to /fhir/r4/."""

    def __init__(self, raw_key: str | None = None, api: APIClient | None = None):
        self.api = api or APIClient()
        if raw_key:
            self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    def get(self, path: str, params: dict | None = None, **headers):
        return self.api.get(BASE + path, params or {}, **headers)

    def post(self, path: str, resource, *, content_type: str = FHIR, **headers):
        body = resource if isinstance(resource, bytes | str) else json.dumps(resource)
        return self.api.generic("POST", BASE + path, body, content_type=content_type, **headers)

    def put(self, path: str, resource, *, content_type: str = FHIR, **headers):
        body = resource if isinstance(resource, bytes | str) else json.dumps(resource)
        return self.api.generic("PUT", BASE + path, body, content_type=content_type, **headers)

    def search(self, kind: str, form: dict):
        """POST <kind>/_search with a form body."""
        return self.api.generic(
            "POST",
            BASE + f"{kind}/_search",
            urlencode(form, doseq=True),
            content_type="application/x-www-form-urlencoded",
        )


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # Throttle counters live in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Consents carry their signed form: uploads go to a private folder per test.
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def fhir_for(db):
    """`fhir_for(org, role=...)` -> a Fhir client with a new API key of `org`."""

    def _make(org, role=Role.NAVIGATOR) -> Fhir:
        _key, raw = api_key_create(organization=org, role=role, name="FHIR integration")
        return Fhir(raw)

    return _make


@pytest.fixture
def hco_fhir(tenant, fhir_for) -> Fhir:
    return fhir_for(tenant.hco)


@pytest.fixture
def cbo_fhir(tenant, fhir_for) -> Fhir:
    return fhir_for(tenant.cbo, Role.STAFF)


@pytest.fixture
def backbone_fhir(tenant, fhir_for) -> Fhir:
    return fhir_for(tenant.backbone, Role.NAVIGATOR)
