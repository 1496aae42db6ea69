"""Every route, as every kind of outsider, with the victim's real object ids: members of an
organization in another network, of one in the victim's own network that is party to none
of its referrals, and of the victim organization itself in a role that lacks what a route
needs."""

import pytest

from organizations.models import Membership
from organizations.roles import Capability, Role
from tests.factories import member
from tests.tenancy.harness import (
    SAME_NETWORK,
    WRONG_ROLE,
    Outsider,
    declared_capability,
    iter_routes,
    probe_routes,
)
from tests.tenancy.probes import (
    admin_probes,
    page_probes,
    same_network_sentinels,
    sentinels,
    wrong_role_sentinels,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["backbone_admin", "hco_admin", "hco_navigator", "cbo_staff"])
def test_no_route_shows_another_tenant_anything(client, login, tenant, foreign_tenant, persona):
    login(getattr(foreign_tenant, persona))
    findings = probe_routes(
        client,
        probes=page_probes(tenant),
        admin_probes=admin_probes(tenant),
        sentinels=sentinels(tenant),
    )
    assert not findings, "\n".join(map(str, findings))


@pytest.mark.parametrize("persona", ["admin", "navigator", "staff"])
def test_no_route_shows_a_neighbour_in_the_network_anything(
    client, login, tenant, neighbour, persona
):
    login(getattr(neighbour, persona))
    findings = probe_routes(
        client,
        probes=page_probes(tenant),
        admin_probes=admin_probes(tenant),
        sentinels=same_network_sentinels(tenant),
        outsider=Outsider(SAME_NETWORK),
    )
    assert not findings, "\n".join(map(str, findings))


def _backbone_navigator(tenant):
    # Not an admin of the backbone: the network's settings are not theirs to change.
    return member(tenant.backbone, Role.NAVIGATOR, email="bb-nav@marrowdale.test")


WRONG_ROLES = {
    "hco_staff": lambda t: t.hco_staff,
    "hco_navigator": lambda t: t.hco_navigator,
    "cbo_staff": lambda t: t.cbo_staff,
    "backbone_navigator": _backbone_navigator,
}


@pytest.mark.parametrize("persona", sorted(WRONG_ROLES))
def test_no_route_serves_a_member_whose_role_lacks_its_capability(client, login, tenant, persona):
    user = WRONG_ROLES[persona](tenant)
    login(user)
    findings = probe_routes(
        client,
        probes=page_probes(tenant),
        admin_probes=admin_probes(tenant),
        sentinels=wrong_role_sentinels(tenant, user),
        outsider=Outsider(WRONG_ROLE, Membership.objects.get(user=user)),
    )
    assert not findings, "\n".join(map(str, findings))


def test_harness_sees_the_routes_that_exist():
    names = {r.name for r in iter_routes()}
    # A sanity floor: if the walk stopped finding routes, the sweep above would pass vacuously.
    assert {"dashboard", "partnership_detail", "login", "admin:index"} <= names


def test_the_wrong_role_walk_reaches_the_org_admin_routes(tenant):
    """What a staff member is sent to: staff management, API keys, webhooks, FHIR
    subscriptions, partnership settings, the access log. If the capability stopped being
    read off the views, the wrong-role sweep would pass vacuously."""
    staff = Outsider(WRONG_ROLE, Membership.objects.get(user=tenant.hco_staff))
    wanted = {(r.name, m) for r in iter_routes() for m in ("get", "post") if staff.wants(r, m)}
    assert {
        ("member_list", "get"),
        ("api_keys", "post"),
        ("api_key_revoke", "post"),
        ("webhook_new", "post"),
        ("webhook_delete", "post"),
        ("webhook_subscription_delete", "post"),
        ("fhir-subscription-list", "post"),
        ("partnership_programs", "post"),
        ("partnership_create", "post"),
        ("partnership_agreement_delete", "post"),
        ("client_lead_navigator", "post"),
        ("client_disclosures", "get"),
        ("access_log", "get"),
        ("reminder_rules", "post"),
    } <= wanted
    # ...and not the daily work every role may do.
    assert ("client_profile", "get") not in wanted
    assert ("fhir-subscription-list", "get") not in wanted


def test_capabilities_are_read_off_every_kind_of_view():
    by_name = {r.name: r for r in iter_routes()}
    assert declared_capability(by_name["api_keys"], "get") == Capability.MANAGE_MEMBERS
    assert declared_capability(by_name["api-client-list"], "post") == Capability.EDIT_CLIENTS
    assert declared_capability(by_name["api-client-list"], "get") == Capability.VIEW_CLIENTS
    assert declared_capability(by_name["fhir_Consent"], "post") == Capability.CAPTURE_RELEASES
    assert declared_capability(by_name["fhir_Organization_instance"], "get") == (
        Capability.VIEW_DIRECTORY
    )
    assert declared_capability(by_name["fhir-subscription-detail"], "delete") == (
        Capability.MANAGE_MEMBERS
    )
