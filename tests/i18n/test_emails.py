"""Emails (and the in-app notifications they repeat) are written in the recipient's
language, their account's choice, whatever language the person who caused them works in."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import translation

from clients.services import client_lead_navigator_assign
from organizations.models import Membership
from organizations.roles import Role
from referrals.models import Notification
from referrals.services import referral_send
from tests.factories import ProgramFactory, member

pytestmark = pytest.mark.django_db


def test_a_spanish_speaking_user_gets_the_notification_email_in_spanish(
    tenant, django_capture_on_commit_callbacks
):
    spanish = tenant.cbo_staff
    spanish.language = "es"
    spanish.save(update_fields=["language"])
    english = member(tenant.cbo, Role.STAFF, email="english-reader@test.test", language="en")
    program = ProgramFactory(organization=tenant.cbo, name="Weekly Groceries")

    # The sender works in Spanish: it decides nothing about the recipients' language.
    with translation.override("es"), django_capture_on_commit_callbacks(execute=True):
        referral = referral_send(
            client=tenant.client,
            program=program,
            sender_organization=tenant.hco,
            sender_user=tenant.hco_navigator,
            needs=["food-insecurity"],
        )

    by_recipient = {m.to[0]: m for m in mail.outbox}
    es = by_recipient[spanish.email]
    assert es.subject == (
        f"Linkage: Nueva referencia n.º {referral.pk} a Weekly Groceries de {tenant.hco.name}."
    )
    assert "Inicie sesión en Linkage para ver los detalles." in es.body
    assert "Para recibir un solo correo al día:" in es.body
    assert "Sign in" not in es.body

    en = by_recipient[english.email]
    assert en.subject == (
        f"Linkage: New referral #{referral.pk} to Weekly Groceries from {tenant.hco.name}."
    )
    assert "Sign in to Linkage to see the details." in en.body

    assert Notification.objects.get(user=spanish).message.startswith("Nueva referencia")
    assert Notification.objects.get(user=english).message.startswith("New referral")


def test_the_lead_navigator_handover_email_is_in_the_previous_leads_language(
    tenant, django_capture_on_commit_callbacks
):
    client = tenant.client
    previous = member(tenant.hco, Role.NAVIGATOR, email="previous-lead@test.test", language="es")
    client_lead_navigator_assign(
        client=client, membership=Membership.objects.get(user=previous), actor=previous
    )
    new_lead = member(tenant.hco, Role.NAVIGATOR, email="new-lead@test.test")
    with django_capture_on_commit_callbacks(execute=True):
        client_lead_navigator_assign(
            client=client,
            membership=Membership.objects.get(user=new_lead),
            actor=tenant.hco_navigator,
            handover_note="Prefers mornings.",
        )

    [email] = mail.outbox
    assert email.to == [previous.email]
    assert email.subject == (
        f"Linkage: usted ya no es el navegador principal del registro de cliente n.º {client.pk}"
    )
    assert email.body.startswith("Hola, ")
    assert "es ahora el navegador principal" in email.body
    assert "Este mensaje no contiene, a propósito, ningún dato del cliente." in email.body


@pytest.mark.calendar
def test_a_reminder_reaches_each_person_in_their_language(tenant):
    """One overdue reminder, two people at the receiving organization: the Spanish reader's
    notification and email are in Spanish (dates too), the other's in English."""
    import time_machine

    from referrals import tasks
    from referrals.models import Reminder
    from referrals.reminders.sweep import reminders_sweep
    from tests.reminders.support import START, Queue, build_world, send

    world = build_world(tenant)
    world.receiver.language = "es"
    world.receiver.save(update_fields=["language"])
    with time_machine.travel(START, tick=False) as clock:
        referral = send(world)
        clock.move_to("2031-05-07 09:00:00-05:00")
        reminders_sweep(publish=Queue())
        mail.outbox.clear()
        reminder = Reminder.objects.get(kind="ack_overdue")
        assert tasks.deliver_reminder(reminder.pk) == 2

    [es] = [m for m in mail.outbox if m.to == [world.receiver.email]]
    [en] = [m for m in mail.outbox if m.to == [world.receiver_colleague.email]]
    assert es.subject.startswith(f"Linkage: Vencida: la referencia n.º {referral.pk} a ")
    assert "Acéptela o recházela." in es.subject + es.body
    assert "Inicie sesión en Linkage para ver los detalles." in es.body
    assert en.subject.startswith(f"Linkage: Overdue: referral #{referral.pk} to ")
    assert Notification.objects.get(user=world.receiver, reminder=reminder).message.startswith(
        "Vencida:"
    )
