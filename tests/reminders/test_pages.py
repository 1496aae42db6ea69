"""The reminder pages: the network's rules, holidays and partnership overrides (backbone
admins only), the stalled referrals list, the dashboard's count, and email preferences."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from referrals.models import NetworkHoliday, NotificationPreference, Referral, ReminderRules
from referrals.reminders.sweep import reminders_sweep
from tests.factories import release_for

from .support import Queue, send

pytestmark = pytest.mark.django_db

RULES = {
    "action": "rules",
    "ack_business_days": "3",
    "update_every_days": "10",
    "follow_up_after_days": "",
    "release_expiry_warning_days": "",
    "escalate_after_overdue_count": "",
}


@pytest.mark.parametrize(
    "url",
    [
        "reminder_rules",
        "stalled_referrals",
    ],
)
@pytest.mark.parametrize("persona", ["hco_admin", "hco_navigator", "cbo_staff"])
def test_only_backbone_admins_reach_the_network_pages(client, login, world, url, persona):
    login(getattr(world.tenant, persona))
    assert client.get(reverse(url)).status_code == 403


def test_the_backbone_admin_sets_the_network_rules(client, login, world):
    login(world.backbone_admin)
    page = client.get(reverse("reminder_rules"))
    assert page.status_code == 200
    assert 'data-testid="rule-ack">2<' in page.content.decode()  # Linkage's default
    response = client.post(reverse("reminder_rules"), RULES)
    assert response.status_code == 302
    row = ReminderRules.objects.get(network=world.tenant.network, partnership=None)
    assert (row.ack_business_days, row.update_every_days, row.follow_up_after_days) == (3, 10, None)
    event = AuditEvent.objects.get(object_type="reminder_rules")
    assert event.detail["fields"] == ["ack_business_days", "update_every_days"]
    page = client.get(reverse("reminder_rules")).content.decode()
    assert 'data-testid="rule-ack">3<' in page


@pytest.mark.parametrize("value", ["0", "31", "two", "-1"])
def test_a_bad_rule_is_refused_with_a_message_and_nothing_saved(client, login, world, value):
    login(world.backbone_admin)
    response = client.post(reverse("reminder_rules"), {**RULES, "ack_business_days": value})
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not ReminderRules.objects.exists()


def test_holidays_are_added_listed_and_removed_after_a_confirmation(client, login, world):
    login(world.backbone_admin)
    response = client.post(
        reverse("reminder_rules"), {"action": "holiday", "date": "2031-07-04", "name": "July 4"}
    )
    assert response.status_code == 302
    holiday = NetworkHoliday.objects.get(network=world.tenant.network)
    page = client.get(reverse("reminder_rules")).content.decode()
    assert "July 4" in page and reverse("network_holiday_delete", args=[holiday.pk]) in page
    again = client.post(
        reverse("reminder_rules"), {"action": "holiday", "date": "2031-07-04", "name": "Again"}
    )
    assert again.status_code == 400 and "is a holiday already" in again.content.decode()
    confirm = client.get(reverse("network_holiday_delete", args=[holiday.pk]))
    assert confirm.status_code == 200 and "Yes, remove it" in confirm.content.decode()
    assert NetworkHoliday.objects.filter(pk=holiday.pk).exists()
    assert client.post(reverse("network_holiday_delete", args=[holiday.pk])).status_code == 302
    assert not NetworkHoliday.objects.exists()


def test_a_partnership_override_is_set_and_removed(client, login, world):
    t = world.tenant
    login(world.backbone_admin)
    url = reverse("reminder_partnership_rules", args=[t.partnership.pk])
    page = client.get(url)
    assert page.status_code == 200 and t.partnership.name in page.content.decode()
    fields = {
        "ack_business_days": "1",
        "update_every_days": "",
        "follow_up_after_days": "",
        "escalate_after_overdue_count": "",
    }
    assert client.post(url, fields).status_code == 302
    assert ReminderRules.objects.get(partnership=t.partnership).ack_business_days == 1
    listing = client.get(reverse("reminder_rules")).content.decode()
    assert "own rules" in listing
    assert client.post(url, {**fields, "ack_business_days": ""}).status_code == 302
    assert not ReminderRules.objects.filter(partnership=t.partnership).exists()


def test_another_networks_partnership_and_holiday_are_not_found(client, login, world):
    from tests.conftest import build_tenant

    other = build_tenant("Elsewhere")
    holiday = NetworkHoliday.objects.create(network=other.network, date="2031-01-01", name="NY")
    login(world.backbone_admin)
    url = reverse("reminder_partnership_rules", args=[other.partnership.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"ack_business_days": "1"}).status_code == 404
    delete = reverse("network_holiday_delete", args=[holiday.pk])
    assert client.post(delete).status_code == 404
    assert NetworkHoliday.objects.filter(pk=holiday.pk).exists()


# --- stalled referrals ---------------------------------------------------------------------


def stalled(world, clock) -> Referral:
    referral = send(world)
    for when in ("2031-05-07 09:00:00-05:00", "2031-05-09 09:00:00-05:00"):
        clock.move_to(when)
        reminders_sweep(publish=Queue())
    referral.refresh_from_db()
    assert referral.escalated_at is not None
    return referral


def test_stalled_referrals_show_how_long_and_on_whom_without_client_names(
    client, login, world, clock
):
    referral = stalled(world, clock)
    waiting = send(world, program=_program(world, "Diapers"))  # overdue once: not stalled
    clock.move_to("2031-05-12 09:00:00-05:00")
    login(world.backbone_admin)
    page = client.get(reverse("stalled_referrals")).content.decode()
    assert f'data-referral="{referral.pk}"' in page
    assert f'data-referral="{waiting.pk}"' not in page
    assert world.tenant.cbo.name in page and "not assigned" in page
    assert "an answer" in page and "1\xa0week" in page  # waiting since Monday May 5
    assert world.client.given_name not in page and "not shared with you" in page
    event = AuditEvent.objects.get(object_type="referral", action="list")
    assert event.object_ids == [referral.pk]
    assert event.detail == {"categories": ["referrals"]}


def test_stalled_referrals_show_the_client_when_a_release_lets_the_backbone_see_it(
    client, login, world, clock
):
    referral = stalled(world, clock)
    release_for(
        world.client,
        organization=world.tenant.hco,
        recipients=[world.tenant.backbone],
        categories=("demographics",),
        captured_by=world.sender,
        effective_at=world.tenant.release.effective_at,
        expires_at=world.tenant.release.expires_at,
    )
    login(world.backbone_admin)
    page = client.get(reverse("stalled_referrals")).content.decode()
    assert f"{world.client.given_name} {world.client.family_name}" in page
    event = AuditEvent.objects.get(object_type="referral", action="list")
    assert event.object_ids == [referral.pk]
    assert event.detail == {"categories": ["demographics", "referrals"]}


def test_a_referral_leaves_the_stalled_list_when_the_receiver_acts(client, login, world, clock):
    from .support import move

    referral = stalled(world, clock)
    move(world, referral, "accept")
    login(world.backbone_admin)
    page = client.get(reverse("stalled_referrals")).content.decode()
    assert "No stalled referrals" in page


def test_the_dashboard_shows_backbone_admins_the_stalled_count(client, login, world, clock):
    stalled(world, clock)
    login(world.backbone_admin)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="stalled-summary"' in page
    assert '<strong data-testid="stalled-count">1</strong> overdue referral' in page
    assert '<strong data-testid="escalated-count">1</strong> of them escalated' in page
    assert reverse("stalled_referrals") in page
    client.logout()
    login(world.tenant.hco_admin)
    assert 'data-testid="stalled-summary"' not in client.get(reverse("dashboard")).content.decode()


def test_stalled_list_is_paginated(client, login, world, clock):
    for i in range(27):
        r = send(world, program=_program(world, f"Program {i}"))
        Referral.objects.filter(pk=r.pk).update(escalated_at=r.created_at, overdue_count=2)
    # The list is the network's overdue referrals: past their acknowledgement date.
    clock.move_to("2031-05-12 09:00:00-05:00")
    login(world.backbone_admin)
    first = client.get(reverse("stalled_referrals")).content.decode()
    assert first.count('data-testid="stalled-referral"') == 25
    second = client.get(reverse("stalled_referrals") + "?page=2").content.decode()
    assert second.count('data-testid="stalled-referral"') == 2


# --- email preference ----------------------------------------------------------------------


def test_anyone_chooses_immediate_emails_or_a_daily_digest(client, login, world):
    login(world.receiver)
    page = client.get(reverse("notification_preferences")).content.decode()
    assert re.search(r'<input[^>]*value="immediate"[^>]*checked', page)
    response = client.post(reverse("notification_preferences"), {"email_mode": "digest"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=world.receiver).email_mode == "digest"
    bad = client.post(reverse("notification_preferences"), {"email_mode": "hourly"})
    assert bad.status_code == 400
    assert NotificationPreference.objects.get(user=world.receiver).email_mode == "digest"


def _program(world, name):
    from tests.factories import ProgramFactory

    return ProgramFactory(organization=world.tenant.cbo, name=name)
