"""The harness must fail when a view leaks: shown against deliberately broken views."""

import pytest
from django.test import override_settings

from tests.tenancy.harness import probe_routes
from tests.tenancy.probes import admin_probes, page_probes, sentinels

pytestmark = pytest.mark.django_db


@override_settings(ROOT_URLCONF="tests.tenancy.broken_urls")
def test_harness_reports_broken_views(client, login, tenant, foreign_tenant):
    login(foreign_tenant.hco_admin)
    findings = probe_routes(
        client,
        probes=page_probes(tenant),
        admin_probes=admin_probes(tenant),
        sentinels=sentinels(tenant),
    )
    by_route = {(f.route, f.problem) for f in findings}
    assert any(r == "broken_detail" and p.startswith("shows foreign data") for r, p in by_route)
    assert ("broken_detail", "object route not denied") in by_route
    assert any(r == "broken_list" and p.startswith("shows foreign data") for r, p in by_route)
    assert any(
        r == "broken_referral_list" and p.startswith("shows foreign data") for r, p in by_route
    )
    assert ("broken_unprobed", "no probe for ['widget_id']") in by_route
    # ...and nothing else: the real routes stay clean under the same sweep.
    assert {f.route for f in findings} == {
        "broken_detail",
        "broken_list",
        "broken_referral_list",
        "broken_unprobed",
    }
