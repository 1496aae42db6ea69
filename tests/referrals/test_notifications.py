"""Who is told what: in the app (Notification rows) and by email, queued after commit,
never to the person who acted, never naming the client."""

from __future__ import annotations

import pytest
from django.core import mail

from organizations.models import Membership
from referrals.models import Notification
from referrals.services import (
    referral_assign,
    referral_log_inbound,
    referral_note_add,
    referral_record_contact,
    referral_transition,
)
from referrals.tasks import deliver_notification_email
from tests.factories import release_for

from .workflow_support import NEEDS, make_lead_navigator, parties, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tenant):
    p = parties(tenant)
    # The sender is the HCO's navigator; the client's lead navigator is another person.
    lead = tenant.hco_admin
    make_lead_navigator(tenant.client, lead)
    p.lead = lead
    return p


def told(kind=None, referral=None) -> dict[int, list[str]]:
    rows = Notification.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    if referral:
        rows = rows.filter(referral=referral)
    out: dict[int, list[str]] = {}
    for n in rows.order_by("id"):
        out.setdefault(n.user_id, []).append(n.message)
    return out


def assert_no_client_name(tenant):
    c = tenant.client
    for n in Notification.objects.all():
        for value in (c.given_name, c.family_name, c.phone, c.email):
            assert value not in n.message, n.message
    for m in mail.outbox:
        for value in (c.given_name, c.family_name, c.phone, c.email):
            assert value not in m.subject and value not in m.body


def test_a_new_referral_tells_the_receiver_and_the_lead_navigator(
    tenant, p, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        referral = send(p)
    # After the commit: the emails are queued, and the change is announced to listeners
    # (referrals/events.py: webhooks, FHIR subscriptions).
    assert len(callbacks) == 2
    people = told("referral_created")
    assert set(people) == {p.receiver.pk, p.receiver_colleague.pk, p.lead.pk}
    assert p.sender.pk not in people  # not the person who sent it
    [message] = people[p.receiver.pk]
    assert message == f"New referral #{referral.pk} to Weekly Groceries from {tenant.hco.name}."
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [p.receiver.email, p.receiver_colleague.email, p.lead.email]
    )
    assert all(n.emailed_at is not None for n in Notification.objects.all())
    assert_no_client_name(tenant)


def test_emails_wait_for_the_commit(tenant, p, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send(p)
    assert Notification.objects.count() == 3
    assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 3


def _log_inbound(tenant, p, capture):
    with capture(execute=True):
        referral_log_inbound(
            client=tenant.client,
            program=p.program,
            actor=p.receiver,
            organization=tenant.cbo,
            source="fax",
            external_sender="Eastside Pediatrics",
            needs=NEEDS,
        )


def test_a_lead_navigator_elsewhere_hears_of_a_logged_referral_only_under_a_release(
    tenant, p, django_capture_on_commit_callbacks
):
    """The food bank recorded the logged referral: the clinic's lead navigator (its
    organization created the record) is not told of it without a release naming the clinic
    for referral details (provenance)."""
    _log_inbound(tenant, p, django_capture_on_commit_callbacks)
    assert set(told("referral_created")) == {p.receiver_colleague.pk}


def test_a_logged_inbound_referral_does_not_tell_the_person_who_logged_it(
    tenant, p, django_capture_on_commit_callbacks
):
    release_for(
        tenant.client,
        organization=tenant.cbo,
        recipients=[tenant.hco],
        categories=("referrals",),
        captured_by=tenant.cbo_staff,
    )
    _log_inbound(tenant, p, django_capture_on_commit_callbacks)
    people = told("referral_created")
    assert set(people) == {p.receiver_colleague.pk, p.lead.pk}
    assert "from Eastside Pediatrics" in people[p.lead.pk][0]


def test_accepting_tells_the_sender_and_the_receivers_other_people(
    tenant, p, django_capture_on_commit_callbacks
):
    referral = send(p)
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        referral_transition(
            referral_id=referral.pk, move="accept", actor=p.receiver, organization=tenant.cbo
        )
    people = told("referral_status")
    assert set(people) == {p.sender.pk, p.receiver_colleague.pk}  # not the actor, no lead yet
    assert people[p.sender.pk] == [f"Referral #{referral.pk} to Weekly Groceries is now accepted."]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [p.sender.email, p.receiver_colleague.email]
    )


def test_an_assigned_referral_tells_the_assignee_only_on_the_receiving_side(tenant, p):
    referral = send(p)
    referral_assign(
        referral=referral, assignee=p.receiver_colleague, actor=p.receiver, organization=tenant.cbo
    )
    Notification.objects.all().delete()
    referral_transition(
        referral_id=referral.pk,
        move="cancel",
        actor=p.sender,
        organization=tenant.hco,
        reason="Client moved",
    )
    assert set(told("referral_status")) == {p.receiver_colleague.pk, p.lead.pk}


def test_completion_tells_sender_receiver_and_lead_navigator_the_outcome(
    tenant, p, django_capture_on_commit_callbacks
):
    referral = send(p)
    referral_transition(
        referral_id=referral.pk, move="accept", actor=p.receiver, organization=tenant.cbo
    )
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        referral_transition(
            referral_id=referral.pk,
            move="complete",
            actor=p.receiver,
            organization=tenant.cbo,
            outcome="need-met",
            outcome_note=f"{tenant.client.given_name} got a food box",
        )
    people = told("referral_status")
    assert set(people) == {p.sender.pk, p.receiver_colleague.pk, p.lead.pk}
    expected = f"Referral #{referral.pk} to Weekly Groceries is now completed: service provided"
    assert people[p.lead.pk][0].startswith(expected)
    assert "need met" in people[p.lead.pk][0]
    assert len(mail.outbox) == 3
    assert_no_client_name(tenant)


def test_notes_tell_the_other_side(tenant, p):
    referral = send(p)
    Notification.objects.all().delete()
    referral_note_add(
        referral=referral, author=p.sender, organization=tenant.hco, body="Call after 5pm"
    )
    assert set(told("referral_note")) == {p.receiver.pk, p.receiver_colleague.pk}
    Notification.objects.all().delete()
    referral_note_add(referral=referral, author=p.receiver, organization=tenant.cbo, body="Will do")
    people = told("referral_note")
    assert set(people) == {p.sender.pk}
    assert people[p.sender.pk] == [f"New note on referral #{referral.pk} from {tenant.cbo.name}."]
    assert all("5pm" not in n.message for n in Notification.objects.all())


def test_a_contact_tells_the_sender(tenant, p):
    referral = send(p)
    Notification.objects.all().delete()
    referral_record_contact(
        referral=referral,
        actor=p.receiver,
        organization=tenant.cbo,
        contact_type="phone",
        successful=True,
        note=f"Spoke with {tenant.client.given_name}",
    )
    people = told("referral_contact")
    assert set(people) == {p.sender.pk}
    assert people[p.sender.pk] == [
        f"Referral #{referral.pk} to Weekly Groceries: the receiver reached the client."
    ]
    assert_no_client_name(tenant)

    # An attempt that did not reach the client is never announced as a contact.
    referral_record_contact(
        referral=referral,
        actor=p.receiver,
        organization=tenant.cbo,
        contact_type="phone",
        successful=False,
        note="",
    )
    assert told("referral_contact")[p.sender.pk][-1] == (
        f"Referral #{referral.pk} to Weekly Groceries: the receiver tried to reach the client "
        "and could not."
    )


def test_a_sender_who_left_is_not_told_their_colleagues_are(tenant, p):
    referral = send(p)
    Membership.objects.filter(user=p.sender).update(is_active=False)
    Notification.objects.all().delete()
    referral_transition(
        referral_id=referral.pk, move="accept", actor=p.receiver, organization=tenant.cbo
    )
    people = set(told("referral_status"))
    assert p.sender.pk not in people
    assert {tenant.hco_staff.pk, tenant.hco_admin.pk} <= people


def test_a_lead_navigator_who_acts_is_not_told_of_their_own_move(tenant, p):
    make_lead_navigator(tenant.client, p.receiver)
    referral = send(p)
    Notification.objects.all().delete()
    referral_transition(
        referral_id=referral.pk,
        move="reject",
        actor=p.receiver,
        organization=tenant.cbo,
        reason="Out of area",
    )
    assert p.receiver.pk not in told()


def test_delivering_twice_sends_one_email(tenant, p):
    with_delivery_off = Notification.objects.count()
    send(p)  # eager Celery, but outside a commit: the rows exist, nothing sent yet
    notification = Notification.objects.filter(user=p.receiver).get()
    assert Notification.objects.count() == with_delivery_off + 3
    assert deliver_notification_email(notification.pk) is True
    assert deliver_notification_email(notification.pk) is False
    assert len(mail.outbox) == 1
    [email] = mail.outbox
    assert email.to == [p.receiver.email]
    assert f"/referrals/{notification.referral_id}/" in email.body
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_a_deactivated_user_gets_no_email(tenant, p):
    send(p)
    notification = Notification.objects.filter(user=p.receiver).get()
    p.receiver.is_active = False
    p.receiver.save(update_fields=["is_active"])
    assert deliver_notification_email(notification.pk) is False
    assert mail.outbox == []


def test_a_lead_navigator_elsewhere_is_told_only_what_a_release_lets_them_see(tenant, p):
    """A lead navigator at a third organization hears of the client's referrals only while
    a release names that organization for referral details."""
    from consent.services import release_revoke
    from organizations.roles import Role
    from tests.factories import OrganizationFactory, ProgramFactory, member, release_for

    elsewhere = OrganizationFactory(network=tenant.network, name="Harbor Housing", kind="cbo")
    navigator = member(elsewhere, Role.NAVIGATOR, email="lead@harbor.test")
    make_lead_navigator(tenant.client, navigator)

    first = send(p)
    assert navigator.pk not in told("referral_created", first)

    release = release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[elsewhere],
        categories=("demographics", "referrals"),
        captured_by=tenant.hco_navigator,
    )
    second = send(p, program=ProgramFactory(organization=tenant.cbo, name="Second pantry"))
    assert navigator.pk in told("referral_created", second)

    release_revoke(
        release=release, actor=tenant.hco_navigator, organization=tenant.hco, reason="asked"
    )
    referral_transition(
        referral_id=second.pk,
        move="reject",
        actor=p.receiver,
        organization=tenant.cbo,
        reason="Full",
    )
    assert navigator.pk not in told("referral_status", second)
