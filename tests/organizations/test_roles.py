"""Who may do what: the role map in organizations/roles.py, read as a matrix."""

from __future__ import annotations

import pytest

from organizations.roles import Capability, Role, capabilities_for

# (role, backbone) -> holds the capability. Org admins, of the backbone or of a member
# organization, read the measures and their own access log; nobody else does either.
ADMINS_ONLY = {
    (Role.STAFF, False): False,
    (Role.STAFF, True): False,
    (Role.NAVIGATOR, False): False,
    (Role.NAVIGATOR, True): False,
    (Role.ORG_ADMIN, False): True,
    (Role.ORG_ADMIN, True): True,
}


@pytest.mark.parametrize("capability", [Capability.VIEW_MEASURES, Capability.VIEW_ACCESS_LOG])
def test_measures_and_access_log_go_to_org_admins_only(capability):
    held = {
        (role, backbone): capability in capabilities_for(role, backbone=backbone)
        for role in Role
        for backbone in (False, True)
    }
    assert held == ADMINS_ONLY


def test_the_measures_have_a_capability_of_their_own():
    # Two names for two things: the measures pages must not be gated by the access log's.
    assert Capability.VIEW_MEASURES != Capability.VIEW_ACCESS_LOG
    assert Capability.VIEW_MEASURES.value == "view_measures"
