"""The tenancy rule in code: views declare a capability; objects come through scopes."""

from __future__ import annotations

from functools import wraps
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext

from .models import Organization
from .roles import Capability

M = TypeVar("M", bound=models.Model)


def member_required(capability: Capability | None = None):
    """Signed in, acting for an organization, and (optionally) holding a capability."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if request.membership is None:
                return render(request, "organizations/no_membership.html", status=403)
            if capability is not None and not request.membership.has(capability):
                raise PermissionDenied(gettext("Your role does not allow this."))
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability
        return wrapped

    return decorator


def get_visible_or_404(model: type[M], org: Organization, **lookup) -> M:
    """The object, if the organization may see it; 404 otherwise (never 403, so an
    outsider cannot learn that an id exists)."""
    return get_object_or_404(model.objects.visible_to(org), **lookup)
