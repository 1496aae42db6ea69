"""Shared helpers of the client page tests."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from organizations.models import Organization
from organizations.roles import Role
from tests.factories import OrganizationFactory, PartnershipFactory, member


@pytest.fixture
def bystander(tenant):
    """A CBO in the tenant's network, in an active partnership, with no release for the
    tenant's client: it sees nothing of that client."""
    org = OrganizationFactory(
        network=tenant.network, name="Bystander Pantry", kind=Organization.Kind.CBO
    )
    PartnershipFactory(
        network=tenant.network, name="Clinic + Pantry", organizations=[tenant.hco, org]
    )
    return org


@pytest.fixture
def bystander_navigator(bystander):
    return member(bystander, Role.NAVIGATOR, email="nav@bystander.test", last_name="Bystandish")


def events(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def client_ids(event) -> list[int]:
    return sorted(event.clients.values_list("client_id", flat=True))


def assert_no_phi(event, *values) -> None:
    """The event's detail names no value of the client (only codes and field names)."""
    dumped = json.dumps(event.detail).lower()
    for value in values:
        assert str(value).lower() not in dumped, f"PHI {value!r} in audit detail"
