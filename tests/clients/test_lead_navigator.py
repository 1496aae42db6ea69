"""One lead navigator at a time across the network; a handover tells the previous one."""

from unittest import mock

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from clients.models import LeadNavigatorAssignment
from clients.services import client_lead_navigator_assign
from organizations.models import Membership
from organizations.roles import Role
from tests.clients.conftest import assert_no_phi, events
from tests.factories import member

pytestmark = pytest.mark.django_db


def membership_of(user) -> Membership:
    return Membership.objects.get(user=user)


def assign(client, c, membership, **extra):
    return client.post(f"/clients/{c.pk}/lead-navigator/", {"membership": membership.pk, **extra})


def current(c) -> list[LeadNavigatorAssignment]:
    return list(LeadNavigatorAssignment.objects.filter(client=c, ended_at__isnull=True))


def test_first_assignment_needs_no_note_and_tells_nobody(
    client, login, tenant, django_capture_on_commit_callbacks
):
    c = tenant.client
    nav = membership_of(tenant.hco_navigator)
    login(tenant.hco_navigator)
    with django_capture_on_commit_callbacks(execute=True):
        response = assign(client, c, nav)
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.lead_navigator == nav
    [now] = current(c)
    assert now.membership == nav and now.assigned_by == tenant.hco_navigator
    assert mail.outbox == []
    [event] = events(action=AuditEvent.Action.UPDATE, object_type="client")
    assert event.detail == {"fields": ["lead_navigator"]}
    page = client.get(f"/clients/{c.pk}/").content.decode()
    assert 'data-testid="current-lead"' in page and tenant.hco.name in page


def test_handover_needs_a_note_and_a_confirmation(client, login, tenant):
    c = tenant.client
    first = membership_of(tenant.hco_navigator)
    client_lead_navigator_assign(client=c, membership=first, actor=tenant.hco_navigator)
    cbo_nav = member(tenant.cbo, Role.NAVIGATOR, email="nav@cbo.test")
    login(cbo_nav)
    response = assign(client, c, membership_of(cbo_nav))
    assert response.status_code == 400
    page = response.content.decode()
    assert "A handover note is required" in page
    assert "Confirm that the current lead navigator will be replaced" in page
    c.refresh_from_db()
    assert c.lead_navigator == first
    assert [a.membership for a in current(c)] == [first]


def test_handover_across_organizations_emails_the_previous_lead_without_client_details(
    client, login, tenant, django_capture_on_commit_callbacks
):
    c = tenant.client
    first = membership_of(tenant.hco_navigator)
    client_lead_navigator_assign(client=c, membership=first, actor=tenant.hco_navigator)
    cbo_nav = member(tenant.cbo, Role.NAVIGATOR, email="nav@cbo.test", first_name="Noor")
    login(cbo_nav)
    note = f"{c.given_name} prefers evening calls; housing application pending."
    with django_capture_on_commit_callbacks(execute=True):
        response = assign(
            client, c, membership_of(cbo_nav), handover_note=note, confirm_handover="on"
        )
    assert response.status_code == 302

    c.refresh_from_db()
    new = membership_of(cbo_nav)
    assert c.lead_navigator == new
    [now] = current(c)
    assert now.membership == new and now.handover_note == note
    ended = LeadNavigatorAssignment.objects.get(membership=first)
    assert ended.ended_at == now.started_at

    [email] = mail.outbox
    assert email.to == [tenant.hco_navigator.email]
    assert f"#{c.pk}" in email.subject
    text = email.subject + email.body
    assert f"client record #{c.pk}" in text
    assert tenant.cbo.name in text
    for detail in (c.given_name, c.family_name, c.email, c.phone, "housing", "evening"):
        assert detail not in text, detail
    assert c.date_of_birth.isoformat() not in text
    event = events(action=AuditEvent.Action.UPDATE, object_type="client")[-1]
    assert event.organization_id == tenant.cbo.pk and event.actor_id == cbo_nav.pk
    assert_no_phi(event, "housing", c.given_name)


def test_the_task_gets_ids_only(tenant, django_capture_on_commit_callbacks):
    c = tenant.client
    first = membership_of(tenant.hco_navigator)
    client_lead_navigator_assign(client=c, membership=first, actor=tenant.hco_navigator)
    second = membership_of(member(tenant.hco, Role.NAVIGATOR))
    with (
        mock.patch("clients.tasks.notify_lead_navigator_replaced.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assignment = client_lead_navigator_assign(
            client=c, membership=second, actor=tenant.hco_admin, handover_note="Over to you."
        )
    delay.assert_called_once_with(
        ended_assignment_id=LeadNavigatorAssignment.objects.get(membership=first).pk,
        new_assignment_id=assignment.pk,
    )


def test_no_email_is_queued_when_the_transaction_rolls_back(
    tenant, django_capture_on_commit_callbacks
):
    c = tenant.client
    client_lead_navigator_assign(
        client=c, membership=membership_of(tenant.hco_navigator), actor=tenant.hco_navigator
    )
    second = membership_of(member(tenant.hco, Role.NAVIGATOR))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                client_lead_navigator_assign(
                    client=c, membership=second, actor=tenant.hco_admin, handover_note="x"
                )
                raise RuntimeError("the request failed later")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []
    assert [a.membership for a in current(c)] == [membership_of(tenant.hco_navigator)]


def test_previous_lead_who_left_is_not_emailed(tenant, django_capture_on_commit_callbacks):
    c = tenant.client
    first = membership_of(tenant.hco_navigator)
    client_lead_navigator_assign(client=c, membership=first, actor=tenant.hco_navigator)
    first.is_active = False
    first.save()
    second = membership_of(member(tenant.hco, Role.NAVIGATOR))
    with django_capture_on_commit_callbacks(execute=True):
        client_lead_navigator_assign(
            client=c, membership=second, actor=tenant.hco_admin, handover_note="She left."
        )
    assert mail.outbox == []
    assert [a.membership for a in current(c)] == [second]


def test_only_own_organizations_navigators_can_be_chosen(client, login, tenant):
    c = tenant.client
    cbo_nav = member(tenant.cbo, Role.NAVIGATOR)
    cbo_staff = membership_of(tenant.cbo_staff)
    login(cbo_nav)
    # Another organization's navigator, and a staff member (not a navigator) of one's own.
    for other in (membership_of(tenant.hco_navigator), cbo_staff):
        response = assign(client, c, other)
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    assert current(c) == []


def test_staff_role_cannot_assign(client, login, tenant):
    login(tenant.hco_staff)
    response = assign(client, tenant.client, membership_of(tenant.hco_navigator))
    assert response.status_code == 403
    assert current(tenant.client) == []


def test_organization_that_cannot_see_the_client_gets_404(
    client, login, tenant, bystander_navigator
):
    login(bystander_navigator)
    response = assign(client, tenant.client, membership_of(bystander_navigator))
    assert response.status_code == 404
    assert current(tenant.client) == []


def test_reassigning_the_current_lead_changes_nothing(tenant):
    c = tenant.client
    nav = membership_of(tenant.hco_navigator)
    first = client_lead_navigator_assign(client=c, membership=nav, actor=tenant.hco_navigator)
    again = client_lead_navigator_assign(client=c, membership=nav, actor=tenant.hco_admin)
    assert again == first
    assert LeadNavigatorAssignment.objects.filter(client=c).count() == 1


def test_database_allows_one_current_lead_per_client(tenant):
    c = tenant.client
    nav = membership_of(tenant.hco_navigator)
    LeadNavigatorAssignment.objects.create(client=c, membership=nav, assigned_by=tenant.hco_admin)
    other = membership_of(member(tenant.hco, Role.NAVIGATOR))
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadNavigatorAssignment.objects.create(
            client=c, membership=other, assigned_by=tenant.hco_admin
        )
