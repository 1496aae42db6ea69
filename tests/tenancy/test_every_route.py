"""Every route, as every kind of foreign user, with the victim's real object ids."""

import pytest

from tests.tenancy.harness import iter_routes, probe_routes
from tests.tenancy.probes import admin_probes, page_probes, sentinels

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


def test_harness_sees_the_routes_that_exist():
    names = {r.name for r in iter_routes()}
    # A sanity floor: if the walk stopped finding routes, the sweep above would pass vacuously.
    assert {"dashboard", "partnership_detail", "login", "admin:index"} <= names
