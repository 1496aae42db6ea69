"""Two client records found to be one person: outreach's rows follow the survivor, and the
stricter contact choice of the two holds."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clients.services import client_merge
from outreach.models import ContactPreference, Message
from outreach.services import message_queue
from tests.factories import ClientFactory

from .conftest import texting_preference

pytestmark = pytest.mark.django_db


def duplicate_of(world):
    return ClientFactory(
        created_by_organization=world.tenant.hco,
        created_by=world.tenant.hco_navigator,
        given_name=world.client.given_name,
        family_name=world.client.family_name,
        date_of_birth=world.client.date_of_birth,
    )


def merge(world, duplicate):
    return client_merge(
        survivor=world.client,
        duplicate=duplicate,
        actor=world.tenant.hco_navigator,
        organization=world.tenant.hco,
    )


def test_messages_move_and_a_do_not_contact_on_either_record_holds(world):
    duplicate = duplicate_of(world)
    texting_preference(
        duplicate,
        world.tenant.hco_navigator,
        world.tenant.hco,
        do_not_contact=True,
        do_not_contact_at=timezone.now(),
    )
    message_queue(client=duplicate, organization=world.tenant.cbo, kind="reminder")
    merge(world, duplicate)

    assert set(Message.objects.values_list("client_id", flat=True)) == {world.client.pk}
    [preference] = ContactPreference.objects.all()
    assert preference.client_id == world.client.pk and preference.do_not_contact
    assert message_queue(client=world.client, organization=world.tenant.cbo, kind="summary") is None


def test_the_duplicate_s_preference_moves_when_the_survivor_has_none(world):
    world.preference.delete()
    duplicate = duplicate_of(world)
    texting_preference(duplicate, world.tenant.hco_navigator, world.tenant.hco)
    merge(world, duplicate)
    assert ContactPreference.objects.get().client_id == world.client.pk
