def active_organization(request):
    """The header's organization switcher and navigation read these."""
    membership = getattr(request, "membership", None)
    return {
        "active_organization": getattr(request, "organization", None),
        "active_membership": membership,
        "user_memberships": getattr(request, "memberships", []),
        "capabilities": membership.capabilities if membership else frozenset(),
    }
