"""The profile shows what the organization's releases allow, and every view is audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from tests.clients.conftest import assert_no_phi, client_ids, events
from tests.factories import release_for

pytestmark = pytest.mark.django_db


def profile(client, c):
    return client.get(f"/clients/{c.pk}/")


def view_events(c):
    return events(action=AuditEvent.Action.VIEW, object_type="client", clients__client_id=c.pk)


def test_creating_organization_sees_the_record_it_made(client, login, tenant):
    """Creating the record is recording the demographics (provenance): those are the
    client categories the creator sees without a release."""
    c = tenant.client
    login(tenant.hco_staff)
    response = profile(client, c)
    page = response.content.decode()
    assert response.status_code == 200
    assert c.given_name in page and c.family_name in page
    assert c.date_of_birth.strftime("%m/%d/%Y") in page
    assert c.email in page
    assert 'data-testid="section-demographics"' in page
    assert 'data-testid="client-releases"' in page  # the consent engineer's section
    [event] = view_events(c)
    assert event.detail["categories"] == ["demographics"]
    assert event.organization_id == tenant.hco.pk
    assert_no_phi(event, c.given_name, c.family_name, c.email)


def test_recipient_sees_the_released_categories(client, login, tenant):
    c = tenant.client
    login(tenant.cbo_staff)
    page = profile(client, c).content.decode()
    assert c.family_name in page and c.email in page
    [event] = view_events(c)
    assert event.detail["categories"] == ["demographics", "referrals", "social_needs"]
    assert client_ids(event) == [c.pk]


def test_without_demographics_the_client_is_a_record_number(
    client, login, tenant, bystander, bystander_navigator
):
    c = tenant.client
    release_for(c, organization=tenant.hco, recipients=[bystander], categories=("social_needs",))
    login(bystander_navigator)
    response = profile(client, c)
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Client #{c.pk}" in page
    for hidden in (c.given_name, c.family_name, c.email, c.phone, c.zip_code):
        assert hidden not in page, hidden
    assert c.date_of_birth.strftime("%m/%d/%Y") not in page
    assert 'data-testid="section-demographics"' not in page
    assert "Edit record" not in page
    [event] = view_events(c)
    assert event.detail["categories"] == ["social_needs"]


def test_no_release_no_profile_and_nothing_audited(
    client, login, tenant, bystander, bystander_navigator
):
    login(bystander_navigator)
    assert profile(client, tenant.client).status_code == 404
    assert view_events(tenant.client) == []


def test_revoked_or_expired_release_ends_access(client, login, tenant):
    login(tenant.cbo_staff)
    assert profile(client, tenant.client).status_code == 200
    release = tenant.release
    release.revoked_at = timezone.now() - timedelta(seconds=1)
    release.save()
    assert profile(client, tenant.client).status_code == 404


def test_foreign_network_gets_404(client, login, tenant, foreign_tenant):
    login(foreign_tenant.hco_admin)
    assert profile(client, tenant.client).status_code == 404


def test_edit_and_disclosure_links_follow_role_and_consent(client, login, tenant):
    c = tenant.client
    login(tenant.hco_admin)
    page = profile(client, c).content.decode()
    assert f'href="/clients/{c.pk}/edit/"' in page
    assert f'href="/clients/{c.pk}/disclosures/"' in page
    client.logout()
    login(tenant.cbo_staff)
    page = profile(client, c).content.decode()
    assert f'href="/clients/{c.pk}/edit/"' in page  # demographics released to the CBO
    assert f'href="/clients/{c.pk}/disclosures/"' not in page  # staff: no access log
