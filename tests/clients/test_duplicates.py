"""Duplicate detection on create: the scoring rules, and what the page may show."""

from datetime import date

import pytest

from audit.models import AuditEvent
from clients.models import Client, LeadNavigatorAssignment
from clients.selectors import client_possible_duplicates
from organizations.models import Membership
from organizations.roles import Role
from tests.clients.conftest import client_ids, events
from tests.factories import ClientFactory, NetworkFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db

DOB = date(1984, 3, 9)


def dupes(network, **typed):
    values = {
        "given_name": "",
        "family_name": "",
        "date_of_birth": None,
        "phone": "",
        "zip_code": "",
    }
    values.update(typed)
    return client_possible_duplicates(network=network, **values)


def test_accents_case_hyphens_and_spanish_nickname_are_one_person(tenant):
    stored = ClientFactory(
        created_by_organization=tenant.hco,
        given_name="Pepe",
        family_name="Garcia Lopez",
        date_of_birth=DOB,
        phone="",
        zip_code="",
    )
    [match] = dupes(
        tenant.network, given_name="JOSÉ", family_name="García-López", date_of_birth=DOB
    )
    assert match.client == stored
    assert match.is_likely
    assert match.reason == "Same name and date of birth"


def test_english_nickname_bill_is_william(tenant):
    stored = ClientFactory(
        created_by_organization=tenant.hco,
        given_name="William",
        family_name="O'Neil",
        date_of_birth=DOB,
    )
    [match] = dupes(tenant.network, given_name="bill", family_name="ONeil", date_of_birth=DOB)
    assert (match.client, match.is_likely) == (stored, True)


def test_one_of_two_surnames_matches(tenant):
    stored = ClientFactory(
        created_by_organization=tenant.hco,
        given_name="Lucía",
        family_name="Hernández Ruiz",
        date_of_birth=DOB,
    )
    [match] = dupes(tenant.network, given_name="Lucia", family_name="Hernandez", date_of_birth=DOB)
    assert match.client == stored and match.is_likely


@pytest.mark.parametrize(
    ("typed", "strength", "reason"),
    [
        # Different given name, but the same family name, birth date and phone.
        (
            {"given_name": "Ana", "date_of_birth": DOB, "phone": "555.201.3344"},
            "likely",
            "Same family name, date of birth and phone",
        ),
        (
            {"given_name": "Ana", "date_of_birth": DOB, "zip_code": "60615-1234"},
            "likely",
            "Same family name, date of birth and ZIP",
        ),
        # Birth date mistyped: the phone and family name still find the record.
        (
            {"given_name": "Marisol", "date_of_birth": date(1984, 9, 3), "phone": "5552013344"},
            "possible",
            "Same family name and phone",
        ),
    ],
)
def test_rules_with_the_same_family_name(tenant, typed, strength, reason):
    stored = ClientFactory(
        created_by_organization=tenant.hco,
        given_name="Marisol",
        family_name="Quintero",
        date_of_birth=DOB,
        phone="(555) 201-3344",
        zip_code="60615",
    )
    [match] = dupes(tenant.network, family_name="QUINTERO", **typed)
    assert (match.client, match.strength, match.reason) == (stored, strength, reason)


def test_new_family_name_same_given_name_birth_date_and_zip_is_possible(tenant):
    stored = ClientFactory(
        created_by_organization=tenant.hco,
        given_name="Katherine",
        family_name="Olsen",
        date_of_birth=DOB,
        zip_code="60615",
        phone="",
    )
    [match] = dupes(
        tenant.network,
        given_name="Kate",
        family_name="Ramirez",  # married since
        date_of_birth=DOB,
        zip_code="60615",
    )
    assert (match.client, match.strength) == (stored, "possible")


def test_weak_coincidences_are_not_matches(tenant):
    ClientFactory(
        created_by_organization=tenant.hco,
        given_name="Tomasz",
        family_name="Nowak",
        date_of_birth=DOB,
        phone="(555) 201-9999",
        zip_code="60615",
    )
    # Same birth date and ZIP, different names; same family name only; same phone only.
    assert (
        dupes(
            tenant.network,
            given_name="Ada",
            family_name="Byron",
            date_of_birth=DOB,
            zip_code="60615",
        )
        == []
    )
    assert (
        dupes(
            tenant.network, given_name="Tomasz", family_name="Nowak", date_of_birth=date(1990, 1, 1)
        )
        == []
    )
    assert dupes(tenant.network, given_name="Ada", family_name="Byron", phone="555 201 9999") == []


def test_other_networks_are_never_searched(tenant):
    elsewhere = OrganizationFactory(network=NetworkFactory())
    ClientFactory(
        created_by_organization=elsewhere, given_name="Ines", family_name="Vaz", date_of_birth=DOB
    )
    assert dupes(tenant.network, given_name="Ines", family_name="Vaz", date_of_birth=DOB) == []


# --- the create page ---------------------------------------------------------------------


def record(**overrides):
    data = {
        "given_name": "José",
        "family_name": "García-López",
        "preferred_name": "",
        "date_of_birth": "1984-03-09",
        "phone": "(555) 201-3344",
        "email": "",
        "address_line": "",
        "city": "",
        "state": "",
        "zip_code": "60615",
        "preferred_language": "es",
        "race": "unknown",
        "ethnicity": "2135-2",
        "sex": "male",
        "gender_identity": "",
        "insurance_type": "medicaid",
        "insurance_payer": "",
        "insurance_member_id": "",
    }
    data.update(overrides)
    return data


def hidden_client(tenant, *, lead_org=None):
    """A record the tenant's CBO may not see: created by another organization of the network
    (not the lead navigator's), no release for the CBO."""
    creator = OrganizationFactory(network=tenant.network, name="Secret Shelter For Survivors")
    hidden = ClientFactory(
        created_by_organization=creator,
        given_name="Pepe",
        family_name="Garcia Lopez",
        date_of_birth=DOB,
        phone="(555) 777-0000",
        zip_code="60699",
        email="pepe.hidden@example.test",
    )
    if lead_org is not None:
        lead_user = member(lead_org, Role.NAVIGATOR, email="lead@lead-org.test")
        membership = Membership.objects.get(user=lead_user)
        LeadNavigatorAssignment.objects.create(
            client=hidden, membership=membership, assigned_by=lead_user
        )
        hidden.lead_navigator = membership
        hidden.save()
    return creator, hidden


def test_no_duplicate_creates_the_record_and_audits_field_names_only(client, login, tenant):
    login(tenant.cbo_staff)
    response = client.post("/clients/new/", record(given_name="Xochitl", family_name="Mendez"))
    created = Client.objects.get(family_name="Mendez")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{created.pk}/"
    assert created.created_by_organization == tenant.cbo
    assert created.phone == "(555) 201-3344"
    [event] = events(action=AuditEvent.Action.CREATE, object_type="client")
    assert client_ids(event) == [created.pk]
    assert event.organization_id == tenant.cbo.pk and event.actor_id == tenant.cbo_staff.pk
    assert "family_name" in event.detail["fields"]
    assert "Mendez" not in str(event.detail) and "Xochitl" not in str(event.detail)


def test_visible_duplicate_is_shown_with_a_link_and_nothing_is_created(client, login, tenant):
    mine = ClientFactory(
        created_by_organization=tenant.cbo,
        given_name="Pepe",
        family_name="Garcia Lopez",
        date_of_birth=DOB,
    )
    login(tenant.cbo_staff)
    before = Client.objects.count()
    response = client.post("/clients/new/", record())
    page = response.content.decode()
    # 409: the record would conflict with one that may be the same person; nothing is
    # created until the user says otherwise.
    assert response.status_code == 409
    assert Client.objects.count() == before
    assert 'value="García-López"' in page  # the form is there again, as typed
    assert f'href="/clients/{mine.pk}/"' in page
    assert "Same name and date of birth" in page
    assert "Create a new record anyway" in page
    # The matches shown are a read of those records.
    [shown] = events(action=AuditEvent.Action.SEARCH, object_type="client")
    assert client_ids(shown) == [mine.pk]


def test_hidden_duplicate_shows_only_that_it_exists_and_the_lead_navigators_org(
    client, login, tenant
):
    lead_org = OrganizationFactory(network=tenant.network, name="Lighthouse Navigators")
    creator, hidden = hidden_client(tenant, lead_org=lead_org)
    login(tenant.cbo_staff)
    response = client.post("/clients/new/", record())
    page = response.content.decode()
    assert response.status_code == 409
    assert "A record for this person may already exist" in page
    assert "Lighthouse Navigators" in page
    # Never the record's details, its creator or its id.
    for secret in (
        hidden.given_name,
        hidden.family_name,
        "03/09/1984",
        hidden.email,
        hidden.phone,
        hidden.zip_code,
        creator.name,
        f"/clients/{hidden.pk}/",
        f"#{hidden.pk}",
    ):
        assert secret not in page, secret
    assert not Client.objects.filter(created_by_organization=tenant.cbo).exists()
    # Telling the user a record exists is recorded in the client's accounting.
    [disclosed] = events(action=AuditEvent.Action.DISCLOSE)
    assert client_ids(disclosed) == [hidden.pk]
    assert disclosed.organization_id == tenant.cbo.pk


def test_hidden_duplicate_without_lead_navigator_points_to_the_backbone(client, login, tenant):
    creator, hidden = hidden_client(tenant)
    login(tenant.cbo_staff)
    page = client.post("/clients/new/", record()).content.decode()
    assert "A record for this person may already exist" in page
    assert tenant.backbone.name in page
    assert creator.name not in page
    assert hidden.family_name not in page


def test_create_anyway_after_seeing_the_matches(client, login, tenant):
    hidden_client(tenant)
    login(tenant.cbo_staff)
    page = client.post("/clients/new/", record()).content.decode()
    digest = page.split('name="matches_seen" value="')[1].split('"')[0]

    response = client.post("/clients/new/", record(confirm_new="on", matches_seen=digest))
    assert response.status_code == 302
    created = Client.objects.get(created_by_organization=tenant.cbo)
    [event] = events(action=AuditEvent.Action.CREATE, object_type="client")
    assert client_ids(event) == [created.pk]
    assert event.detail["possible_duplicates_overridden"] == 1


def test_create_anyway_does_not_cover_matches_the_user_never_saw(client, login, tenant):
    hidden_client(tenant)
    login(tenant.cbo_staff)
    # Confirmed without having been shown this match (no digest, or one for other matches).
    for seen in ("", "0" * 64):
        response = client.post("/clients/new/", record(confirm_new="on", matches_seen=seen))
        assert response.status_code == 409
        page = response.content.decode()
        assert "A record for this person may already exist" in page
        # A digest for other matches: the page says the matches changed.
        assert ("The possible matches changed since you checked" in page) == bool(seen)
    assert not Client.objects.filter(created_by_organization=tenant.cbo).exists()


def test_create_anyway_without_ticking_the_box_says_so_and_creates_nothing(client, login, tenant):
    hidden_client(tenant)
    login(tenant.cbo_staff)
    page = client.post("/clients/new/", record()).content.decode()
    digest = page.split('name="matches_seen" value="')[1].split('"')[0]

    response = client.post("/clients/new/", record(matches_seen=digest))  # box not ticked
    assert response.status_code == 409
    page = response.content.decode()
    assert "Tick the box if none of the records above is this person" in page
    assert "A record for this person may already exist" in page
    assert not Client.objects.filter(created_by_organization=tenant.cbo).exists()
    assert not events(action=AuditEvent.Action.CREATE, object_type="client")
