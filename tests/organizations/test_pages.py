"""Organization pages: the active organization, switching, partnerships, staff."""

import pytest

from organizations.models import Organization
from organizations.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, PartnershipFactory, member

pytestmark = pytest.mark.django_db


def test_user_in_two_organizations_switches_and_the_choice_sticks(client, login, tenant):
    user = tenant.hco_navigator
    MembershipFactory(user=user, organization=tenant.cbo, role=Role.NAVIGATOR)
    login(user)
    first = client.get("/").content.decode()
    assert 'data-testid="active-organization">' + tenant.hco.name in first  # alphabetical

    response = client.post("/organization/switch/", {"organization": tenant.cbo.pk})
    assert response.status_code == 302
    page = client.get("/partnerships/").content.decode()
    assert 'data-testid="active-organization">' + tenant.cbo.name in page


def test_cannot_switch_into_an_organization_one_is_not_part_of(client, login, tenant):
    login(tenant.hco_staff)
    response = client.post("/organization/switch/", {"organization": tenant.cbo.pk})
    assert response.status_code == 404
    assert tenant.hco.name in client.get("/").content.decode()


def test_ended_membership_falls_back_to_another_organization(client, login, tenant):
    user = tenant.hco_navigator
    second = MembershipFactory(user=user, organization=tenant.cbo, role=Role.NAVIGATOR)
    login(user)
    client.post("/organization/switch/", {"organization": tenant.cbo.pk})
    second.is_active = False
    second.save()
    assert (
        'data-testid="active-organization">' + tenant.hco.name in client.get("/").content.decode()
    )


def test_user_without_membership_is_told_so(client, django_user_model):
    user = django_user_model.objects.create_user(email="lonely@example.test", password="x" * 20)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "not part of an organization" in response.content.decode()


def test_partners_see_their_partnership_a_bystander_in_the_network_does_not(client, login, tenant):
    bystander_org = OrganizationFactory(network=tenant.network, kind=Organization.Kind.CBO)
    bystander = member(bystander_org, Role.ORG_ADMIN)
    url = f"/partnerships/{tenant.partnership.pk}/"

    login(tenant.hco_admin)
    assert tenant.partnership.name in client.get(url).content.decode()
    client.logout()

    login(bystander)
    assert client.get(url).status_code == 404
    assert tenant.partnership.name not in client.get("/partnerships/").content.decode()


def test_backbone_admin_sees_every_partnership_in_the_network(client, login, tenant):
    other = PartnershipFactory(
        network=tenant.network, name="Backbone-visible pact", organizations=[tenant.cbo]
    )
    login(tenant.backbone_admin)
    listing = client.get("/partnerships/").content.decode()
    assert tenant.partnership.name in listing
    assert other.name in listing


def test_staff_role_cannot_open_partnerships_or_staff_list(client, login, tenant):
    login(tenant.cbo_staff)
    assert client.get("/partnerships/").status_code == 403
    assert client.get("/organization/members/").status_code == 403


def test_org_admin_sees_own_staff_only(client, login, tenant):
    login(tenant.hco_admin)
    page = client.get("/organization/members/").content.decode()
    assert tenant.hco_staff.email in page
    assert tenant.cbo_staff.email not in page


def test_list_pages_use_a_constant_number_of_queries(
    client, login, tenant, django_assert_max_num_queries
):
    for n in range(30):
        PartnershipFactory(
            network=tenant.network, name=f"Pact {n}", organizations=[tenant.hco, tenant.cbo]
        )
    login(tenant.backbone_admin)
    # session, user, memberships, device check, count, page rows, prefetch of parties,
    # savepoints: a fixed set whatever the number of partnerships.
    with django_assert_max_num_queries(12):
        response = client.get("/partnerships/")
    assert response.content.decode().count("/partnerships/") > 25


def test_network_page_searches_and_shows_an_empty_state(client, login, tenant):
    login(tenant.hco_staff)
    assert tenant.cbo.name in client.get("/network/organizations/?q=Food").content.decode()
    empty = client.get("/network/organizations/?q=no-such-place").content.decode()
    assert "No organization matches" in empty


def test_pages_declare_a_phone_viewport(client, login, tenant):
    login(tenant.hco_staff)
    assert 'name="viewport" content="width=device-width' in client.get("/").content.decode()


def test_health_reports_database_and_worker_age(client, db):
    from django.utils import timezone

    from organizations.models import Heartbeat

    assert client.get("/health/").json() == {
        "database": "ok",
        "worker_last_seen_seconds_ago": None,
    }
    Heartbeat.objects.create(name="worker", seen_at=timezone.now())
    assert client.get("/health/").json()["worker_last_seen_seconds_ago"] < 5


def test_object_level_grant_opens_one_partnership_to_one_person(client, login, tenant):
    """A payer analyst may be given one partnership (django-guardian), nothing more."""
    from organizations.services import partnership_grant_view

    payer = OrganizationFactory(network=tenant.network, kind=Organization.Kind.PAYER)
    analyst = member(payer, Role.NAVIGATOR)
    other = PartnershipFactory(network=tenant.network, organizations=[tenant.hco])
    url = f"/partnerships/{tenant.partnership.pk}/"

    login(analyst)
    assert client.get(url).status_code == 404
    assert partnership_grant_view(partnership=tenant.partnership, user=analyst) is True
    assert partnership_grant_view(partnership=tenant.partnership, user=analyst) is False
    assert tenant.partnership.name in client.get(url).content.decode()
    listing = client.get("/partnerships/").content.decode()
    assert tenant.partnership.name in listing
    assert other.name not in listing
    assert client.get(f"/partnerships/{other.pk}/").status_code == 404


def test_grants_never_reach_outside_the_network(tenant, foreign_tenant):
    from django.core.exceptions import ValidationError

    from organizations.services import partnership_grant_view

    with pytest.raises(ValidationError, match="works for no organization"):
        partnership_grant_view(partnership=tenant.partnership, user=foreign_tenant.hco_admin)
