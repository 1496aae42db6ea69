"""The rules that apply (Linkage's defaults, the network's, a partnership's override) and
business days on the network's calendar; due dates computed with them when a referral is
sent, accepted and updated."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from organizations.models import Partnership
from referrals.models import NetworkHoliday, Referral, ReminderRules
from referrals.reminders.calendar import add_business_days
from referrals.reminders.rules import DEFAULT_RULES, rules_for, rules_for_many
from referrals.services import referral_log_inbound, referral_record_contact
from tests.factories import NetworkFactory, PartnershipFactory, ProgramFactory

from .support import NEEDS, at, move, send, third_cbo

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]


def holiday(network, day: str, name: str = "Holiday") -> NetworkHoliday:
    return NetworkHoliday.objects.create(network=network, date=date.fromisoformat(day), name=name)


# --- business days -------------------------------------------------------------------------


def test_business_days_skip_weekends():
    friday = at("2031-05-09 15:00")
    assert add_business_days(friday, 1) == at("2031-05-12 15:00")  # Monday
    assert add_business_days(friday, 2) == at("2031-05-13 15:00")
    saturday = at("2031-05-10 10:00")
    assert add_business_days(saturday, 1) == at("2031-05-12 10:00")


def test_business_days_skip_the_holidays_given():
    monday = at("2031-05-05 09:00")
    tuesday, friday_after = date(2031, 5, 6), date(2031, 5, 9)
    assert add_business_days(monday, 2, {tuesday}) == at("2031-05-08 09:00")
    # Friday a holiday too: Wednesday, Thursday, then the next Monday and Tuesday.
    assert add_business_days(monday, 4, {tuesday, friday_after}) == at("2031-05-13 09:00")


def test_business_days_keep_the_local_time_across_daylight_saving():
    # Daylight saving began on Sunday March 9, 2025 in America/Chicago.
    friday = timezone.make_aware(datetime(2025, 3, 7, 9))
    tuesday = add_business_days(friday, 2)
    assert timezone.localtime(tuesday).hour == 9
    # An hour less than four days passed (Python subtracts wall times within one zone).
    elapsed = tuesday.astimezone(UTC) - friday.astimezone(UTC)
    assert elapsed == timedelta(days=4, hours=-1)


def test_a_referral_is_due_after_the_networks_holidays_not_another_networks(world, clock):
    holiday(world.tenant.network, "2031-05-06", "Founders Day")
    holiday(NetworkFactory(), "2031-05-07", "Somewhere else")
    referral = send(world)  # Monday 9:00
    # Tuesday is the network's holiday: Wednesday and Thursday are the two business days.
    assert referral.ack_due_at == at("2031-05-08 09:00")
    assert referral.reminder_due_at == referral.ack_due_at


# --- which rules apply ---------------------------------------------------------------------


def test_without_rules_linkage_defaults_apply(world):
    assert DEFAULT_RULES.ack_business_days == 2
    assert DEFAULT_RULES.update_every_days == 7
    assert DEFAULT_RULES.follow_up_after_days == 14
    assert DEFAULT_RULES.release_expiry_warning_days == 30
    assert DEFAULT_RULES.escalate_after_overdue_count == 2
    referral = Referral(
        network=world.tenant.network,
        sender_organization=world.tenant.hco,
        receiver_organization=world.tenant.cbo,
    )
    assert rules_for(referral) == DEFAULT_RULES


def test_a_partnership_override_wins_field_by_field_over_the_network(world):
    t = world.tenant
    ReminderRules.objects.create(network=t.network, ack_business_days=3, update_every_days=10)
    ReminderRules.objects.create(network=t.network, partnership=t.partnership, ack_business_days=1)
    covered = Referral(network=t.network, sender_organization=t.hco, receiver_organization=t.cbo)
    rules = rules_for(covered)
    assert rules.ack_business_days == 1  # the partnership's
    assert rules.update_every_days == 10  # the network's (the override leaves it empty)
    assert rules.follow_up_after_days == 14  # nobody set it: Linkage's default


def test_an_override_applies_only_to_referrals_between_the_partners(world):
    t = world.tenant
    ReminderRules.objects.create(network=t.network, ack_business_days=3)
    ReminderRules.objects.create(network=t.network, partnership=t.partnership, ack_business_days=1)
    outsider, _ = third_cbo(world)
    elsewhere = Referral(
        network=t.network, sender_organization=t.hco, receiver_organization=outsider
    )
    logged = Referral(network=t.network, sender_organization=None, receiver_organization=t.cbo)
    reverse = Referral(network=t.network, sender_organization=t.cbo, receiver_organization=t.hco)
    assert [r.ack_business_days for r in rules_for_many([elsewhere, logged, reverse])] == [3, 3, 1]


@pytest.mark.parametrize(
    "change",
    [
        {"status": Partnership.Status.ENDED},
        {"status": Partnership.Status.PROPOSED},
        {"end_date": date(2000, 1, 1), "start_date": date(1999, 1, 1)},
    ],
)
def test_an_override_of_a_partnership_not_in_force_does_not_apply(world, change):
    t = world.tenant
    ReminderRules.objects.create(network=t.network, partnership=t.partnership, ack_business_days=1)
    Partnership.objects.filter(pk=t.partnership.pk).update(**change)
    covered = Referral(network=t.network, sender_organization=t.hco, receiver_organization=t.cbo)
    assert rules_for(covered).ack_business_days == 2


def test_with_two_covering_partnerships_the_oldest_override_applies(world):
    t = world.tenant
    ReminderRules.objects.create(network=t.network, partnership=t.partnership, ack_business_days=4)
    newer = PartnershipFactory(network=t.network, organizations=[t.hco, t.cbo, t.backbone])
    ReminderRules.objects.create(network=t.network, partnership=newer, ack_business_days=1)
    covered = Referral(network=t.network, sender_organization=t.hco, receiver_organization=t.cbo)
    assert rules_for(covered).ack_business_days == 4


def test_rules_of_many_referrals_take_the_same_queries_as_of_one(world, django_assert_num_queries):
    t = world.tenant
    ReminderRules.objects.create(network=t.network, partnership=t.partnership, ack_business_days=1)
    one = [Referral(network=t.network, sender_organization=t.hco, receiver_organization=t.cbo)]
    # The networks' rules, the active overrides, their partnerships' parties.
    with django_assert_num_queries(3):
        rules_for_many(one)
    with django_assert_num_queries(3):
        rules_for_many(one * 50)


# --- due dates use the rules in force when the referral moves -------------------------------


def test_due_dates_follow_the_rules_at_send_accept_update_and_completion(world, clock):
    t = world.tenant
    ReminderRules.objects.create(
        network=t.network,
        partnership=t.partnership,
        ack_business_days=1,
        update_every_days=3,
        follow_up_after_days=5,
    )
    referral = send(world)  # Monday 9:00
    assert referral.ack_due_at == at("2031-05-06 09:00")
    clock.move_to("2031-05-06 10:00:00-05:00")
    referral = move(world, referral, "accept")
    assert referral.ack_due_at is None
    assert referral.update_due_at == at("2031-05-09 10:00")
    assert referral.reminder_due_at == referral.update_due_at
    clock.move_to("2031-05-08 11:00:00-05:00")
    referral_record_contact(
        referral=referral,
        actor=world.receiver,
        organization=t.cbo,
        contact_type="phone",
        successful=True,
    )
    referral.refresh_from_db()
    assert referral.update_due_at == at("2031-05-11 11:00")
    clock.move_to("2031-05-09 12:00:00-05:00")
    referral = move(world, referral, "complete", outcome="need-met")
    assert referral.follow_up_due_at == at("2031-05-14 12:00")
    assert referral.reminder_due_at == referral.follow_up_due_at


def test_changing_the_rules_does_not_move_due_dates_already_set(world, clock):
    referral = send(world)
    due = referral.ack_due_at
    ReminderRules.objects.create(network=world.tenant.network, ack_business_days=10)
    referral.refresh_from_db()
    assert referral.ack_due_at == due == at("2031-05-07 09:00")
    # The next referral gets the new rule (ten business days: two weeks on).
    other = send(world, program=ProgramFactory(organization=world.tenant.cbo, name="Diapers"))
    assert other.ack_due_at == at("2031-05-19 09:00")


def test_a_logged_inbound_referral_is_due_from_when_it_arrived(world, clock):
    referral = referral_log_inbound(
        client=world.client,
        program=world.program,
        actor=world.receiver,
        organization=world.tenant.cbo,
        source="fax",
        external_sender="Eastside Pediatrics",
        needs=NEEDS,
        received_at=at("2031-05-02 16:00"),  # the Friday before
    )
    assert referral.ack_due_at == at("2031-05-06 16:00")
    assert referral.waiting_since == at("2031-05-02 16:00")
