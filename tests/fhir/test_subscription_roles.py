"""FHIR Subscriptions send an organization's referral events outside Linkage, as webhooks
do: creating, changing and ending one is an org admin's (MANAGE_MEMBERS, the webhooks'
capability), refused to staff and navigators with a 403 OperationOutcome; reading stays
every role's."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from interop.models import Subscription
from interop.subscriptions import topic
from organizations.roles import Role

pytestmark = pytest.mark.django_db

FHIR = "application/fhir+json"


def key(org, role) -> APIClient:
    _key, raw = api_key_create(organization=org, role=role, name=f"EHR {role}")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def body(endpoint="https://ehr.example.invalid/fhir-hook") -> str:
    # Refusals come before the endpoint is looked at: no name is ever resolved.
    return json.dumps(
        {
            "resourceType": "Subscription",
            "meta": {"profile": [topic.SUBSCRIPTION_PROFILE]},
            "status": "requested",
            "reason": "Tell the EHR when referral Tasks change",
            "criteria": topic.TOPIC_URL,
            "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": FHIR},
        }
    )


def admins_subscription(tenant) -> Subscription:
    return Subscription.objects.create(
        organization=tenant.hco,
        created_by=tenant.hco_admin,
        endpoint="https://ehr.example.invalid/admins-hook",
        topic=topic.TOPIC_URL,
    )


def assert_forbidden(response) -> None:
    assert response.status_code == 403, response.content
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["code"] for i in outcome["issue"]] == ["forbidden"]


@pytest.mark.parametrize("role", [Role.STAFF, Role.NAVIGATOR])
def test_staff_and_navigators_cannot_create_a_subscription(tenant, role):
    response = key(tenant.hco, role).post("/fhir/r4/Subscription", body(), content_type=FHIR)
    assert_forbidden(response)
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("role", [Role.STAFF, Role.NAVIGATOR])
def test_staff_and_navigators_cannot_delete_an_admins_subscription(tenant, role):
    subscription = admins_subscription(tenant)
    response = key(tenant.hco, role).delete(f"/fhir/r4/Subscription/{subscription.pk}")
    assert_forbidden(response)
    assert Subscription.objects.filter(pk=subscription.pk).exists()


def test_staff_cannot_update_a_subscription_either(tenant):
    subscription = admins_subscription(tenant)
    response = key(tenant.hco, Role.STAFF).put(
        f"/fhir/r4/Subscription/{subscription.pk}", body(), content_type=FHIR
    )
    assert_forbidden(response)


def test_a_signed_in_staff_member_is_refused_too(client, login, tenant):
    subscription = admins_subscription(tenant)
    login(tenant.hco_staff)
    created = client.post("/fhir/r4/Subscription", body(), content_type=FHIR)
    assert_forbidden(created)
    deleted = client.delete(f"/fhir/r4/Subscription/{subscription.pk}")
    assert_forbidden(deleted)
    assert list(Subscription.objects.all()) == [subscription]


def test_staff_still_read_their_organizations_subscriptions(tenant):
    subscription = admins_subscription(tenant)
    api = key(tenant.hco, Role.STAFF)
    listing = api.get("/fhir/r4/Subscription")
    assert listing.status_code == 200
    assert [e["resource"]["id"] for e in listing.json()["entry"]] == [str(subscription.pk)]
    assert api.get(f"/fhir/r4/Subscription/{subscription.pk}").status_code == 200
    assert api.get(f"/fhir/r4/Subscription/{subscription.pk}/$status").status_code == 200


def test_an_org_admin_creates_and_deletes(tenant, settings):
    # A loopback endpoint, allowed as DEBUG would: nothing is posted to it here.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    api = key(tenant.hco, Role.ORG_ADMIN)
    created = api.post(
        "/fhir/r4/Subscription", body("http://127.0.0.1:9/fhir-hook"), content_type=FHIR
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert api.delete(f"/fhir/r4/Subscription/{pk}").status_code == 204
    assert not Subscription.objects.exists()


def test_the_capability_statement_says_who_may_write():
    statement = APIClient().get("/fhir/r4/metadata").json()
    [entry] = [
        r for rest in statement["rest"] for r in rest["resource"] if r["type"] == "Subscription"
    ]
    assert "org admin" in entry["documentation"]
