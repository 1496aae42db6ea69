"""One permission: acting for an organization, holding the capability the view declares."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class HasCapability(BasePermission):
    """The view declares `required_capability` (or `capabilities`, by action); the request's
    membership (a person's, or an API key's) must hold it."""

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        membership = getattr(request, "membership", None)
        if membership is None:
            self.message = "Act for an organization to use the API."
            return False
        by_action = getattr(view, "capabilities", {}) or {}
        capability = by_action.get(getattr(view, "action", None), view.required_capability)
        return capability is None or membership.has(capability)
