"""Webhook delivery in this process (Celery eager) against a real HTTP receiver on
127.0.0.1: what is sent and signed, repeats, retries with backoff (a frozen clock moved
by hand), giving up, and disabling an endpoint after sustained failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from interop.models import Delivery, DeliveryAttempt, WebhookEndpoint
from interop.webhooks import delivery as sending
from interop.webhooks.fanout import deliveries_for_change
from interop.webhooks.signing import HEADER, verify
from organizations.roles import Role
from referrals import events
from referrals.models import Notification
from tests.factories import ClientFactory, member, release_for

from .receiver import verify_signature

pytestmark = pytest.mark.django_db

START = "2031-05-05 09:00:00-05:00"


def test_a_status_change_is_posted_signed_with_ids_and_statuses_only(
    tenant, flow, make_endpoint, receiver
):
    endpoint = make_endpoint(tenant.hco, actor=tenant.hco_admin)
    referral = flow.send()
    flow.move(referral, "accept")

    posts = receiver.posts()
    assert [p.json()["referral"]["status"] for p in posts] == ["requested", "accepted"]
    accepted = posts[1]
    # The receiver's own check, as README writes it, passes; a wrong secret does not.
    header = accepted.headers[HEADER.lower()]
    assert verify_signature(endpoint.secret, header, accepted.body)
    assert not verify_signature("whsec_wrong", header, accepted.body)
    assert verify(endpoint.secret, header, accepted.body)
    assert accepted.headers["content-type"] == "application/json"
    assert accepted.headers["x-linkage-event"] == "referral.status_changed"
    body = accepted.json()
    assert body["type"] == "referral.status_changed"
    assert body["organization"] == tenant.hco.pk
    assert body["referral"] == {
        "id": referral.pk,
        "status": "accepted",
        "previous_status": "requested",
        "business_status": "",
        "outcome": None,
        "decline_reason": None,
        "client": tenant.client.pk,
        "program": referral.program_id,
        "sender_organization": tenant.hco.pk,
        "receiver_organization": tenant.cbo.pk,
        "part_of": None,
        "api_url": f"https://linkage.test/api/v1/referrals/{referral.pk}/",
        "fhir_task_url": f"https://linkage.test/fhir/r4/Task/{referral.pk}",
    }
    # Never who the client is.
    text = accepted.body.decode()
    for secret in (tenant.client.given_name, tenant.client.family_name, tenant.client.email):
        assert secret not in text
    # The delivery log: two deliveries, one successful attempt each.
    attempts = DeliveryAttempt.objects.filter(delivery__endpoint=endpoint)
    assert [(a.number, a.status_code, a.outcome) for a in attempts] == [
        (1, 200, "succeeded"),
        (1, 200, "succeeded"),
    ]
    assert all(a.duration_ms is not None for a in attempts)
    endpoint.refresh_from_db()
    assert endpoint.last_success_at is not None and endpoint.consecutive_failures == 0
    # The data left Linkage for the organization's system: recorded like any export.
    export = AuditEvent.objects.filter(action="export", object_type="referral").first()
    assert export.organization_id == tenant.hco.pk and export.object_ids == [referral.pk]
    assert export.detail["channel"] == "webhook"


def test_both_parties_get_their_own_event_and_others_get_nothing(
    tenant, foreign_tenant, flow, make_endpoint, receiver
):
    make_endpoint(tenant.hco, path="/hco")
    make_endpoint(tenant.cbo, path="/cbo")
    make_endpoint(foreign_tenant.hco, path="/foreign")
    referral = flow.send()
    flow.move(referral, "accept")
    assert [p.json()["referral"]["status"] for p in receiver.posts("/hco")] == [
        "requested",
        "accepted",
    ]
    cbo = receiver.posts("/cbo")
    assert [p.json()["organization"] for p in cbo] == [tenant.cbo.pk, tenant.cbo.pk]
    assert receiver.posts("/foreign") == []


def test_notes_are_sent_to_endpoints_that_chose_them_without_the_text(
    tenant, flow, make_endpoint, receiver
):
    make_endpoint(tenant.hco, path="/all")
    make_endpoint(tenant.hco, path="/status-only", sends_notes=False)
    referral = flow.send()
    note = flow.note(referral, "Client prefers calls after 5pm, ask for Maria", by_sender=False)
    notes = [p.json() for p in receiver.posts("/all") if p.json()["type"] == "referral.note_added"]
    assert len(notes) == 1
    assert notes[0]["note"] == {
        "id": note.pk,
        "organization": tenant.cbo.pk,
        "created_at": notes[0]["note"]["created_at"],
    }
    assert "Maria" not in str(notes[0])
    assert [p.json()["type"] for p in receiver.posts("/status-only")] == ["referral.status_changed"]


def test_announcing_a_change_again_makes_no_second_delivery(
    tenant, flow, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(tenant.hco)
    referral = flow.send()
    event_id = referral.events.order_by("-id").first().pk
    with django_capture_on_commit_callbacks(execute=True):
        again = deliveries_for_change(change=events.STATUS, object_id=event_id)
    assert again == []
    assert Delivery.objects.count() == 1 and len(receiver.posts()) == 1
    # Sending a delivered delivery again is skipped: the claim finds nothing to take.
    delivery = Delivery.objects.get()
    assert sending.delivery_send(delivery_id=delivery.pk) == sending.SKIPPED
    assert len(receiver.posts()) == 1


def test_endpoints_registered_after_the_event_and_disabled_ones_get_nothing(
    tenant, flow, make_endpoint, receiver, django_capture_on_commit_callbacks
):
    referral = flow.send()
    make_endpoint(tenant.hco, path="/late")
    disabled = make_endpoint(tenant.hco, path="/off")
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(is_active=False)
    event_id = referral.events.order_by("-id").first().pk
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_for_change(change=events.STATUS, object_id=event_id) == []
    flow.move(referral, "accept")
    assert [p.path for p in receiver.posts()] == ["/late"]


def test_the_fhir_task_goes_along_when_chosen_and_consent_allows(
    tenant, flow, make_endpoint, receiver
):
    pytest.importorskip("interop.fhir.render")
    make_endpoint(tenant.hco, path="/hco", include_fhir_task=True)
    make_endpoint(tenant.cbo, path="/cbo", include_fhir_task=True)
    referral = flow.send()
    flow.move(referral, "accept")
    flow.move(referral, "complete", outcome="need-met", outcome_note="Gave two boxes")
    completed = receiver.posts("/hco")[-1].json()
    assert completed["referral"]["outcome"] == "need-met"
    task = completed["fhir_task"]
    assert task["resourceType"] == "Task" and task["id"] == str(referral.pk)
    assert task["status"] == "completed"
    assert task["owner"]["reference"].endswith(f"Organization/{tenant.cbo.pk}")
    assert tenant.client.family_name not in str(task)  # the Task does not name the client
    # The CBO's release covers referral details (tenant fixture): it gets the Task too.
    assert receiver.posts("/cbo")[-1].json()["fhir_task"]["status"] == "completed"


def test_without_a_release_for_referral_details_the_receiver_gets_ids_and_status_only(
    tenant, flow, make_endpoint, receiver
):
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(
        client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    make_endpoint(tenant.cbo, include_fhir_task=True)
    referral = flow.send(client=client)
    flow.move(referral, "accept")
    # The release is narrowed to demographics and needs: no referral details for the CBO.
    client.releases.update(covers_referrals=False)
    flow.move(referral, "complete", outcome="need-met")
    last = receiver.posts()[-1].json()
    assert last["referral"]["status"] == "completed"
    # The outcome is the CBO's own record (provenance); the sender's details are not.
    assert last["referral"]["outcome"] == "need-met"
    assert "fhir_task" not in last


def test_a_decline_carries_its_coded_reason_to_the_sender_only_while_details_are_shared(
    tenant, flow, make_endpoint, receiver
):
    make_endpoint(tenant.hco)
    referral = flow.send()
    flow.move(referral, "reject", decline_reason="no-capacity", reason="Fund is empty")
    declined = receiver.posts()[-1].json()["referral"]
    assert declined["status"] == "rejected"
    assert declined["decline_reason"] == "no-capacity"
    assert b"Fund is empty" not in receiver.posts()[-1].body  # free text stays out
    # Other moves carry no decline reason.
    assert receiver.posts()[0].json()["referral"]["decline_reason"] is None


# --- retries -------------------------------------------------------------------------------


@pytest.fixture
def fast_retries(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS = 600
    settings.WEBHOOK_RETRY_WINDOW_HOURS = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 20
    return settings


def test_a_500_is_retried_after_the_backoff_and_then_delivered(
    tenant, flow, make_endpoint, receiver, fast_retries
):
    with time_machine.travel(START, tick=False) as clock:
        endpoint = make_endpoint(tenant.hco)
        receiver.answer(500)
        referral = flow.send()
        delivery = Delivery.objects.get(referral=referral)
        assert delivery.state == "pending" and delivery.attempt_count == 1
        assert delivery.next_attempt_at == timezone.now() + timedelta(seconds=60)
        assert delivery.last_status_code == 500
        # Not due yet: a task arriving now (a duplicate message) claims nothing.
        assert sending.delivery_send(delivery_id=delivery.pk) == sending.SKIPPED
        clock.shift(timedelta(seconds=61))
        assert flow.run(sending.delivery_send, delivery_id=delivery.pk) == "succeeded"
    posts = receiver.posts()
    assert len(posts) == 2
    # The same event and body both times, each signed afresh.
    assert posts[0].body == posts[1].body
    assert posts[0].headers["x-linkage-delivery"] == posts[1].headers["x-linkage-delivery"]
    assert all(verify(endpoint.secret, p.headers[HEADER.lower()], p.body, now=p.at) for p in posts)
    attempts = list(delivery.attempts.order_by("number"))
    assert [(a.status_code, a.outcome) for a in attempts] == [(500, "retry"), (200, "succeeded")]
    assert attempts[0].error == "HTTP 500 from the receiver."
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.failing_since is None


def test_backoff_doubles_up_to_its_cap_and_gives_up_after_the_window(
    tenant, flow, make_endpoint, receiver, fast_retries
):
    receiver.default_status = 503
    with time_machine.travel(START, tick=False) as clock:
        make_endpoint(tenant.hco)
        referral = flow.send()
        delivery = Delivery.objects.get(referral=referral)
        delays = []
        while True:
            delivery.refresh_from_db()
            if delivery.state != "pending":
                break
            delays.append((delivery.next_attempt_at - timezone.now()).total_seconds())
            clock.move_to(delivery.next_attempt_at)
            flow.run(sending.delivery_send, delivery_id=delivery.pk)
    # 60, 120, 240, 480, then the 600 s cap, until the next would fall past the hour
    # (attempts at 0, 1, 3, 7, 15, 25, 35, 45 and 55 minutes).
    assert delays == [60, 120, 240, 480, 600, 600, 600, 600]
    assert delivery.state == "failed" and delivery.attempt_count == 9
    assert "Gave up after 9 attempts" in delivery.last_error
    assert len(receiver.posts()) == 9


def test_a_429_waits_as_long_as_the_receiver_asks_within_the_cap(fast_retries):
    assert sending.retry_delay(1) == 60
    assert sending.retry_delay(1, retry_after=300) == 300
    assert sending.retry_delay(1, retry_after=99999) == 600
    assert sending.retry_delay(10) == 600


def test_a_4xx_answer_fails_at_once_without_retries(tenant, flow, make_endpoint, receiver):
    make_endpoint(tenant.hco)
    receiver.answer(410)
    flow.send()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and delivery.attempt_count == 1
    assert delivery.last_error == "HTTP 410: the receiver refused the event."
    assert len(receiver.posts()) == 1


def test_a_refused_connection_is_retried(tenant, flow, make_endpoint, receiver):
    endpoint = make_endpoint(tenant.hco)
    # Nobody listens on the port any more.
    receiver.server.server_close()
    receiver.server.shutdown()
    flow.send()
    delivery = Delivery.objects.get()
    assert delivery.state == "pending"
    assert delivery.attempts.get().error == "Could not connect (connection refused)."
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


# --- sustained failure ---------------------------------------------------------------------


def test_an_endpoint_failing_long_enough_is_disabled_and_its_admins_told(
    tenant, flow, make_endpoint, receiver, settings, fast_retries
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 24
    settings.WEBHOOK_RETRY_WINDOW_HOURS = 48
    settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS = 86400
    receiver.default_status = 500
    second_admin = member(tenant.hco, Role.ORG_ADMIN, email="second-admin@webhooks.test")
    from apikeys.services import api_key_create

    api_key_create(organization=tenant.hco, role=Role.ORG_ADMIN, name="EHR key")
    with time_machine.travel(START, tick=False) as clock:
        endpoint = make_endpoint(tenant.hco, actor=tenant.hco_admin)
        referral = flow.send()
        delivery = Delivery.objects.get(referral=referral)
        for _ in range(2):
            clock.move_to(delivery.next_attempt_at)
            flow.run(sending.delivery_send, delivery_id=delivery.pk)
            delivery.refresh_from_db()
        flow.note(referral, "one more event, waiting")
        waiting = Delivery.objects.get(event_type="referral.note_added")
        assert waiting.state == "pending"  # its first attempt failed too
        # Four failures in a row, but within minutes: not yet "sustained".
        endpoint.refresh_from_db()
        assert endpoint.is_active and endpoint.consecutive_failures == 4
        clock.shift(timedelta(hours=25))
        flow.run(sending.delivery_send, delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "failed attempts in a row over 25 hours" in endpoint.disabled_reason
    waiting.refresh_from_db()
    assert waiting.state == "cancelled"
    # The admins (people, not the API key's user) are told, in the app and by email.
    told = Notification.objects.filter(kind="webhook_disabled")
    assert {n.user_id for n in told} == {tenant.hco_admin.pk, second_admin.pk}
    assert "was switched off" in told[0].message
    assert f"/integrations/webhooks/{endpoint.pk}/deliveries/" in told[0].message
    assert all(n.emailed_at is not None for n in told)
    from django.core import mail

    assert {m.to[0] for m in mail.outbox if "switched off" in m.subject} == {
        tenant.hco_admin.email,
        second_admin.email,
    }
    # Nothing more is made for it.
    posts = len(receiver.posts())
    flow.move(referral, "accept")
    assert Delivery.objects.filter(endpoint=endpoint, event_key__startswith="status").count() == 1
    assert len(receiver.posts()) == posts


def test_a_cancelled_delivery_is_not_sent(tenant, flow, make_endpoint, receiver):
    endpoint = make_endpoint(tenant.hco)
    receiver.answer(500)
    flow.send()
    delivery = Delivery.objects.get()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert sending.delivery_send(delivery_id=delivery.pk) == "cancelled"
    delivery.refresh_from_db()
    assert delivery.state == "cancelled" and delivery.attempt_count == 1
    assert len(receiver.posts()) == 1


def test_routing_through_the_backbone_is_announced_to_the_clinic_and_the_program(
    tenant, flow, make_endpoint, receiver
):
    from tests.referrals.coordination_support import hub, route, send_to_hub

    h = hub(tenant)
    make_endpoint(tenant.hco, path="/clinic")
    make_endpoint(tenant.cbo, path="/pantry")
    whole = flow.run(send_to_hub, h)
    part = flow.run(route, h, whole)

    clinic = [p.json()["referral"] for p in receiver.posts("/clinic")]
    # Sent, accepted by the backbone, then routed: the clinic's system sees each step.
    assert [(r["id"], r["status"], r["business_status"]) for r in clinic] == [
        (whole.pk, "requested", ""),
        (whole.pk, "accepted", ""),
        (whole.pk, "accepted", "routed"),
    ]
    # The program hears of its own referral, which names the one it fulfils.
    pantry = [p.json()["referral"] for p in receiver.posts("/pantry")]
    assert [(r["id"], r["status"], r["part_of"]) for r in pantry] == [
        (part.pk, "requested", whole.pk)
    ]
    flow.move(part, "accept")
    flow.move(part, "start")
    # The program starting work moves the clinic's referral too.
    assert receiver.posts("/clinic")[-1].json()["referral"]["status"] == "in-progress"
