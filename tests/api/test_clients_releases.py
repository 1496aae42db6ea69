"""Clients and releases over the API: the services' rules, the consent policy, audit."""

import pytest

from audit.models import AuditEvent
from clients.models import Client
from consent.models import Release
from tests.factories import ClientFactory, release_for

pytestmark = pytest.mark.django_db

NEW_CLIENT = {
    "given_name": "Rosa",
    "family_name": "Quill",
    "date_of_birth": "1980-01-02",
    "phone": "(312) 555-0100",
    "zip_code": "60601",
}


def _last_read(object_type):
    return AuditEvent.objects.filter(object_type=object_type).order_by("-id").first()


def test_create_client(tenant, hco_api):
    response = hco_api.post("/api/v1/clients/", NEW_CLIENT, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    client = Client.objects.get(pk=body["id"])
    assert client.created_by_organization == tenant.hco
    assert body["family_name"] == "Quill" and "demographics" in body["visible_categories"]
    assert AuditEvent.objects.filter(action="create", object_ids=[client.pk]).exists()


def test_create_client_bad_input_writes_nothing(tenant, hco_api):
    before = Client.objects.count()
    response = hco_api.post(
        "/api/v1/clients/", {**NEW_CLIENT, "date_of_birth": "2999-01-01"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and "date_of_birth" in error["fields"]
    missing = hco_api.post("/api/v1/clients/", {"given_name": "Rosa"}, format="json")
    assert missing.status_code == 400
    assert {"family_name", "date_of_birth"} <= set(missing.json()["error"]["fields"])
    assert Client.objects.count() == before


def test_read_client_is_audited(tenant, hco_api):
    response = hco_api.get(f"/api/v1/clients/{tenant.client.pk}/")
    assert response.status_code == 200
    assert response.json()["given_name"] == tenant.client.given_name
    event = _last_read("client")
    assert event.action == "view" and event.object_ids == [tenant.client.pk]
    assert event.actor.api_key.organization == tenant.hco


def test_cbo_key_sees_consented_categories_only(tenant, cbo_api):
    response = cbo_api.get(f"/api/v1/clients/{tenant.client.pk}/")
    assert response.status_code == 200
    assert set(response.json()["visible_categories"]) == {
        "demographics",
        "social_needs",
        "referrals",
    }
    # A client whose release covers social needs only: found, but no demographics shown.
    other = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(
        other, organization=tenant.hco, recipients=[tenant.cbo], categories=["social_needs"]
    )
    body = cbo_api.get(f"/api/v1/clients/{other.pk}/").json()
    assert body["visible_categories"] == ["social_needs"]
    assert body["family_name"] is None and body["date_of_birth"] is None
    assert other.family_name not in str(body)
    # Nor is that client listed (lists show names).
    listed = [c["id"] for c in cbo_api.get("/api/v1/clients/").json()["results"]]
    assert tenant.client.pk in listed and other.pk not in listed


def test_client_without_release_is_404_for_another_org(
    tenant, cbo_api, foreign_tenant, make_key, bearer
):
    hidden = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    response = cbo_api.get(f"/api/v1/clients/{hidden.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    foreign = bearer(make_key(foreign_tenant.hco)[1])
    assert foreign.get(f"/api/v1/clients/{tenant.client.pk}/").status_code == 404


def test_revoked_release_hides_the_client_at_once(tenant, cbo_api):
    assert cbo_api.get(f"/api/v1/clients/{tenant.client.pk}/").status_code == 200
    from consent.services import release_revoke

    release_revoke(
        release=tenant.release, actor=tenant.hco_navigator, organization=tenant.hco, reason="asked"
    )
    assert cbo_api.get(f"/api/v1/clients/{tenant.client.pk}/").status_code == 404


def test_search_by_post_only_finds_visible_clients(tenant, cbo_api, hco_api):
    hidden = ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        family_name=tenant.client.family_name,
    )
    found = cbo_api.post(
        "/api/v1/clients/search/", {"name": tenant.client.family_name}, format="json"
    )
    assert found.status_code == 200
    assert [c["id"] for c in found.json()] == [tenant.client.pk]
    event = _last_read("client")
    assert event.action == "search" and event.object_ids == [tenant.client.pk]
    hco_ids = {
        c["id"]
        for c in hco_api.post(
            "/api/v1/clients/search/", {"name": tenant.client.family_name}, format="json"
        ).json()
    }
    assert hco_ids == {tenant.client.pk, hidden.pk}
    empty = cbo_api.post("/api/v1/clients/search/", {}, format="json")
    assert empty.status_code == 400 and "search term" in empty.json()["error"]["message"]
    assert cbo_api.get("/api/v1/clients/search/").status_code == 405


def test_client_list_filters_and_audits_once(tenant, hco_api):
    for _ in range(3):
        ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    response = hco_api.get("/api/v1/clients/", {"page_size": 2})
    body = response.json()
    assert len(body["results"]) == 2 and body["next"]
    rest = hco_api.get(body["next"]).json()
    seen = [c["id"] for c in body["results"] + rest["results"]]
    assert len(seen) == len(set(seen)) == 4
    event = _last_read("client")
    assert event.action == "list" and sorted(event.object_ids) == sorted(
        c["id"] for c in rest["results"]
    )
    future = hco_api.get("/api/v1/clients/", {"updated_since": "2999-01-01T00:00:00Z"})
    assert future.json()["results"] == []
    bad = hco_api.get("/api/v1/clients/", {"updated_since": "yesterday"})
    assert bad.status_code == 400 and "updated_since" in bad.json()["error"]["fields"]


def test_client_list_query_count_is_constant(tenant, hco_api):
    hco_api.get("/api/v1/clients/")  # warm up: the key's first use

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert hco_api.get("/api/v1/clients/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    # The request's savepoint; the key and its last use; is the org an active partner
    # (consent policy); the page of clients; the audit event and its client rows (in their
    # own savepoint): 11 statements, however many clients.
    assert few <= 11
    for _ in range(5):
        ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    assert count() == few


def _release_body(tenant, **changes):
    body = {
        "client": tenant.client.pk,
        "recipients": [tenant.cbo.pk],
        "categories": ["demographics", "health"],
        "purpose": "care_coordination",
        "method": "verbal",
        "verbal_witness_name": "Sam Witness",
    }
    return {**body, **changes}


def test_create_read_and_revoke_release(tenant, hco_api, cbo_api):
    response = hco_api.post("/api/v1/releases/", _release_body(tenant), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    release = Release.objects.get(pk=body["id"])
    assert release.organization == tenant.hco and body["recipients"] == [tenant.cbo.pk]
    assert body["is_active"] and set(body["categories"]) == {"demographics", "health"}
    assert release.expires_at > release.effective_at
    assert (
        "health" in cbo_api.get(f"/api/v1/clients/{tenant.client.pk}/").json()["visible_categories"]
    )
    read = cbo_api.get(f"/api/v1/releases/{release.pk}/")
    assert read.status_code == 200 and _last_read("release").object_ids == [release.pk]
    # Only the capturing organization revokes: the service's refusal, as a clear 400.
    by_recipient = cbo_api.post(
        f"/api/v1/releases/{release.pk}/revoke/", {"reason": "asked"}, format="json"
    )
    assert by_recipient.status_code == 400
    assert "Only the organization that captured" in by_recipient.json()["error"]["message"]
    release.refresh_from_db()
    assert release.revoked_at is None
    no_reason = hco_api.post(f"/api/v1/releases/{release.pk}/revoke/", {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["fields"]
    revoked = hco_api.post(
        f"/api/v1/releases/{release.pk}/revoke/", {"reason": "Client asked"}, format="json"
    )
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False
    release.refresh_from_db()
    assert release.revoked_at is not None


def test_release_bad_input_writes_nothing(tenant, hco_api, foreign_tenant):
    before = Release.objects.count()
    no_witness = hco_api.post(
        "/api/v1/releases/", _release_body(tenant, verbal_witness_name=""), format="json"
    )
    assert no_witness.status_code == 400
    assert "verbal_witness_name" in no_witness.json()["error"]["fields"]
    foreign_recipient = hco_api.post(
        "/api/v1/releases/",
        _release_body(tenant, recipients=[foreign_tenant.cbo.pk]),
        format="json",
    )
    assert foreign_recipient.status_code == 400
    assert "recipients" in foreign_recipient.json()["error"]["fields"]
    part2 = hco_api.post(
        "/api/v1/releases/",
        _release_body(tenant, recipients=[], all_network_partners=True, categories=["sud"]),
        format="json",
    )
    assert part2.status_code == 400
    assert Release.objects.count() == before


def test_release_for_foreign_client_is_refused(tenant, foreign_tenant, make_key, bearer):
    foreign = bearer(make_key(foreign_tenant.hco)[1])
    response = foreign.post(
        "/api/v1/releases/", _release_body(tenant, recipients=[]), format="json"
    )
    assert response.status_code == 400 and "client" in response.json()["error"]["fields"]
    assert foreign.get(f"/api/v1/releases/{tenant.release.pk}/").status_code == 404
