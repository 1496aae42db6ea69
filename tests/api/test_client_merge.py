"""A merged client record on the REST API (issue 14): the tombstone answers 200 with
`merged_into`, the survivor's id; lists and searches show only the survivor."""

from __future__ import annotations

import pytest

from tests.clients.test_merge import merged_pair

pytestmark = pytest.mark.django_db


def test_the_tombstone_answers_with_the_survivors_id(tenant, hco_api):
    duplicate = merged_pair(tenant)
    response = hco_api.get(f"/api/v1/clients/{duplicate.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == duplicate.pk
    assert response.json()["merged_into"] == tenant.client.pk
    assert hco_api.get(f"/api/v1/clients/{tenant.client.pk}/").json()["merged_into"] is None


def test_lists_and_searches_show_only_the_survivor(tenant, hco_api):
    duplicate = merged_pair(tenant)
    listed = [c["id"] for c in hco_api.get("/api/v1/clients/").json()["results"]]
    assert tenant.client.pk in listed and duplicate.pk not in listed
    found = hco_api.post(
        "/api/v1/clients/search/", {"name": tenant.client.family_name}, format="json"
    ).json()
    assert [c["id"] for c in found] == [tenant.client.pk]


def test_an_outsider_gets_404_for_the_tombstone(tenant, foreign_tenant, make_key, bearer):
    duplicate = merged_pair(tenant)
    outsider = bearer(make_key(foreign_tenant.hco)[1])
    assert outsider.get(f"/api/v1/clients/{duplicate.pk}/").status_code == 404


def test_a_write_naming_the_tombstone_reaches_the_survivor(tenant, hco_api):
    # An integration that kept the old id is led on, not refused.
    from consent.models import Release
    from tests.api.test_clients_releases import _release_body

    duplicate = merged_pair(tenant)
    response = hco_api.post(
        "/api/v1/releases/", _release_body(tenant, client=duplicate.pk), format="json"
    )
    assert response.status_code == 201, response.json()
    assert Release.objects.get(pk=response.json()["id"]).client_id == tenant.client.pk
