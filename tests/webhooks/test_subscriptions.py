"""FHIR Subscriptions (R5 backport on R4) at /fhir/r4/Subscription: create, read, search,
delete and $status with an organization's API key; what is refused and why (as
OperationOutcomes); and the id-only notifications a Task change posts to the subscriber's
endpoint (a real HTTP receiver on 127.0.0.1)."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from fhir.resources.R4B.bundle import Bundle
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from audit.models import AuditEvent
from interop.models import Delivery, Subscription
from interop.subscriptions import topic
from organizations.roles import Role

pytestmark = pytest.mark.django_db

FHIR = "application/fhir+json"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()
    yield
    cache.clear()


def key_client(org, role=Role.ORG_ADMIN) -> APIClient:
    _key, raw = api_key_create(organization=org, role=role, name="EHR FHIR client")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def subscription_body(endpoint: str, *, filters=(), content="id-only", **changes) -> dict:
    body = {
        "resourceType": "Subscription",
        "meta": {"profile": [topic.SUBSCRIPTION_PROFILE]},
        "status": "requested",
        "reason": "Tell the EHR when referral Tasks change",
        "criteria": topic.TOPIC_URL,
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": FHIR,
            "_payload": {"extension": [{"url": topic.PAYLOAD_CONTENT, "valueCode": content}]},
            "header": ["Authorization: Bearer ehr-secret-token"],
        },
    }
    if filters:
        body["_criteria"] = {
            "extension": [{"url": topic.FILTER_CRITERIA, "valueString": f} for f in filters]
        }
    body.update(changes)
    return body


def post(api: APIClient, body, **headers):
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    return api.post("/fhir/r4/Subscription", raw, content_type=FHIR, **headers)


def issues(response) -> list[dict]:
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome", outcome
    return outcome["issue"]


def test_create_read_search_status_and_delete(tenant, receiver, loopback_allowed):
    api = key_client(tenant.hco)
    body = subscription_body(
        receiver.url("/fhir-hook"), filters=[f"Task?requester=Organization/{tenant.hco.pk}"]
    )
    created = post(api, body)
    assert created.status_code == 201, created.content
    assert created["Content-Type"].startswith(FHIR)
    resource = created.json()
    subscription = Subscription.objects.get()
    assert created["Location"] == f"https://linkage.test/fhir/r4/Subscription/{subscription.pk}"
    assert resource["id"] == str(subscription.pk) and resource["status"] == "active"
    assert resource["criteria"] == topic.TOPIC_URL
    assert resource["_criteria"]["extension"][0]["valueString"] == (
        f"Task?requester=Organization/{tenant.hco.pk}"
    )
    assert resource["channel"]["_payload"]["extension"][0]["valueCode"] == "id-only"
    # The subscriber's credentials are kept to be sent, never shown back.
    assert resource["channel"]["header"] == ["Authorization: ***"]
    assert "ehr-secret-token" not in created.content.decode()
    assert subscription.organization == tenant.hco
    assert (subscription.match_owner, subscription.match_requester) == (False, True)
    assert AuditEvent.objects.filter(object_type="fhir_subscription", action="create").exists()

    read = api.get(f"/fhir/r4/Subscription/{subscription.pk}")
    assert read.status_code == 200 and read.json() == resource
    search = api.get("/fhir/r4/Subscription").json()
    assert search["type"] == "searchset" and search["total"] == 1
    status = api.get(f"/fhir/r4/Subscription/{subscription.pk}/$status").json()
    Bundle.model_validate(status)
    parameters = {p["name"]: p for p in status["entry"][0]["resource"]["parameter"]}
    assert parameters["type"]["valueCode"] == "query-status"
    assert parameters["status"]["valueCode"] == "active"
    assert parameters["events-since-subscription-start"]["valueString"] == "0"

    assert api.delete(f"/fhir/r4/Subscription/{subscription.pk}").status_code == 204
    gone = api.get(f"/fhir/r4/Subscription/{subscription.pk}")
    assert gone.status_code == 404 and issues(gone)[0]["code"] == "not-found"


def test_an_idempotent_retry_creates_one_subscription(tenant, receiver, loopback_allowed):
    api = key_client(tenant.hco)
    body = subscription_body(receiver.url())
    first = post(api, body, HTTP_IDEMPOTENCY_KEY="sub-1")
    again = post(api, body, HTTP_IDEMPOTENCY_KEY="sub-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "code", "expression", "words"),
    [
        (
            {"criteria": "Task?status=completed"},
            422,
            "not-supported",
            "Subscription.criteria",
            "offers one topic",
        ),
        (
            {
                "_criteria": {
                    "extension": [
                        {
                            "url": topic.FILTER_CRITERIA,
                            "valueString": "Task?owner=Organization/999999",
                        }
                    ]
                }
            },
            422,
            "not-supported",
            "Subscription.criteria.extension",
            "only to your own organization",
        ),
        (
            {
                "_criteria": {
                    "extension": [
                        {"url": topic.FILTER_CRITERIA, "valueString": "Task?patient=Patient/1"}
                    ]
                }
            },
            422,
            "not-supported",
            "Subscription.criteria.extension",
            "not offered",
        ),
        (
            {
                "_criteria": {
                    "extension": [
                        {"url": topic.FILTER_CRITERIA, "valueString": "Task?status=ready"}
                    ]
                }
            },
            422,
            "not-supported",
            "Subscription.criteria.extension",
            "referral Task statuses",
        ),
        ({"status": "off"}, 422, "value", "Subscription.status", "requested"),
        ({"end": "2001-01-01T00:00:00Z"}, 422, "invalid", "Subscription.end", "past"),
        ({"reason": None}, 400, "required", "Subscription.reason", "required"),
    ],
)
def test_what_is_refused_and_why(
    tenant, receiver, loopback_allowed, change, status, code, expression, words
):
    api = key_client(tenant.hco)
    body = {
        k: v for k, v in {**subscription_body(receiver.url()), **change}.items() if v is not None
    }
    response = post(api, body)
    assert response.status_code == status, response.content
    [issue] = issues(response)[:1]
    assert issue["code"] == code
    assert issue["expression"] == [expression]
    assert words in issue["diagnostics"]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("channel", "expression", "words"),
    [
        ({"type": "websocket"}, "Subscription.channel.type", "only rest-hook"),
        ({"payload": "application/fhir+xml"}, "Subscription.channel.payload", "sent as"),
        (
            {
                "_payload": {
                    "extension": [{"url": topic.PAYLOAD_CONTENT, "valueCode": "full-resource"}]
                }
            },
            "Subscription.channel.payload.extension",
            "use id-only",
        ),
        ({"header": ["X-Evil: a\r\nHost: b"]}, "Subscription.channel.header[0]", "line breaks"),
        ({"header": ["Host: elsewhere"]}, "Subscription.channel.header[0]", "sets Host itself"),
        ({"header": ["no colon here"]}, "Subscription.channel.header[0]", "Name: value"),
    ],
)
def test_channel_refusals(tenant, receiver, loopback_allowed, channel, expression, words):
    api = key_client(tenant.hco)
    body = subscription_body(receiver.url())
    body["channel"].update(channel)
    response = post(api, body)
    assert response.status_code == 422, response.content
    issue = issues(response)[0]
    assert issue["expression"] == [expression] and words in issue["diagnostics"]


def test_a_private_endpoint_is_refused_in_production_rules(tenant, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOK_REQUIRE_HTTPS = True
    api = key_client(tenant.hco)
    response = post(api, subscription_body("https://[::1]:8443/fhir-hook"))
    assert response.status_code == 422
    issue = issues(response)[0]
    assert issue["expression"] == ["Subscription.channel.endpoint"]
    assert "::1, a loopback address" in issue["diagnostics"]


def test_bad_bodies_get_an_operation_outcome(tenant):
    api = key_client(tenant.hco)
    assert issues(post(api, b"{not json"))[0]["code"] == "structure"
    assert post(api, {"resourceType": "Patient"}).status_code == 400
    plain = api.post("/fhir/r4/Subscription", "x", content_type="text/plain")
    assert plain.status_code == 415 and issues(plain)[0]["code"] == "not-supported"
    anonymous = APIClient().get("/fhir/r4/Subscription")
    assert anonymous.status_code == 401 and issues(anonymous)[0]["code"] == "login"


def test_another_organization_can_neither_read_nor_end_a_subscription(
    tenant, foreign_tenant, receiver, loopback_allowed
):
    own = key_client(tenant.hco)
    created = post(own, subscription_body(receiver.url())).json()
    for org in (foreign_tenant.hco, tenant.cbo):
        other = key_client(org)
        for path in (
            f"/fhir/r4/Subscription/{created['id']}",
            f"/fhir/r4/Subscription/{created['id']}/$status",
        ):
            response = other.get(path)
            assert response.status_code == 404 and receiver.url() not in response.content.decode()
        assert other.delete(f"/fhir/r4/Subscription/{created['id']}").status_code == 404
        assert other.get("/fhir/r4/Subscription").json()["total"] == 0
    assert Subscription.objects.filter(pk=created["id"]).exists()
    assert own.get("/fhir/r4/Subscription/not-a-number").status_code == 404


# --- notifications -------------------------------------------------------------------------


def test_a_task_change_posts_an_id_only_history_bundle(tenant, flow, receiver, loopback_allowed):
    api = key_client(tenant.hco)
    created = post(
        api,
        subscription_body(
            receiver.url("/fhir-hook"), filters=[f"Task?requester=Organization/{tenant.hco.pk}"]
        ),
    ).json()
    referral = flow.send()
    flow.move(referral, "accept")
    flow.note(referral, "notes do not notify the Task topic")
    posts = receiver.posts("/fhir-hook")
    assert len(posts) == 2
    first, second = (p.json() for p in posts)
    for p in posts:
        assert p.headers["content-type"].startswith(FHIR)
        assert p.headers["authorization"] == "Bearer ehr-secret-token"  # the channel's header
    for bundle in (first, second):
        Bundle.model_validate(bundle)  # a valid R4(B) Bundle
        assert bundle["type"] == "history"
        assert bundle["meta"]["profile"] == [topic.NOTIFICATION_PROFILE]
    status = second["entry"][0]["resource"]
    assert status["resourceType"] == "Parameters"
    assert status["meta"]["profile"] == [topic.STATUS_PROFILE]
    parameters = {p["name"]: p for p in status["parameter"]}
    subscription_url = f"https://linkage.test/fhir/r4/Subscription/{created['id']}"
    task_url = f"https://linkage.test/fhir/r4/Task/{referral.pk}"
    assert parameters["subscription"]["valueReference"]["reference"] == subscription_url
    assert parameters["topic"]["valueCanonical"] == topic.TOPIC_URL
    assert parameters["type"]["valueCode"] == "event-notification"
    assert parameters["events-since-subscription-start"]["valueString"] == "2"
    event = {p["name"]: p for p in parameters["notification-event"]["part"]}
    assert event["event-number"]["valueString"] == "2"
    assert event["focus"]["valueReference"]["reference"] == task_url
    # id-only: the Task by its fullUrl, without the resource.
    assert second["entry"][1] == {
        "fullUrl": task_url,
        "request": {"method": "PUT", "url": f"Task/{referral.pk}"},
        "response": {"status": "200"},
    }
    assert first["entry"][1]["request"] == {"method": "POST", "url": "Task"}
    assert tenant.client.family_name not in posts[0].body.decode()
    status_now = api.get(f"/fhir/r4/Subscription/{created['id']}/$status").json()
    counts = {p["name"]: p for p in status_now["entry"][0]["resource"]["parameter"]}
    assert counts["events-since-subscription-start"]["valueString"] == "2"


def test_filters_pick_the_side_and_the_statuses(tenant, flow, receiver, loopback_allowed):
    hco, cbo = key_client(tenant.hco), key_client(tenant.cbo)
    post(
        hco,
        subscription_body(
            receiver.url("/hco-owner"), filters=[f"Task?owner=Organization/{tenant.hco.pk}"]
        ),
    )
    post(
        hco,
        subscription_body(
            receiver.url("/hco-done"),
            filters=[f"Task?requester=Organization/{tenant.hco.pk}&status=completed,failed"],
        ),
    )
    post(cbo, subscription_body(receiver.url("/cbo-any"), content="empty"))
    referral = flow.send()
    flow.move(referral, "accept")
    flow.move(referral, "complete", outcome="need-met")
    assert receiver.posts("/hco-owner") == []  # the HCO owns none of these Tasks
    [done] = receiver.posts("/hco-done")
    event = done.json()["entry"][0]["resource"]["parameter"][-1]
    assert event["name"] == "notification-event"
    cbo_posts = receiver.posts("/cbo-any")
    assert len(cbo_posts) == 3
    # `empty` content: no focus, no Task entry.
    empty = cbo_posts[0].json()
    assert len(empty["entry"]) == 1
    parts = {p["name"] for p in empty["entry"][0]["resource"]["parameter"][-1]["part"]}
    assert parts == {"event-number", "timestamp"}


def test_a_failing_subscription_shows_error_and_recovers(tenant, flow, receiver, loopback_allowed):
    api = key_client(tenant.hco)
    created = post(api, subscription_body(receiver.url())).json()
    receiver.answer(500)
    flow.send()
    read = api.get(f"/fhir/r4/Subscription/{created['id']}").json()
    assert read["status"] == "error" and read["error"] == "HTTP 500 from the receiver."
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    from interop.webhooks.delivery import delivery_send

    assert flow.run(delivery_send, delivery_id=delivery.pk) == "succeeded"
    assert api.get(f"/fhir/r4/Subscription/{created['id']}").json()["status"] == "active"
