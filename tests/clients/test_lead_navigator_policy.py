"""Who may replace a client's lead navigator: an organization that sees the client's
demographics under the consent policy, appointing one of its own navigators. Sight of the
client in one other category (its referrals, say) is not enough, and nobody can appoint
another organization's member (an API key's service user included)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from apikeys.services import api_key_create
from clients.models import LeadNavigatorAssignment
from clients.services import client_lead_navigator_assign
from consent import policy
from consent.categories import Category
from organizations.models import Membership, Organization
from organizations.roles import Role
from tests.factories import OrganizationFactory, PartnershipFactory, member, release_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrals_only(tenant):
    """A CBO in partnership with the clinic, named in a release of the client that covers
    referrals only: it sees the client, but not the client's demographics."""
    org = OrganizationFactory(
        network=tenant.network, name="Referrals-Only Shelter", kind=Organization.Kind.CBO
    )
    PartnershipFactory(
        network=tenant.network, name="Clinic + Shelter", organizations=[tenant.hco, org]
    )
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[org],
        categories=("referrals",),
        captured_by=tenant.hco_navigator,
    )
    return org


@pytest.fixture
def led(tenant):
    """The client, led by the clinic's navigator."""
    lead = Membership.objects.get(user=tenant.hco_navigator)
    client_lead_navigator_assign(client=tenant.client, membership=lead, actor=tenant.hco_navigator)
    return lead


def current_leads(client) -> list[Membership]:
    return [
        a.membership
        for a in LeadNavigatorAssignment.objects.filter(client=client, ended_at__isnull=True)
    ]


def test_the_fixture_org_sees_referrals_but_not_demographics(tenant, referrals_only):
    assert policy.may_see(referrals_only, Category.REFERRALS, tenant.client)
    assert not policy.may_see(referrals_only, Category.DEMOGRAPHICS, tenant.client)


def test_an_organization_seeing_only_referrals_cannot_replace_the_lead_on_the_page(
    client, login, tenant, referrals_only, led, django_capture_on_commit_callbacks
):
    navigator = member(referrals_only, Role.NAVIGATOR, email="nav@referrals-only.test")
    login(navigator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/clients/{tenant.client.pk}/lead-navigator/",
            {
                "membership": Membership.objects.get(user=navigator).pk,
                "handover_note": "Taking over.",
                "confirm_handover": "on",
            },
        )
    assert response.status_code == 404
    assert current_leads(tenant.client) == [led]
    assert mail.outbox == []


def test_the_service_refuses_an_organization_without_sight_of_demographics(
    tenant, referrals_only, led
):
    navigator = member(referrals_only, Role.NAVIGATOR)
    with pytest.raises(ValidationError, match="demographics"):
        client_lead_navigator_assign(
            client=tenant.client,
            membership=Membership.objects.get(user=navigator),
            actor=navigator,
            organization=referrals_only,
            handover_note="Taking over.",
        )
    assert current_leads(tenant.client) == [led]


def test_another_organizations_api_key_user_cannot_be_appointed(tenant, led):
    # The CBO's key acts as a navigator; the clinic (which sees the client) may not make
    # that service user the client's lead.
    key, _raw = api_key_create(organization=tenant.cbo, role=Role.NAVIGATOR, name="CBO system")
    with pytest.raises(ValidationError, match="your own organization"):
        client_lead_navigator_assign(
            client=tenant.client,
            membership=key.membership,
            actor=tenant.hco_admin,
            organization=tenant.hco,
            handover_note="Over to the CBO's system.",
        )
    assert current_leads(tenant.client) == [led]


def test_an_actor_cannot_appoint_for_an_organization_they_do_not_act_for(tenant, led):
    # The clinic's admin appointing the food bank's navigator, the food bank named as acting.
    cbo_navigator = member(tenant.cbo, Role.NAVIGATOR)
    with pytest.raises(ValidationError, match="your own organization"):
        client_lead_navigator_assign(
            client=tenant.client,
            membership=Membership.objects.get(user=cbo_navigator),
            actor=tenant.hco_admin,
            handover_note="Over to the food bank.",
        )
    assert current_leads(tenant.client) == [led]


def test_an_organization_seeing_demographics_appoints_its_own_navigator(
    tenant, led, django_capture_on_commit_callbacks
):
    # The food bank sees the client's demographics under the clinic's release.
    assert policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, tenant.client)
    cbo_navigator = member(tenant.cbo, Role.NAVIGATOR)
    new = Membership.objects.get(user=cbo_navigator)
    with django_capture_on_commit_callbacks(execute=True):
        client_lead_navigator_assign(
            client=tenant.client,
            membership=new,
            actor=cbo_navigator,
            organization=tenant.cbo,
            handover_note="Over to the food bank.",
        )
    assert current_leads(tenant.client) == [new]
    [email] = mail.outbox
    assert email.to == [tenant.hco_navigator.email]
