"""Who reads how much of a client's accounting of disclosures: the organization holding the
record (it created it), through its privacy role (the access-log capability), reads and
prints the full accounting for the client; any other organization reads only its own
people's accesses — on the page, in the CSV and on the printout alike — and so learns
nothing of other organizations' staff, referral ids or disclosures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import client_disclosures_for, has_full_accounting
from organizations.models import Membership, Organization
from organizations.roles import Role
from tests.factories import OrganizationFactory, member, release_for

from .util import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(tenant):
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False) as traveller:
        yield traveller


@pytest.fixture
def trail(tenant, frozen):
    """Accesses to the tenant's client by the clinic (holder), the food bank and a third
    organization, plus a disclosure to the third one; returns the people and orgs."""
    third = OrganizationFactory(
        network=tenant.network, name="Third Shelter", kind=Organization.Kind.CBO
    )
    third_staff = member(third, Role.STAFF, email="staff@third.test", last_name="Thirdsson")
    release_for(tenant.client, organization=tenant.hco, recipients=[third])
    hco_nurse = member(tenant.hco, Role.STAFF, email="nurse@clinic.test", last_name="Clinicsson")
    earlier = timezone.now() - timedelta(days=2)
    c = tenant.client.pk
    make_event(
        organization=tenant.hco,
        actor=hco_nurse,
        object_type="referral",
        object_ids=[987654],
        client_ids=[c],
        when=earlier,
        detail={"categories": ["referrals"]},
    )
    make_event(
        organization=tenant.cbo,
        actor=tenant.cbo_staff,
        object_ids=[c],
        client_ids=[c],
        when=earlier + timedelta(minutes=5),
        detail={"categories": ["demographics"]},
    )
    make_event(
        organization=third,
        actor=third_staff,
        object_type="referral",
        object_ids=[876543],
        client_ids=[c],
        when=earlier + timedelta(minutes=10),
    )
    make_event(
        organization=third,
        actor=third_staff,
        action=AuditEvent.Action.DISCLOSE,
        object_ids=[c],
        client_ids=[c],
        when=earlier + timedelta(minutes=15),
        detail={"disclosed": "possible_duplicate_exists"},
    )
    cbo_admin = member(tenant.cbo, Role.ORG_ADMIN, email="admin@foodbank.test")
    return {"third": third, "third_staff": third_staff, "nurse": hco_nurse, "cbo_admin": cbo_admin}


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))[1:]


def _url(tenant) -> str:
    return f"/clients/{tenant.client.pk}/disclosures/"


def test_a_recipient_sees_only_its_own_accesses_on_page_csv_and_printout(
    client, login, tenant, trail
):
    login(trail["cbo_admin"])
    foreign = [
        tenant.hco.name,
        trail["third"].name,
        trail["nurse"].get_full_name(),
        trail["third_staff"].get_full_name(),
        "987654",
        "876543",
    ]

    page = client.get(_url(tenant))
    assert page.status_code == 200
    rows = list(page.context["page"].object_list)
    assert rows and {e.organization_id for e in rows} == {tenant.cbo.pk}
    html = page.content.decode()
    assert tenant.cbo_staff.get_full_name() in html
    for leaked in foreign:
        assert leaked not in html

    exported = _csv(client.get(_url(tenant), {"format": "csv"}))
    assert exported and {r[1] for r in exported} == {tenant.cbo.name}
    flat = "\n".join(",".join(r) for r in exported)
    for leaked in foreign:
        assert leaked not in flat

    printed = client.get(_url(tenant), {"format": "print"})
    assert printed.status_code == 200
    text = printed.content.decode()
    assert text.count('data-testid="disclosure-row"') == len(
        client_disclosures_for(
            client_id=tenant.client.pk,
            record_holder_id=tenant.hco.pk,
            membership=Membership.objects.get(user=trail["cbo_admin"]),
        )
    )
    for leaked in foreign:
        assert leaked not in text
    # The printout is audited as a print by the food bank.
    assert AuditEvent.objects.filter(
        organization=tenant.cbo, action=AuditEvent.Action.PRINT, object_type="client_disclosures"
    ).exists()


def test_the_record_holders_privacy_role_reads_and_prints_the_full_accounting(
    client, login, tenant, trail
):
    login(tenant.hco_admin)
    orgs = {tenant.hco.name, tenant.cbo.name, trail["third"].name}

    page = client.get(_url(tenant))
    seen = {e.organization_id for e in page.context["page"].object_list}
    assert seen >= {tenant.hco.pk, tenant.cbo.pk, trail["third"].pk}

    exported = _csv(client.get(_url(tenant), {"format": "csv"}))
    assert {r[1] for r in exported} >= orgs
    assert any("987654" in r[5] for r in exported) and any("876543" in r[5] for r in exported)
    assert any(r[3] == "Disclosed" and r[1] == trail["third"].name for r in exported)

    printed = client.get(_url(tenant), {"format": "print"}).content.decode()
    for name in [*orgs, trail["third_staff"].get_full_name(), tenant.cbo_staff.get_full_name()]:
        assert name in printed
    assert "Disclosed" in printed


def test_another_organizations_privacy_role_is_no_record_holder(tenant, trail):
    """The third organization's admin has the capability, but not the record."""
    third_admin = member(trail["third"], Role.ORG_ADMIN, email="admin@third.test")
    membership = Membership.objects.get(user=third_admin)
    assert not has_full_accounting(record_holder_id=tenant.hco.pk, membership=membership)
    events = client_disclosures_for(
        client_id=tenant.client.pk, record_holder_id=tenant.hco.pk, membership=membership
    )
    assert {e.organization_id for e in events} == {trail["third"].pk}
    assert {e.action for e in events} == {AuditEvent.Action.VIEW, AuditEvent.Action.DISCLOSE}


def test_the_holders_staff_without_the_privacy_role_get_no_full_accounting(tenant, trail):
    membership = Membership.objects.get(user=tenant.hco_staff)
    assert not has_full_accounting(record_holder_id=tenant.hco.pk, membership=membership)
    events = client_disclosures_for(
        client_id=tenant.client.pk, record_holder_id=tenant.hco.pk, membership=membership
    )
    assert {e.organization_id for e in events} <= {tenant.hco.pk}
    admin = Membership.objects.get(user=tenant.hco_admin)
    assert has_full_accounting(record_holder_id=tenant.hco.pk, membership=admin)
