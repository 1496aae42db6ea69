"""API keys: created once, hashed at rest, bound to an organization and role, revocable,
last use recorded, throttled per key."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from apikeys.models import ApiKey
from apikeys.services import api_key_revoke
from audit.models import AuditEvent
from organizations.roles import Role

pytestmark = pytest.mark.django_db


def test_command_prints_the_key_once_and_stores_only_a_hash(tenant, bearer):
    out = StringIO()
    call_command("create_api_key", org=tenant.hco.slug, role="navigator", name="Epic", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert raw.startswith(f"lk_{key.prefix}_")
    secret = raw.split("_", 2)[2]
    assert len(secret) >= 43  # 32 random bytes, base64url
    assert key.organization == tenant.hco and key.role == "navigator" and key.name == "Epic"
    assert secret not in key.secret_hash and secret not in key.salt
    assert not key.user.has_usable_password()
    assert bearer(raw).get("/api/v1/organizations/").status_code == 200


def test_command_refuses_unknown_organization_and_role(tenant):
    with pytest.raises(CommandError, match="No organization"):
        call_command("create_api_key", org="no-such-org", role="staff", name="x")
    with pytest.raises(CommandError):
        call_command("create_api_key", org=tenant.hco.slug, role="superhero", name="x")
    assert not ApiKey.objects.exists()


def test_missing_wrong_or_malformed_key_is_401(tenant, make_key, bearer, client):
    _key, raw = make_key(tenant.hco)
    assert client.get("/api/v1/organizations/").status_code in (401, 403)
    response = bearer(raw[:-2] + "xx").get("/api/v1/organizations/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid or revoked API key."
    assert response["WWW-Authenticate"] == "Bearer"
    assert bearer("not-a-key").get("/api/v1/organizations/").status_code == 401


def test_revocation_takes_effect_at_once(tenant, make_key, bearer):
    key, raw = make_key(tenant.hco)
    api = bearer(raw)
    assert api.get("/api/v1/organizations/").status_code == 200
    api_key_revoke(api_key=key, actor=tenant.hco_admin)
    assert api.get("/api/v1/organizations/").status_code == 401
    assert AuditEvent.objects.filter(action="revoke", object_type="api_key").exists()


def test_last_used_time_is_recorded(tenant, make_key, bearer):
    key, raw = make_key(tenant.hco)
    assert key.last_used_at is None
    with time_machine.travel("2026-03-02 15:00:00+00:00", tick=False):
        bearer(raw).get("/api/v1/organizations/")
    key.refresh_from_db()
    assert key.last_used_at == datetime(2026, 3, 2, 15, tzinfo=UTC)


def test_role_limits_the_key(tenant, make_key, bearer, monkeypatch):
    """A key holds its role's capabilities, no more: with creating clients reserved to
    member managers, a staff key is refused (nothing written) and an admin key is not."""
    from api.views.clients import ClientViewSet
    from clients.models import Client
    from organizations.roles import Capability

    monkeypatch.setattr(ClientViewSet, "capabilities", {"create": Capability.MANAGE_MEMBERS})
    body = {"given_name": "Rosa", "family_name": "Quill", "date_of_birth": "1980-01-02"}
    before = Client.objects.count()
    staff = bearer(make_key(tenant.hco, role=Role.STAFF)[1])
    refused = staff.post("/api/v1/clients/", body, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Your role does not allow this."
    assert Client.objects.count() == before
    admin = bearer(make_key(tenant.hco, role=Role.ORG_ADMIN, name="admin")[1])
    assert admin.post("/api/v1/clients/", body, format="json").status_code == 201


def test_throttled_per_key(tenant, make_key, bearer, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "3/min"},
    }
    first = bearer(make_key(tenant.hco, name="one")[1])
    second = bearer(make_key(tenant.hco, name="two")[1])
    with time_machine.travel("2026-03-02 15:00:00+00:00", tick=False):
        assert [first.get("/api/v1/organizations/").status_code for _ in range(3)] == [200] * 3
        refused = first.get("/api/v1/organizations/")
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "throttled"
        assert second.get("/api/v1/organizations/").status_code == 200
    with time_machine.travel("2026-03-02 15:01:30+00:00", tick=False):
        assert first.get("/api/v1/organizations/").status_code == 200


def test_admin_page_creates_shows_once_lists_and_revokes(tenant, login, client, bearer):
    login(tenant.hco_admin)
    created = client.post("/api/keys/", {"name": "Warehouse", "role": "staff"})
    assert created.status_code == 302  # a reload of the next page cannot create another
    response = client.get("/api/keys/")
    assert response["Cache-Control"] == "no-store"
    raw = response.context["new_key"]
    assert raw.startswith("lk_") and raw in response.content.decode()
    again = client.get("/api/keys/")
    assert raw not in again.content.decode() and "Warehouse" in again.content.decode()
    key = ApiKey.objects.get(name="Warehouse")
    assert key.organization == tenant.hco and key.created_by == tenant.hco_admin
    confirm = client.get(f"/api/keys/{key.pk}/revoke/")
    assert confirm.status_code == 200 and b"Revoke the key" in confirm.content
    assert bearer(raw).get("/api/v1/organizations/").status_code == 200
    assert client.post(f"/api/keys/{key.pk}/revoke/").status_code == 302
    assert bearer(raw).get("/api/v1/organizations/").status_code == 401


def test_admin_page_refuses_bad_input_and_non_admins(tenant, login, client):
    login(tenant.hco_admin)
    response = client.post("/api/keys/", {"name": "", "role": "staff"})
    assert response.status_code == 400 and not ApiKey.objects.exists()
    page = response.content.decode()
    assert "No key was created" in page and "This field is required." in page
    response = client.post("/api/keys/", {"name": "Warehouse", "role": "superhero"})
    assert response.status_code == 400 and not ApiKey.objects.exists()
    assert "Select a valid choice." in response.content.decode()
    assert 'value="Warehouse"' in response.content.decode()  # the label typed is kept
    # An empty POST is a submission too: it says what is missing.
    response = client.post("/api/keys/", {})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    client.logout()
    login(tenant.hco_staff)
    assert client.get("/api/keys/").status_code == 403


def test_admin_cannot_revoke_another_organizations_key(
    tenant, foreign_tenant, login, client, make_key
):
    key, _raw = make_key(foreign_tenant.hco)
    login(tenant.hco_admin)
    assert client.post(f"/api/keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_browser_session_works_and_needs_csrf_for_writes(tenant, login, client):
    from django.test import Client as DjangoClient

    assert client.get("/api/v1/clients/").status_code == 401
    login(tenant.hco_navigator)
    listed = client.get("/api/v1/clients/")
    assert listed.status_code == 200
    assert tenant.client.pk in [c["id"] for c in listed.json()["results"]]
    strict = DjangoClient(enforce_csrf_checks=True)
    strict.force_login(tenant.hco_navigator)
    refused = strict.post(
        "/api/v1/clients/",
        {"given_name": "Rosa", "family_name": "Quill", "date_of_birth": "1980-01-02"},
        content_type="application/json",
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]


def test_unauthenticated_error_body(client):
    response = client.get("/api/v1/referrals/")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "status": 401,
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


def test_a_keys_user_cannot_sign_in(tenant, make_key, client):
    key, raw = make_key(tenant.hco)
    response = client.post("/account/login/", {"username": key.user.email, "password": raw})
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session
