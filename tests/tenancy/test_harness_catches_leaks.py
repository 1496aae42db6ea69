"""The harness must fail when a view leaks: shown against deliberately broken views, for
each kind of outsider."""

import pytest
from django.test import override_settings

from organizations.models import Membership
from tests.tenancy.harness import SAME_NETWORK, WRONG_ROLE, Outsider, probe_routes
from tests.tenancy.probes import (
    admin_probes,
    page_probes,
    same_network_sentinels,
    sentinels,
    wrong_role_sentinels,
)

pytestmark = pytest.mark.django_db


def _leaks(findings, route) -> bool:
    return any(f.route == route and f.problem.startswith("shows foreign data") for f in findings)


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
    assert _leaks(findings, "broken_detail")
    assert ("broken_detail", "object route not denied") in by_route
    assert _leaks(findings, "broken_list")
    assert _leaks(findings, "broken_referral_list")
    assert ("broken_unprobed", "no probe for ['widget_id']") in by_route
    # The key list shows the victim's key label (made for the real key routes walked first).
    assert _leaks(findings, "broken_key_list")
    # ...and nothing else: the real routes stay clean under the same sweep.
    assert {f.route for f in findings} == {
        "broken_detail",
        "broken_list",
        "broken_referral_list",
        "broken_unprobed",
        "broken_key_list",
    }


@override_settings(ROOT_URLCONF="tests.tenancy.broken_urls")
def test_harness_reports_broken_views_to_a_neighbour_in_the_network(
    client, login, tenant, neighbour
):
    login(neighbour.staff)
    findings = probe_routes(
        client,
        probes=page_probes(tenant),
        admin_probes=admin_probes(tenant),
        sentinels=same_network_sentinels(tenant),
        outsider=Outsider(SAME_NETWORK),
    )
    assert _leaks(findings, "broken_referral_list")
    # The partnership belongs to the clinic and the food bank, not to the neighbour.
    assert _leaks(findings, "broken_detail")
    assert _leaks(findings, "broken_key_list")
    assert {f.route for f in findings} == {
        "broken_detail",
        "broken_list",
        "broken_referral_list",
        "broken_unprobed",
        "broken_key_list",
    }


@override_settings(ROOT_URLCONF="tests.tenancy.broken_urls")
def test_harness_reports_a_route_that_serves_the_wrong_role(client, login, tenant):
    from tests.tenancy.probes import _api_key_of

    _api_key_of(tenant)  # the clinic's key, whose label only its admins may read
    login(tenant.hco_staff)
    findings = probe_routes(
        client,
        probes=page_probes(tenant),
        admin_probes=admin_probes(tenant),
        sentinels=wrong_role_sentinels(tenant, tenant.hco_staff),
        outsider=Outsider(WRONG_ROLE, Membership.objects.get(user=tenant.hco_staff)),
    )
    problems = {(f.route, f.method, f.problem) for f in findings}
    assert ("broken_key_list", "GET", "role lacks capability not denied") in problems
    assert _leaks(findings, "broken_key_list")
    # The other broken views declare no capability: not a wrong-role probe's business.
    assert {f.route for f in findings} == {"broken_key_list"}
