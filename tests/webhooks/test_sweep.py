"""The sweep: the database is the truth, the broker only a means of being quick. What a
lost message, a dead worker or a crash between a commit and its announcement left
undone is found and done; finished deliveries are pruned after the retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from interop.models import Delivery, DeliveryAttempt
from interop.webhooks.sweep import deliveries_sweep
from tests.factories import referral_for

pytestmark = pytest.mark.django_db

START = "2031-05-05 09:00:00-05:00"


def test_a_long_backoff_is_left_to_the_sweep_and_sent_when_due(
    tenant, flow, make_endpoint, receiver, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 3600  # an hour: no message waits that long
    with time_machine.travel(START, tick=False) as clock:
        make_endpoint(tenant.hco)
        receiver.answer(500)
        flow.send()
        delivery = Delivery.objects.get()
        queued_first = delivery.queued_at
        assert delivery.state == "pending" and queued_first == timezone.now()
        clock.shift(timedelta(minutes=30))
        assert flow.run(deliveries_sweep).requeued == 0  # not due
        clock.shift(timedelta(minutes=32))
        assert flow.run(deliveries_sweep).requeued == 1
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.queued_at > queued_first
    assert len(receiver.posts()) == 2


def test_a_change_whose_announcement_was_lost_is_announced_by_the_sweep(
    tenant, flow, make_endpoint, receiver
):
    make_endpoint(tenant.hco)
    referral_for(tenant)  # committed, but the after-commit work never ran (a crash)
    assert not Delivery.objects.exists()
    result = flow.run(deliveries_sweep)
    assert result.announced == 1
    assert Delivery.objects.get().state == "succeeded" and len(receiver.posts()) == 1
    assert flow.run(deliveries_sweep).announced == 0  # once only


def test_a_delivery_left_by_a_dead_worker_is_taken_over_after_its_lease(
    tenant, flow, make_endpoint, receiver
):
    make_endpoint(tenant.hco)
    receiver.answer(500)
    flow.send()
    delivery = Delivery.objects.get()
    # A worker claimed it and died mid-request: `sending`, lease running.
    Delivery.objects.filter(pk=delivery.pk).update(
        state="sending",
        claim_token="dead-worker",
        lease_until=timezone.now() + timedelta(seconds=30),
        next_attempt_at=timezone.now(),
    )
    assert flow.run(deliveries_sweep).reclaimed == 0
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now())
    assert flow.run(deliveries_sweep).reclaimed == 1
    delivery.refresh_from_db()
    assert delivery.state == "succeeded" and delivery.claim_token == ""
    assert len(receiver.posts()) == 2  # at least once: the dead worker's attempt may have landed


def test_finished_deliveries_are_pruned_after_the_retention(
    tenant, flow, make_endpoint, receiver, settings
):
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    make_endpoint(tenant.hco)
    referral = flow.send()
    flow.move(referral, "accept")
    old, recent = Delivery.objects.order_by("pk")
    Delivery.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))
    assert deliveries_sweep().pruned >= 2  # the delivery and its attempt
    assert list(Delivery.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not DeliveryAttempt.objects.filter(delivery_id=old.pk).exists()
