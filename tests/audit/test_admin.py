"""The audit trail in the Django admin: superusers may look, nobody may add, change or delete."""

import pytest

from audit.models import AuditEvent
from tests.audit.util import make_event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/audit/auditevent/"


@pytest.fixture
def event(tenant):
    return make_event(
        organization=tenant.hco,
        actor=tenant.hco_navigator,
        object_ids=[tenant.client.pk],
        client_ids=[tenant.client.pk],
        request_id="req-admin-view-0001",
    )


@pytest.fixture
def superuser(db):
    return UserFactory(is_superuser=True, is_staff=True)


def test_superuser_reads_the_trail(client, login, superuser, event):
    login(superuser)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert "req-admin-view-0001" in listing.content.decode()
    detail = client.get(f"{LIST}{event.pk}/change/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "req-admin-view-0001" in page
    assert 'name="_save"' not in page  # view only: no form to submit


def test_superuser_cannot_add_change_or_delete(client, login, superuser, event):
    login(superuser)
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{LIST}add/", {"action": "view"}).status_code == 403
    response = client.post(f"{LIST}{event.pk}/change/", {"action": "update"})
    assert response.status_code == 403
    assert client.get(f"{LIST}{event.pk}/delete/").status_code == 403
    assert client.post(f"{LIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post(LIST, {"action": "delete_selected", "_selected_action": [event.pk]})
    assert bulk.status_code in (200, 302, 403)
    assert AuditEvent.objects.get(pk=event.pk).action == "view"
    assert AuditEvent.objects.count() == 1


def test_org_admins_are_sent_to_the_admin_sign_in(client, login, tenant, event):
    login(tenant.hco_admin)
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
