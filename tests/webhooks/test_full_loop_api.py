"""The closed loop by API only (issue 7, acceptance): an EHR's key creates a patient, a
release, a screening and a referral over /api/v1/; a CBO's key accepts and completes it;
the EHR's receiver — a real HTTP server on loopback — is told of each change by a real
Celery worker, as signed webhook events (checked with README's recipe) and as FHIR
subscription notifications; finally the referral's FHIR Task reads completed with the
outcome.

The EHR's admin registers the webhook in the browser (that is where Linkage offers it);
everything the systems do after that goes through the APIs."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from interop.models import Delivery
from interop.subscriptions import topic
from organizations.roles import Role
from tests.factories import AHC_NEGATIVE, ProgramFactory, instrument

from .receiver import verify_signature, wait_for
from .workers import logs, start_worker, stop

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FHIR = "application/fhir+json"


def key_client(org, role) -> APIClient:
    _key, raw = api_key_create(organization=org, role=role, name=f"{org.name} system")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.content[:2000]
    return response.json() if response.content else {}


def post(api, path, body, status=201) -> dict:
    # Every POST carries an Idempotency-Key, as an integration should send it.
    return ok(api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())), status)


def test_the_loop_closes_by_api_with_signed_webhooks_and_fhir_notifications(
    client, login, tenant, receiver, outbound, queue, sink, tmp_path
):
    cache.clear()  # throttle counts
    instrument()
    pantry = ProgramFactory(organization=tenant.cbo, name="Weekly groceries")

    # The EHR's admin registers its receiver once, in the browser; the secret is shown once.
    login(tenant.hco_admin)
    registered = client.post(
        reverse("webhook_new"),
        {
            "name": "EHR production",
            "url": receiver.url("/linkage-events"),
            "sends_status_changes": "on",
            "sends_notes": "on",
        },
    )
    assert registered.status_code == 302
    page = client.get(registered["Location"]).content.decode()
    secret = re.search(r'data-testid="webhook-secret">(whsec_[\w-]+)<', page).group(1)

    # An org admin's key: setting up the FHIR subscription below is an admin's, as webhooks are.
    ehr = key_client(tenant.hco, Role.ORG_ADMIN)
    cbo = key_client(tenant.cbo, Role.STAFF)
    # The EHR also subscribes over FHIR to the Tasks it requests (id-only notifications).
    subscription = ehr.post(
        "/fhir/r4/Subscription",
        json.dumps(
            {
                "resourceType": "Subscription",
                "status": "requested",
                "reason": "Referral status back to the chart",
                "criteria": topic.TOPIC_URL,
                "_criteria": {
                    "extension": [
                        {
                            "url": topic.FILTER_CRITERIA,
                            "valueString": f"Task?requester=Organization/{tenant.hco.pk}",
                        }
                    ]
                },
                "channel": {
                    "type": "rest-hook",
                    "endpoint": receiver.url("/fhir-notifications"),
                    "payload": FHIR,
                    "_payload": {
                        "extension": [{"url": topic.PAYLOAD_CONTENT, "valueCode": "id-only"}]
                    },
                    "header": ["Authorization: Bearer ehr-inbound-token"],
                },
            }
        ),
        content_type=FHIR,
    )
    assert subscription.status_code == 201, subscription.content

    worker = start_worker(tmp_path, queue, sink, "w")
    try:
        # The EHR: patient, release, screening, referral.
        patient = post(
            ehr,
            "/api/v1/clients/",
            {
                "given_name": "Ofelia",
                "family_name": "Brightwater",
                "date_of_birth": "1975-03-14",
                "phone": "(312) 555-0142",
                "zip_code": "60615",
            },
        )
        post(
            ehr,
            "/api/v1/releases/",
            {
                "client": patient["id"],
                "recipients": [tenant.cbo.pk],
                "categories": ["demographics", "social_needs", "referrals"],
                "purpose": "care_coordination",
                "method": "verbal",
                "verbal_witness_name": "Dana Witness",
            },
        )
        answers = {**AHC_NEGATIVE, "123821": ("LA28397-0",)}  # food: "often true"
        screening = post(
            ehr,
            "/api/v1/assessments/",
            {
                "client": patient["id"],
                "instrument": "ahc-hrsn-core",
                "mode": "in_person",
                "answers": [{"link_id": k, "codes": list(v)} for k, v in answers.items()],
            },
        )
        food = next(d for d in screening["domains"] if d["category"] == "food-insecurity")
        assert food["status"] == "positive", screening["domains"]
        referral = post(
            ehr,
            "/api/v1/referrals/",
            {
                "client": patient["id"],
                "program": pantry.pk,
                "needs": ["food-insecurity"],
                "reason": "Positive food screen today",
            },
        )
        rid = referral["id"]
        # The CBO: accept, a note, start, complete with the outcome.
        assert post(cbo, f"/api/v1/referrals/{rid}/accept/", {}, 200)["status"] == "accepted"
        post(cbo, f"/api/v1/referrals/{rid}/notes/", {"body": "Called, pickup Thursday"})
        assert post(cbo, f"/api/v1/referrals/{rid}/start/", {}, 200)["status"] == "in-progress"
        done = post(
            cbo,
            f"/api/v1/referrals/{rid}/complete/",
            {"outcome": "need-met", "outcome_note": "Two weeks of groceries"},
            200,
        )
        assert done["status"] == "completed"

        def all_delivered():
            return (
                len(receiver.posts("/linkage-events")) >= 5
                and len(receiver.posts("/fhir-notifications")) >= 4
                and not Delivery.objects.exclude(state="succeeded").exists()
            )

        assert wait_for(all_delivered, timeout=90), logs(tmp_path)
    finally:
        stop(worker)

    # Each change reached the EHR once, signed with its secret.
    events = receiver.posts("/linkage-events")
    assert [(e.json()["type"], e.json()["referral"]["status"]) for e in events] == [
        ("referral.status_changed", "requested"),
        ("referral.status_changed", "accepted"),
        ("referral.note_added", "accepted"),
        ("referral.status_changed", "in-progress"),
        ("referral.status_changed", "completed"),
    ]
    for event in events:
        assert verify_signature(secret, event.headers["x-linkage-signature"], event.body)
        assert "Brightwater" not in event.body.decode() and "pickup" not in event.body.decode()
    assert events[-1].json()["referral"]["outcome"] == "need-met"
    assert {e.json()["referral"]["id"] for e in events} == {rid}

    # The FHIR notifications name the Task; the EHR reads it and sees the loop closed.
    notifications = receiver.posts("/fhir-notifications")
    assert len(notifications) == 4
    assert all(n.headers["authorization"] == "Bearer ehr-inbound-token" for n in notifications)
    last = notifications[-1].json()
    status = {p["name"]: p for p in last["entry"][0]["resource"]["parameter"]}
    assert status["events-since-subscription-start"]["valueString"] == "4"
    task_url = last["entry"][1]["fullUrl"]
    assert task_url == f"https://linkage.test/fhir/r4/Task/{rid}"
    task = ehr.get(f"/fhir/r4/Task/{rid}", HTTP_ACCEPT=FHIR)
    assert task.status_code == 200, task.content[:2000]
    task = task.json()
    assert task["resourceType"] == "Task" and task["status"] == "completed"
    [output] = task["output"]
    assert output["valueReference"]["reference"].endswith(f"Procedure/{rid}")
    # The outcome itself, as the REST API reads it back.
    assert ok(ehr.get(f"/api/v1/referrals/{rid}/"))["outcome"] == "need-met"
