"""The referrals section of a client's profile (as far as releases allow) and the
notifications: the bell's unread count, the list, mark read and mark all read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from audit.models import AuditEvent
from referrals.models import Notification
from tests.factories import (
    OrganizationFactory,
    PartnershipFactory,
    ProgramFactory,
    ReferralFactory,
    member,
    referral_for,
    release_for,
)

pytestmark = pytest.mark.django_db


def body_of(response) -> str:
    return response.content.decode()


def profile_rows(response) -> set[int]:
    return {
        int(i)
        for i in re.findall(
            r'data-testid="client-referral" data-referral-id="(\d+)"', body_of(response)
        )
    }


@pytest.fixture
def network_referrals(tenant):
    """The tenant's client referred by the HCO to the CBO, and by the CBO on to a shelter."""
    shelter = OrganizationFactory(network=tenant.network, name="Quayside Shelter")
    first = referral_for(tenant)
    onward = ReferralFactory(
        client=tenant.client,
        program=ProgramFactory(organization=shelter, name="Family Shelter"),
        sender_organization=tenant.cbo,
        status="accepted",
        referred_from=first,
    )
    return {"first": first, "onward": onward, "shelter": shelter}


def test_the_creator_of_the_record_sees_others_referrals_only_under_a_release(
    client, login, tenant, network_referrals
):
    """Creating the record grants no sight of referrals others made (provenance): the
    clinic sees the one it sent; with a release naming it for referral details, all."""
    login(tenant.hco_navigator)
    response = client.get(f"/clients/{tenant.client.pk}/")
    assert profile_rows(response) == {network_referrals["first"].pk}
    release_for(
        tenant.client,
        organization=tenant.cbo,
        recipients=[tenant.hco],
        categories=("referrals",),
        captured_by=tenant.cbo_staff,
    )
    response = client.get(f"/clients/{tenant.client.pk}/")
    assert profile_rows(response) == {network_referrals["first"].pk, network_referrals["onward"].pk}
    body = body_of(response)
    assert "Family Shelter" in body and "Quayside Shelter" in body
    # Only the referral the HCO is party to links to its detail page.
    assert f'href="/referrals/{network_referrals["first"].pk}/"' in body
    assert f'href="/referrals/{network_referrals["onward"].pk}/"' not in body
    event = AuditEvent.objects.filter(object_type="referral", action="list").latest("id")
    assert sorted(event.object_ids) == sorted(profile_rows(response))


def test_a_release_covering_referrals_shows_them_all_and_without_it_only_ones_own(
    client, login, tenant, network_referrals
):
    shelter = network_referrals["shelter"]
    staff = member(shelter)
    # The shelter may see who the client is, not their referrals: only its own shows.
    release_for(
        tenant.client, organization=tenant.hco, recipients=[shelter], categories=("demographics",)
    )
    login(staff)
    assert profile_rows(client.get(f"/clients/{tenant.client.pk}/")) == {
        network_referrals["onward"].pk
    }
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[shelter],
        categories=("demographics", "referrals"),
    )
    assert profile_rows(client.get(f"/clients/{tenant.client.pk}/")) == {
        network_referrals["first"].pk,
        network_referrals["onward"].pk,
    }


def test_an_organization_with_no_release_and_no_part_sees_no_referral(
    client, login, tenant, network_referrals
):
    third = OrganizationFactory(network=tenant.network, name="Westgate Clinic")
    PartnershipFactory(network=tenant.network, organizations=[third, tenant.cbo])
    release_for(tenant.client, organization=tenant.hco, recipients=[third], categories=("health",))
    login(member(third))
    response = client.get(f"/clients/{tenant.client.pk}/")
    assert response.status_code == 200
    assert profile_rows(response) == set()
    assert "Family Shelter" not in body_of(response)


def test_the_profile_offers_a_new_referral_and_logging_one(client, login, tenant):
    login(tenant.hco_navigator)
    body = body_of(client.get(f"/clients/{tenant.client.pk}/"))
    assert f'href="/clients/{tenant.client.pk}/referrals/new/"' in body
    assert f'href="/referrals/log/?client={tenant.client.pk}"' in body


# --- notifications --------------------------------------------------------------------------


def bell_count(client) -> int:
    """The count the header's bell shows once the page has loaded it."""
    response = client.get("/notifications/bell/")
    assert response.status_code == 200
    match = re.search(r'data-testid="unread-count">(\d+)<', body_of(response))
    return int(match.group(1)) if match else 0


def test_the_bell_counts_unread_notifications_and_mark_read_clears_them(client, login, tenant):
    first = referral_for(tenant)
    referral_for(tenant, program=ProgramFactory(organization=tenant.cbo))
    login(tenant.cbo_staff)
    assert bell_count(client) == 2
    notification = Notification.objects.filter(user=tenant.cbo_staff, referral=first).get()
    response = client.post(f"/notifications/{notification.pk}/read/", {"next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert bell_count(client) == 1
    notification.refresh_from_db()
    assert notification.read_at is not None

    client.post("/notifications/read-all/")
    assert bell_count(client) == 0
    assert not Notification.objects.filter(user=tenant.cbo_staff, read_at__isnull=True).exists()


def test_open_marks_read_and_goes_to_the_referral(client, login, tenant):
    sent = referral_for(tenant)
    notification = Notification.objects.get(user=tenant.cbo_staff)
    login(tenant.cbo_staff)
    response = client.post(f"/notifications/{notification.pk}/read/", {"open": "1"})
    assert response["Location"] == f"/referrals/{sent.pk}/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_an_outside_next_is_not_followed(client, login, tenant):
    referral_for(tenant)
    notification = Notification.objects.get(user=tenant.cbo_staff)
    login(tenant.cbo_staff)
    response = client.post(
        f"/notifications/{notification.pk}/read/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/notifications/"


def test_nobody_else_can_read_or_mark_ones_notifications(client, login, tenant):
    referral_for(tenant)
    notification = Notification.objects.get(user=tenant.cbo_staff)
    colleague = member(tenant.cbo)
    login(colleague)
    assert client.post(f"/notifications/{notification.pk}/read/").status_code == 404
    client.post("/notifications/read-all/")
    notification.refresh_from_db()
    assert notification.read_at is None
    assert "New referral" not in body_of(client.get("/notifications/"))


def test_the_list_is_newest_first_and_paginated(client, login, tenant):
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                user=tenant.cbo_staff,
                kind="referral_status",
                message=f"Message number {i:02d}",
                created_at=now - timedelta(minutes=i),
            )
            for i in range(30)
        ]
    )
    login(tenant.cbo_staff)
    first = body_of(client.get("/notifications/"))
    shown = re.findall(r"Message number (\d\d)", first)
    assert shown == [f"{i:02d}" for i in range(25)]
    assert "Page 1 of 2" in first
    assert "30 unread" in first
    second = body_of(client.get("/notifications/", {"page": 2}))
    assert re.findall(r"Message number (\d\d)", second) == [f"{i:02d}" for i in range(25, 30)]


def test_mark_read_and_read_all_need_a_post(client, login, tenant):
    referral_for(tenant)
    notification = Notification.objects.get(user=tenant.cbo_staff)
    login(tenant.cbo_staff)
    assert client.get(f"/notifications/{notification.pk}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_every_page_has_the_bell_and_it_costs_the_page_no_query(
    client, login, tenant, django_assert_max_num_queries
):
    referral_for(tenant)
    login(tenant.cbo_staff)
    # The inbox: the home page counts referrals with news itself (issue 17), the bell not.
    with django_assert_max_num_queries(50) as captured:
        body = body_of(client.get("/referrals/inbox/"))
    assert 'hx-get="/notifications/bell/"' in body
    assert 'href="/notifications/" data-testid="notification-bell"' in body
    assert not [q for q in captured.captured_queries if "referrals_notification" in q["sql"]]
    assert 'aria-label="Notifications: 1 unread"' in body_of(client.get("/notifications/bell/"))


def test_signed_out_pages_have_no_bell_and_the_count_says_nothing():
    anonymous = HttpClient()
    assert 'data-testid="notification-bell"' not in body_of(anonymous.get("/account/login/"))
    response = anonymous.get("/notifications/bell/")
    assert response.status_code == 204
    assert response.content == b""
