"""Personas and builders for the backbone-as-coordination-platform tests.

On the `tenant` fixture: the clinic (HCO) sends to the backbone's "Care coordination hub";
the backbone's navigators route to the food bank's pantry (the tenant's CBO) or to a
housing program of a second CBO; a third organization of the network is named in no
release and party to nothing; a fourth program belongs to an organization no release
names (routing to it is refused for consent).
"""

from __future__ import annotations

from dataclasses import dataclass

from directory.models import Program
from organizations.models import Organization, User
from organizations.roles import Role
from referrals.coordination import referral_route
from referrals.models import Referral
from referrals.services import referral_send
from tests.conftest import Tenant
from tests.factories import OrganizationFactory, ProgramFactory, member, release_for

NEEDS = ["food-insecurity"]


@dataclass
class Hub:
    tenant: Tenant
    hub_program: Program  # the backbone's coordination program
    pantry: Program  # the tenant's CBO's program
    housing_org: Organization
    housing: Program  # a second CBO's program
    uncovered: Program  # of an organization no release names
    clinic_user: User  # HCO navigator: sends
    navigator: User  # backbone navigator: routes
    navigator_colleague: User
    cbo_user: User
    housing_user: User
    third_org: Organization
    third_user: User
    release: object  # names the backbone and the housing CBO (the tenant's names the CBO)

    @property
    def client(self):
        return self.tenant.client

    @property
    def backbone(self) -> Organization:
        return self.tenant.backbone


def hub(tenant: Tenant, *, capacity: int | None = None) -> Hub:
    network = tenant.network
    housing_org = OrganizationFactory(
        network=network, name="Harborside Housing", kind=Organization.Kind.CBO
    )
    uncovered_org = OrganizationFactory(
        network=network, name="Unnamed Rides", kind=Organization.Kind.CBO
    )
    third_org = OrganizationFactory(
        network=network, name="Third Street Shelter", kind=Organization.Kind.CBO
    )
    release = release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[tenant.backbone, housing_org],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=tenant.hco_navigator,
    )
    return Hub(
        tenant=tenant,
        hub_program=ProgramFactory(
            organization=tenant.backbone,
            name="Care coordination hub",
            categories=["food-insecurity", "housing-instability"],
        ),
        pantry=ProgramFactory(
            organization=tenant.cbo,
            name="Northside Pantry",
            categories=["food-insecurity"],
            capacity=capacity,
        ),
        housing_org=housing_org,
        housing=ProgramFactory(
            organization=housing_org, name="Rent Help", categories=["food-insecurity"]
        ),
        uncovered=ProgramFactory(
            organization=uncovered_org, name="Grocery Rides", categories=["food-insecurity"]
        ),
        clinic_user=tenant.hco_navigator,
        navigator=member(tenant.backbone, Role.NAVIGATOR, email="hub-nav@test.test"),
        navigator_colleague=member(tenant.backbone, Role.STAFF, email="hub-staff@test.test"),
        cbo_user=tenant.cbo_staff,
        housing_user=member(housing_org, Role.STAFF, email="housing@test.test"),
        third_org=third_org,
        third_user=member(third_org, Role.STAFF, email="third@test.test"),
        release=release,
    )


def send_to_hub(h: Hub, **overrides) -> Referral:
    """The clinic's referral to the backbone's hub, through the real service."""
    fields = {
        "client": h.client,
        "program": h.hub_program,
        "sender_organization": h.tenant.hco,
        "sender_user": h.clinic_user,
        "needs": NEEDS,
        "reason": "Out of groceries; mornings are best.",
    }
    fields.update(overrides)
    return referral_send(**fields)


def route(h: Hub, whole: Referral, program: Program | None = None, user: User | None = None):
    """The backbone's navigator routes `whole` (default: to the pantry)."""
    return referral_route(
        referral=whole,
        program=program or h.pantry,
        actor=user or h.navigator,
        organization=h.backbone,
        reason="Clinic patient; call in the morning.",
    )


def fresh(referral: Referral) -> Referral:
    return Referral.objects.get(pk=referral.pk)
