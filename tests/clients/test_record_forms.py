"""Create and edit: bad input gets a clear form error (400, the form again with what was
typed) and writes nothing; phones are stored normalized; edits are audited with the changed
field names only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from clients.models import Client
from tests.clients.conftest import assert_no_phi, client_ids, events
from tests.clients.test_duplicates import record
from tests.factories import release_for

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]


def tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


BAD_INPUT = [
    ({"date_of_birth": "future"}, "date_of_birth", "cannot be in the future"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth", "must be after 1900"),
    ({"date_of_birth": "31/02/1990"}, "date_of_birth", "Enter a valid date"),
    ({"phone": "555-1234"}, "phone", "10-digit US phone number"),
    ({"phone": "(555) 123-45678"}, "phone", "10-digit US phone number"),
    ({"phone": "555-CALL-NOW"}, "phone", "10-digit US phone number"),
    ({"phone": "(055) 123-4567"}, "phone", "area code does not exist"),
    ({"email": "maria@"}, "email", "Enter a valid email address"),
    ({"zip_code": "6061"}, "zip_code", "5-digit ZIP code"),
    ({"zip_code": "60615-12"}, "zip_code", "5-digit ZIP code"),
    ({"given_name": "  "}, "given_name", "This field is required"),
]


def _bad(overrides):
    if overrides.get("date_of_birth") == "future":
        overrides = {**overrides, "date_of_birth": tomorrow()}
    return overrides


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_on_create_writes_nothing(client, login, tenant, overrides, field, message):
    login(tenant.cbo_staff)
    before = Client.objects.count()
    response = client.post(
        "/clients/new/", record(**{"given_name": "Rosa", "family_name": "Nuevo", **_bad(overrides)})
    )
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    page = response.content.decode()
    assert message in page
    assert "Nothing was saved" in page
    assert 'value="Nuevo"' in page  # the rest of what was typed is kept
    assert Client.objects.count() == before
    assert not events(action=AuditEvent.Action.CREATE)


@pytest.mark.parametrize(
    "typed", ["(555) 123-4567", "555-123-4567", "555.123.4567", "5551234567", "+1 555 123 4567"]
)
def test_accepted_phone_formats_are_stored_normalized(client, login, tenant, typed):
    login(tenant.cbo_staff)
    response = client.post(
        "/clients/new/", record(given_name="Rosa", family_name="Nuevo", phone=typed)
    )
    assert response.status_code == 302
    created = Client.objects.get(family_name="Nuevo")
    assert created.phone == "(555) 123-4567"
    assert created.phone_digits == "5551234567"


def edit_data(c, **overrides):
    data = {field: getattr(c, field) for field in record() if field not in {"date_of_birth"}}
    data["date_of_birth"] = c.date_of_birth.isoformat()
    data.update(overrides)
    return {k: ("" if v is None else v) for k, v in data.items()}


def test_edit_audits_changed_field_names_only(client, login, tenant):
    c = tenant.client
    login(tenant.hco_staff)
    assert client.get(f"/clients/{c.pk}/edit/").status_code == 200
    response = client.post(
        f"/clients/{c.pk}/edit/",
        edit_data(c, phone="312 555 0199", email="new.address@example.test", city="Evanston"),
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert (c.phone, c.email, c.city) == ("(312) 555-0199", "new.address@example.test", "Evanston")
    assert c.phone_digits == "3125550199"
    [event] = events(action=AuditEvent.Action.UPDATE, object_type="client")
    assert event.detail == {"fields": ["city", "email", "phone"]}
    assert client_ids(event) == [c.pk]
    assert_no_phi(event, "3125550199", "(312) 555-0199", "new.address", "Evanston")
    # Opening the edit form showed the record: audited as a view of demographics.
    [viewed] = events(action=AuditEvent.Action.VIEW, object_type="client")
    assert viewed.detail == {"categories": ["demographics"]}


def test_edit_with_no_change_records_nothing(client, login, tenant):
    c = tenant.client
    login(tenant.hco_staff)
    client.post(f"/clients/{c.pk}/edit/", edit_data(c))
    assert not events(action=AuditEvent.Action.UPDATE)


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_on_edit_writes_nothing(client, login, tenant, overrides, field, message):
    c = tenant.client
    stored = {f: getattr(c, f) for f in record()}
    login(tenant.hco_staff)
    response = client.post(
        f"/clients/{c.pk}/edit/", edit_data(c, city="Typed City", **_bad(overrides))
    )
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    page = response.content.decode()
    assert message in page and "Nothing was saved" in page
    assert 'value="Typed City"' in page  # the form shows what was typed, not the stored row
    c.refresh_from_db()
    assert {f: getattr(c, f) for f in record()} == stored
    assert not events(action=AuditEvent.Action.UPDATE)


def test_recipient_with_demographics_may_edit_one_without_may_not(
    client, login, tenant, bystander, bystander_navigator
):
    c = tenant.client
    login(tenant.cbo_staff)
    response = client.post(f"/clients/{c.pk}/edit/", edit_data(c, city="Skokie"))
    assert response.status_code == 302
    client.logout()

    release_for(c, organization=tenant.hco, recipients=[bystander], categories=("social_needs",))
    login(bystander_navigator)
    assert client.get(f"/clients/{c.pk}/").status_code == 200
    assert client.get(f"/clients/{c.pk}/edit/").status_code == 404
    assert client.post(f"/clients/{c.pk}/edit/", edit_data(c, city="Cicero")).status_code == 404
    c.refresh_from_db()
    assert c.city == "Skokie"


def test_services_enforce_the_same_rules_without_a_form(tenant):
    """The API and imports call the services directly: bad values never reach the table."""
    from datetime import date

    from django.core.exceptions import ValidationError

    from clients.services import client_create, client_update

    before = Client.objects.count()
    with pytest.raises(ValidationError) as caught:
        client_create(
            organization=tenant.cbo,
            actor=tenant.cbo_staff,
            data={
                "given_name": "Rosa",
                "family_name": "Nuevo",
                "date_of_birth": timezone.localdate() + timedelta(days=1),
                "phone": "12345",
                "zip_code": "ABCDE",
            },
        )
    assert set(caught.value.message_dict) == {"date_of_birth", "phone", "zip_code"}
    assert Client.objects.count() == before

    created = client_create(
        organization=tenant.cbo,
        actor=tenant.cbo_staff,
        data={
            "given_name": " Rosa ",
            "family_name": "Nuevo",
            "date_of_birth": date(1990, 1, 1),
            "phone": "555.123.4567",
        },
    )
    assert (created.given_name, created.phone) == ("Rosa", "(555) 123-4567")
    with pytest.raises(ValidationError):
        client_update(
            client=created,
            actor=tenant.cbo_staff,
            organization=tenant.cbo,
            data={"email": "not an email"},
        )
    created.refresh_from_db()
    assert created.email == ""
