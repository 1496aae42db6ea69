"""What a partnership covers: programs of its own organizations, set by their admins."""

import pytest

from organizations.models import Organization
from tests.factories import OrganizationFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _url(tenant, tail=""):
    return f"/partnerships/{tenant.partnership.pk}/{tail}"


def test_an_admin_of_a_partner_sets_the_covered_programs(tenant, login):
    pantry = ProgramFactory(organization=tenant.cbo, name="Weekly Pantry")
    ProgramFactory(organization=tenant.cbo, name="Not covered")
    c = login(tenant.hco_admin)
    page = c.get(_url(tenant)).content.decode()
    assert "No programs are listed for this partnership yet." in page
    assert "Weekly Pantry" in page  # offered as a choice
    response = c.post(_url(tenant, "programs/"), {"programs": [pantry.pk]})
    assert response.status_code == 302
    assert list(tenant.partnership.programs.all()) == [pantry]
    page = c.get(_url(tenant)).content.decode()
    assert 'data-testid="covered-programs"><li>Weekly Pantry' in page


def test_a_program_of_an_outside_organization_is_refused_and_nothing_changes(tenant, login):
    pantry = ProgramFactory(organization=tenant.cbo, name="Weekly Pantry")
    tenant.partnership.programs.set([pantry])
    outsider = OrganizationFactory(network=tenant.network, kind=Organization.Kind.CBO)
    elsewhere = ProgramFactory(organization=outsider, name="Outside Shelter")
    c = login(tenant.hco_admin)
    response = c.post(_url(tenant, "programs/"), {"programs": [elsewhere.pk]})
    assert response.status_code == 400
    assert "Choose programs of the partnership" in response.content.decode()
    assert list(tenant.partnership.programs.all()) == [pantry]


def test_staff_may_not_change_it(tenant, login):
    pantry = ProgramFactory(organization=tenant.cbo)
    c = login(tenant.hco_staff)
    assert c.post(_url(tenant, "programs/"), {"programs": [pantry.pk]}).status_code == 403
    assert not tenant.partnership.programs.exists()
    assert "Change the programs it covers" not in c.get(_url(tenant)).content.decode()
