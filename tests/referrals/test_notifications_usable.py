"""Issue 17, point 7: notifications people can use. The list names the client where the
reader's organization may see the name (the messages themselves, emailed too, never do);
each person is told once per event, whatever roles they hold; acting on a referral marks
its notifications read."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from audit.models import AuditEvent
from referrals.models import Notification

from .workflow_support import make_lead_navigator, parties, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tenant):
    return parties(tenant)


def names_on_the_list(http) -> list[str]:
    page = http.get("/notifications/").content.decode()
    return re.findall(r'data-testid="notification-client">· ([^<]+)<', page)


def test_the_list_names_the_client_only_where_the_reader_may_see_the_name(client, login, tenant, p):
    referral = send(p)
    # The CBO's staff are told; the release names the CBO: the name is shown and audited.
    login(p.receiver)
    assert names_on_the_list(client) == [tenant.client.display_name]
    event = AuditEvent.objects.filter(actor=p.receiver, action=AuditEvent.Action.LIST).latest("pk")
    assert event.object_type == "referral" and referral.pk in event.object_ids
    # The message itself never names the client.
    assert all(tenant.client.family_name not in n.message for n in Notification.objects.all())

    # Once the release is revoked, the same notification shows no name.
    tenant.release.revoked_at = tenant.release.effective_at
    tenant.release.save(update_fields=["revoked_at"])
    assert names_on_the_list(client) == []


def test_one_notification_per_event_per_person(tenant, p):
    # The sender is also the client's lead navigator, and a member told as "everyone at
    # the receiver" — still one notification per event.
    make_lead_navigator(tenant.client, p.sender)
    referral = send(p)
    per_person: dict[tuple[int, str], int] = {}
    for n in Notification.objects.filter(referral=referral):
        per_person[(n.user_id, n.kind)] = per_person.get((n.user_id, n.kind), 0) + 1
    assert per_person and set(per_person.values()) == {1}


def test_acting_on_a_referral_marks_its_notifications_read(client, login, tenant, p):
    referral = send(p)
    login(p.receiver)
    mine = Notification.objects.get(user=p.receiver, referral=referral)
    colleague = Notification.objects.get(user=p.receiver_colleague, referral=referral)
    assert mine.read_at is None
    response = client.post(
        f"/referrals/{referral.pk}/move/",
        {"move": "accept", "expected_status": "requested", "assign_to_me": "on"},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    colleague.refresh_from_db()
    assert mine.read_at is not None  # the one who acted saw it
    assert colleague.read_at is None  # nobody else's is touched

    # A note from the sender: its author's notifications of the accept are read too.
    sender = HttpClient()
    login(p.sender, sender)
    told = Notification.objects.filter(user=p.sender, referral=referral, read_at__isnull=True)
    assert told.exists()
    sender.post(f"/referrals/{referral.pk}/notes/", {"body": "Thank you"})
    assert not told.exists()
