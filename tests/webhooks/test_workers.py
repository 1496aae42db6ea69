"""Webhooks with real Celery workers and a real HTTP receiver on 127.0.0.1:

- a referral change reaches the receiver, and the signature checks out by README's recipe;
- a 500 is retried after the backoff (an ETA the worker honours), then the 200 delivers;
- the same delivery task run many times at once (and again afterwards) posts once;
- an endpoint failing on and on is disabled, and its admin is told by email;
- a message the broker lost is queued again by the sweep (the database is the truth).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from interop.models import Delivery, DeliveryAttempt, WebhookEndpoint
from interop.tasks import deliver_webhook
from interop.webhooks.services import webhook_endpoint_create
from interop.webhooks.sweep import deliveries_sweep
from referrals.models import Notification
from referrals.services import referral_transition
from tests.factories import referral_for
from tests.reminders.mailsink import sent_messages

from .receiver import verify_signature, wait_for
from .workers import logs, start_worker, stop

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _endpoint(tenant, receiver, **fields) -> WebhookEndpoint:
    return webhook_endpoint_create(
        organization=tenant.hco, actor=tenant.hco_admin, name="EHR", url=receiver.url(), **fields
    )


def _succeeded(count: int = 1):
    return lambda: Delivery.objects.filter(state="succeeded").count() >= count


def test_a_change_reaches_the_receiver_signed(tenant, receiver, outbound, queue, sink, tmp_path):
    endpoint = _endpoint(tenant, receiver)
    worker = start_worker(tmp_path, queue, sink, "w")
    try:
        referral = referral_for(tenant)  # committed: announced, fanned out, queued
        referral_transition(
            referral_id=referral.pk, move="accept", actor=tenant.cbo_staff, organization=tenant.cbo
        )
        assert wait_for(_succeeded(2), timeout=60), logs(tmp_path)
    finally:
        stop(worker)
    posts = receiver.posts()
    assert [p.json()["referral"]["status"] for p in posts] == ["requested", "accepted"]
    for p in posts:
        assert verify_signature(endpoint.secret, p.headers["x-linkage-signature"], p.body)
    assert DeliveryAttempt.objects.filter(outcome="succeeded").count() == 2


def test_a_500_is_retried_after_the_backoff_then_delivered(
    tenant, receiver, outbound, queue, sink, tmp_path
):
    _endpoint(tenant, receiver)
    receiver.answer(500)
    worker = start_worker(tmp_path, queue, sink, "w")
    try:
        referral_for(tenant)
        assert wait_for(_succeeded(), timeout=60), logs(tmp_path)
    finally:
        stop(worker)
    first, second = receiver.posts()
    assert first.body == second.body
    # The worker waited for the backoff (WEBHOOK_RETRY_BASE_SECONDS=0.5) before retrying.
    assert second.at - first.at >= 0.45
    delivery = Delivery.objects.get()
    assert [(a.number, a.status_code, a.outcome) for a in delivery.attempts.order_by("number")] == [
        (1, 500, "retry"),
        (2, 200, "succeeded"),
    ]


def test_a_delivery_task_run_many_times_posts_once(
    tenant, receiver, outbound, queue, sink, tmp_path
):
    _endpoint(tenant, receiver)
    receiver.gate = threading.Event()  # the first POST is held until the others have run
    worker = start_worker(tmp_path, queue, sink, "w", "--pool=threads", "--concurrency=4")
    try:
        referral_for(tenant)
        assert wait_for(receiver.entered.is_set, timeout=60), logs(tmp_path)
        delivery = Delivery.objects.get()
        for _ in range(5):  # duplicates while it is being sent
            deliver_webhook.delay(delivery.pk)
        skipped = lambda n: lambda: logs(tmp_path).count("'skipped'") >= n  # noqa: E731
        assert wait_for(skipped(5), timeout=60), logs(tmp_path)
        receiver.gate.set()
        assert wait_for(_succeeded(), timeout=60), logs(tmp_path)
        for _ in range(3):  # and after it was delivered
            deliver_webhook.delay(delivery.pk)
        assert wait_for(skipped(8), timeout=60), logs(tmp_path)
    finally:
        stop(worker)
    assert len(receiver.posts()) == 1
    assert DeliveryAttempt.objects.count() == 1


def test_an_endpoint_failing_on_and_on_is_disabled_and_its_admin_emailed(
    tenant, receiver, outbound, queue, sink, tmp_path
):
    endpoint = _endpoint(tenant, receiver)
    receiver.default_status = 503
    worker = start_worker(
        tmp_path,
        queue,
        sink,
        "w",
        WEBHOOK_RETRY_BASE_SECONDS="0.1",
        WEBHOOK_DISABLE_AFTER_FAILURES="3",
        WEBHOOK_DISABLE_AFTER_HOURS="0",
    )
    try:
        referral_for(tenant)

        def emailed():
            told = Notification.objects.filter(kind="webhook_disabled").first()
            return told is not None and any(
                m.get("X-Linkage-Notification") == str(told.pk) for m in sent_messages(sink)
            )

        assert wait_for(emailed, timeout=90), logs(tmp_path)
    finally:
        stop(worker)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.consecutive_failures == 3
    assert len(receiver.posts()) == 3
    assert Delivery.objects.get().state == "cancelled"
    [told] = Notification.objects.filter(kind="webhook_disabled")
    assert told.user_id == tenant.hco_admin.pk
    [mail] = [m for m in sent_messages(sink) if m["X-Linkage-Notification"] == str(told.pk)]
    assert mail["To"] == tenant.hco_admin.email


def test_a_lost_message_is_queued_again_by_the_sweep(
    tenant, receiver, outbound, queue, sink, tmp_path
):
    from config.celery import app as celery_app

    _endpoint(tenant, receiver)
    referral_for(tenant)  # queued with no worker listening ...
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)  # ... and the message is lost
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.queued_at is not None
    worker = start_worker(tmp_path, queue, sink, "w")
    try:
        # Not yet overdue: the sweep leaves it (its message may still be on its way).
        assert deliveries_sweep().requeued == 0
        result = deliveries_sweep(now=timezone.now() + timedelta(minutes=5))
        assert result.requeued == 1
        assert wait_for(_succeeded(), timeout=60), logs(tmp_path)
    finally:
        stop(worker)
    assert len(receiver.posts()) == 1
