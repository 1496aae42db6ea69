import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from organizations.roles import Role


@pytest.fixture
def make_key(db):
    """`make_key(org, role=...)` -> (ApiKey, full key)."""

    def _make(org, role=Role.NAVIGATOR, name="EHR integration"):
        return api_key_create(organization=org, role=role, name=name)

    return _make


@pytest.fixture
def bearer():
    """`bearer(full_key)` -> an APIClient sending that key."""

    def _client(raw: str) -> APIClient:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return c

    return _client


@pytest.fixture
def hco_api(tenant, make_key, bearer):
    return bearer(make_key(tenant.hco)[1])


@pytest.fixture
def cbo_api(tenant, make_key, bearer):
    return bearer(make_key(tenant.cbo)[1])
