"""Programs are kept current by their own organization's admins: create, edit, close.
Another organization's admin gets 404, staff get 403, a foreign network sees nothing."""

import pytest

from audit.models import AuditEvent
from directory.models import Program
from organizations.models import Organization
from organizations.roles import Role
from tests.factories import ProgramFactory, member

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Diaper bank",
    "description": "Diapers and wipes for families with babies.",
    "categories": ["material-hardship", "financial-insecurity"],
    "eligibility": "Families with children under 3.",
    "minimum_age": "",
    "maximum_age": "",
    "zip_codes": "60601, 60602 60603",
    "counties": "Cook County, Lake",
    "other_areas": "North side\n",
    "languages": ["en", "es"],
    "fees": "Free",
    "hours": "Mon-Fri 9-5",
    "intake": "Call to book a pick-up.",
    "phone": "(312) 555-0199",
    "email": "diapers@example.org",
    "website": "diapers.example.org",
    "is_listed": "on",
    "accepting_referrals": "on",
    "capacity": "40",
}


@pytest.fixture
def cbo_admin(tenant):
    return member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@marrowdale.test")


def test_an_org_admin_adds_a_program_to_their_organization(client, login, tenant, cbo_admin):
    login(cbo_admin)
    response = client.post("/directory/programs/new/", VALID)
    program = Program.objects.get(name="Diaper bank")
    assert response.status_code == 302
    assert response["Location"] == f"/directory/programs/{program.pk}/"
    assert program.organization == tenant.cbo
    assert sorted(program.categories.values_list("code", flat=True)) == [
        "financial-insecurity",
        "material-hardship",
    ]
    assert sorted(program.service_areas.values_list("kind", "value")) == [
        ("county", "Cook"),
        ("county", "Lake"),
        ("other", "North side"),
        ("zip", "60601"),
        ("zip", "60602"),
        ("zip", "60603"),
    ]
    assert sorted(program.languages.values_list("code", "name")) == [
        ("en", "English"),
        ("es", "Spanish"),
    ]
    assert program.website == "https://diapers.example.org"
    assert program.capacity == 40
    event = AuditEvent.objects.get(object_type="program", action="create")
    assert (event.object_ids, event.organization_id) == ([program.pk], tenant.cbo.pk)

    page = client.get(response["Location"]).content.decode()
    assert "Diaper bank" in page and "Cook County" in page and 'href="tel:(312) 555-0199"' in page


def test_bad_input_saves_nothing_and_says_what_is_wrong(client, login, cbo_admin):
    login(cbo_admin)
    bad = {
        **VALID,
        "categories": [],
        "zip_codes": "6060, abcde",
        "minimum_age": "30",
        "maximum_age": "20",
    }
    response = client.post("/directory/programs/new/", bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "Choose at least one need the program serves." in html
    assert "Not a ZIP code: 6060, abcde." in html
    assert "The maximum age is below the minimum age." in html
    assert f'value="{VALID["name"]}"' in html  # what was typed is kept
    assert not Program.objects.exists()
    assert not AuditEvent.objects.filter(object_type="program").exists()


def test_an_empty_post_is_a_400_naming_the_required_fields(client, login, cbo_admin):
    login(cbo_admin)
    response = client.post("/directory/programs/new/", {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Program.objects.exists()


def test_bad_input_on_edit_is_a_400_and_changes_nothing(client, login, tenant, cbo_admin):
    program = ProgramFactory(organization=tenant.cbo, name="Pantry", zip_codes=["60601"])
    login(cbo_admin)
    response = client.post(
        f"/directory/programs/{program.pk}/edit/",
        {**VALID, "name": "Pantry renamed", "zip_codes": "6060"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not a ZIP code: 6060." in html
    assert 'value="Pantry renamed"' in html
    program.refresh_from_db()
    assert program.name == "Pantry"
    assert list(program.service_areas.values_list("value", flat=True)) == ["60601"]
    assert not AuditEvent.objects.filter(object_type="program", action="update").exists()


def test_an_org_admin_edits_their_program(client, login, tenant, cbo_admin):
    program = ProgramFactory(organization=tenant.cbo, name="Pantry", languages=[("ur", "Urdu")])
    login(cbo_admin)
    form = client.get(f"/directory/programs/{program.pk}/edit/").content.decode()
    assert 'value="ur"' in form  # a language outside the common list stays choosable
    response = client.post(
        f"/directory/programs/{program.pk}/edit/",
        {**VALID, "name": "Pantry plus", "languages": ["ur"], "manual_waitlist": "on"},
    )
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.name == "Pantry plus" and program.manual_waitlist
    assert list(program.languages.values_list("code", "name")) == [("ur", "Urdu")]
    event = AuditEvent.objects.get(object_type="program", action="update")
    assert {"name", "categories", "manual_waitlist"} <= set(event.detail["fields"])
    assert "languages" not in event.detail["fields"]  # Urdu kept
    assert "Waitlist" in client.get(f"/directory/programs/{program.pk}/").content.decode()


def test_closing_asks_first_then_closes(client, login, tenant, cbo_admin):
    program = ProgramFactory(organization=tenant.cbo, name="Pantry")
    login(cbo_admin)
    url = f"/directory/programs/{program.pk}/close/"
    confirm = client.get(url)
    assert "Stop accepting referrals for Pantry?" in confirm.content.decode()
    program.refresh_from_db()
    assert program.accepting_referrals

    assert client.post(url).status_code == 302
    program.refresh_from_db()
    assert not program.accepting_referrals
    detail = client.get(f"/directory/programs/{program.pk}/").content.decode()
    assert 'data-state="no-capacity"' in detail
    client.logout()
    # Closed programs drop out of other organizations' directory.
    login(tenant.hco_staff)
    assert client.get(f"/directory/programs/{program.pk}/").status_code == 404


def test_an_admin_of_another_organization_cannot_edit_gets_404(client, login, tenant):
    program = ProgramFactory(organization=tenant.cbo, name="Pantry")
    login(tenant.hco_admin)
    assert client.get(f"/directory/programs/{program.pk}/").status_code == 200  # may read
    for suffix in ("edit/", "close/"):
        url = f"/directory/programs/{program.pk}/{suffix}"
        assert client.get(url).status_code == 404
        assert client.post(url, {**VALID, "name": "Hijacked"}).status_code == 404
    program.refresh_from_db()
    assert program.name == "Pantry" and program.accepting_referrals
    assert (
        'href="/directory/programs/' + str(program.pk) + '/edit/"'
        not in client.get(f"/directory/programs/{program.pk}/").content.decode()
    )


def test_the_backbone_admin_sees_every_program_but_edits_none_of_others(client, login, tenant):
    program = ProgramFactory(organization=tenant.cbo, is_listed=False)
    login(tenant.backbone_admin)
    assert client.get(f"/directory/programs/{program.pk}/").status_code == 200
    assert client.get(f"/directory/programs/{program.pk}/edit/").status_code == 404


def test_staff_cannot_create_or_edit_programs_403(client, login, tenant):
    program = ProgramFactory(organization=tenant.cbo)
    login(tenant.cbo_staff)
    assert client.get("/directory/programs/new/").status_code == 403
    assert client.post("/directory/programs/new/", VALID).status_code == 403
    assert client.get(f"/directory/programs/{program.pk}/edit/").status_code == 403
    assert client.post(f"/directory/programs/{program.pk}/close/").status_code == 403
    assert Program.objects.count() == 1


def test_unlisted_programs_are_hidden_from_other_organizations(client, login, tenant):
    program = ProgramFactory(organization=tenant.cbo, is_listed=False)
    login(tenant.hco_staff)
    assert client.get(f"/directory/programs/{program.pk}/").status_code == 404
    client.logout()
    login(tenant.cbo_staff)  # but not from its own
    assert client.get(f"/directory/programs/{program.pk}/").status_code == 200


def test_a_foreign_network_gets_404_for_every_program_page(client, login, tenant, foreign_tenant):
    program = ProgramFactory(organization=tenant.cbo, name="Victim pantry")
    admin = member(foreign_tenant.cbo, Role.ORG_ADMIN)
    login(admin)
    for suffix in ("", "edit/", "close/"):
        response = client.get(f"/directory/programs/{program.pk}/{suffix}")
        assert response.status_code == 404
        assert "Victim pantry" not in response.content.decode()


def test_programs_of_inactive_organizations_leave_the_directory(client, login, tenant):
    program = ProgramFactory(organization=tenant.cbo, name="Pantry")
    Organization.objects.filter(pk=tenant.cbo.pk).update(is_active=False)
    login(tenant.hco_staff)
    assert client.get(f"/directory/programs/{program.pk}/").status_code == 404
