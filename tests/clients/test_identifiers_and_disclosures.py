"""Identifiers from the organization's own systems, and a client's accounting of
disclosures across every organization."""

import csv
import io

import pytest

from audit.models import AuditEvent
from clients.models import ClientIdentifier
from tests.clients.conftest import client_ids, events
from tests.factories import ClientFactory, release_for

pytestmark = pytest.mark.django_db


def add_identifier(client, c, system="MRN", value="000123"):
    return client.post(f"/clients/{c.pk}/identifiers/", {"system": system, "value": value})


def test_identifier_is_added_for_the_own_organization_and_shown(client, login, tenant):
    c = tenant.client
    login(tenant.hco_staff)
    response = add_identifier(client, c)
    assert response.status_code == 302
    [identifier] = ClientIdentifier.objects.filter(client=c)
    assert (identifier.organization, identifier.system, identifier.value) == (
        tenant.hco,
        "MRN",
        "000123",
    )
    page = client.get(f"/clients/{c.pk}/").content.decode()
    assert "000123" in page
    [event] = events(action=AuditEvent.Action.CREATE, object_type="client_identifier")
    assert client_ids(event) == [c.pk]
    assert "000123" not in str(event.detail)


def test_identifier_used_for_another_client_is_a_clear_409(client, login, tenant):
    other = ClientFactory(created_by_organization=tenant.hco)
    ClientIdentifier.objects.create(client=other, organization=tenant.hco, system="MRN", value="7")
    login(tenant.hco_staff)
    response = add_identifier(client, tenant.client, value="7")
    assert response.status_code == 409  # a conflict with a stored record, not a typo
    page = response.content.decode()
    assert "Your organization already uses this MRN for a client record." in page
    assert 'name="value" value="7"' in page  # the form is shown again, as typed
    assert ClientIdentifier.objects.count() == 1
    assert not events(action=AuditEvent.Action.CREATE, object_type="client_identifier")


def test_identifier_lost_to_a_concurrent_add_is_a_409_too(client, login, tenant, monkeypatch):
    """The form's check passed, then another request stored the same identifier first: the
    unique constraint catches it in the service, and the page says so the same way."""
    from clients.forms import ClientIdentifierForm

    other = ClientFactory(created_by_organization=tenant.hco)
    # The other request commits between this request's form check and its insert.
    original_clean = ClientIdentifierForm.clean

    def clean_then_lose_the_race(form):
        cleaned = original_clean(form)
        ClientIdentifier.objects.create(
            client=other, organization=tenant.hco, system="MRN", value="8"
        )
        return cleaned

    monkeypatch.setattr(ClientIdentifierForm, "clean", clean_then_lose_the_race)
    login(tenant.hco_staff)
    response = add_identifier(client, tenant.client, value="8")
    assert response.status_code == 409
    assert "Your organization already uses this MRN for a client record." in (
        response.content.decode()
    )
    assert list(ClientIdentifier.objects.values_list("client_id", flat=True)) == [other.pk]


def test_same_identifier_at_another_organization_is_fine(client, login, tenant):
    ClientIdentifier.objects.create(
        client=tenant.client, organization=tenant.hco, system="MRN", value="7"
    )
    login(tenant.cbo_staff)
    assert add_identifier(client, tenant.client, value="7").status_code == 302
    assert ClientIdentifier.objects.filter(organization=tenant.cbo, value="7").exists()


def test_identifier_needs_system_and_value(client, login, tenant):
    login(tenant.hco_staff)
    response = add_identifier(client, tenant.client, system="", value=" ")
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not ClientIdentifier.objects.exists()


def test_identifier_needs_demographics(client, login, tenant, bystander, bystander_navigator):
    release_for(
        tenant.client, organization=tenant.hco, recipients=[bystander], categories=("referrals",)
    )
    login(bystander_navigator)
    assert add_identifier(client, tenant.client).status_code == 404
    assert not ClientIdentifier.objects.exists()


# --- accounting of disclosures ----------------------------------------------------------


def test_disclosures_list_other_organizations_views(client, login, tenant):
    c = tenant.client
    unrelated = ClientFactory(created_by_organization=tenant.cbo)
    login(tenant.cbo_staff)
    client.get(f"/clients/{c.pk}/")  # the CBO reads the record (release)
    client.get(f"/clients/{unrelated.pk}/")
    client.logout()

    login(tenant.hco_admin)
    response = client.get(f"/clients/{c.pk}/disclosures/")
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    cbo_views = [e for e in rows if e.organization_id == tenant.cbo.pk]
    assert {e.object_type for e in cbo_views} >= {"client"}
    assert all(c.pk in client_ids(e) for e in rows)
    page = response.content.decode()
    assert tenant.cbo.name in page
    assert tenant.cbo_staff.get_full_name() in page
    assert "demographics" in page
    # Looking at the accounting is itself recorded.
    [seen] = events(object_type="client_disclosures")
    assert seen.organization_id == tenant.hco.pk and client_ids(seen) == [c.pk]


def test_disclosures_csv(client, login, tenant):
    c = tenant.client
    login(tenant.cbo_staff)
    client.get(f"/clients/{c.pk}/")
    client.logout()
    login(tenant.hco_admin)
    response = client.get(f"/clients/{c.pk}/disclosures/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"client-{c.pk}-disclosures.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["time", "organization", "user", "action"]
    assert any(r[1] == tenant.cbo.name and r[3] == "Viewed" and r[4] == "client" for r in rows)
    [exported] = events(action=AuditEvent.Action.EXPORT, object_type="client_disclosures")
    assert client_ids(exported) == [c.pk]


def test_disclosures_need_the_access_log_capability(client, login, tenant):
    login(tenant.hco_staff)
    assert client.get(f"/clients/{tenant.client.pk}/disclosures/").status_code == 403
    assert not events(object_type="client_disclosures")


def test_disclosures_need_demographics(client, login, tenant, bystander):
    from organizations.roles import Role
    from tests.factories import member

    release_for(
        tenant.client, organization=tenant.hco, recipients=[bystander], categories=("referrals",)
    )
    login(member(bystander, Role.ORG_ADMIN))
    assert client.get(f"/clients/{tenant.client.pk}/disclosures/").status_code == 404
    assert client.get(f"/clients/{tenant.client.pk}/").status_code == 200


def test_disclosures_csv_defuses_spreadsheet_formulas(client, login, tenant):
    tenant.cbo.name = "=HYPERLINK(1)"
    tenant.cbo.save()
    login(tenant.cbo_staff)
    client.get(f"/clients/{tenant.client.pk}/")
    client.logout()
    login(tenant.hco_admin)
    response = client.get(f"/clients/{tenant.client.pk}/disclosures/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert "'=HYPERLINK(1)" in [r[1] for r in rows]
