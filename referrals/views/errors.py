"""Putting a service's refusal on the form the user filled in."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from organizations.models import Organization

from ..models import Referral
from ..transitions import DuplicateReferral


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """Errors keyed by a field the form has go beside that field; the rest (and plain
    messages) go to the top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def add_duplicate(
    form: forms.Form, error: DuplicateReferral, organization: Organization
) -> Referral | None:
    """Put a duplicate's refusal on the form; return the open referral the page links to
    when `organization` is party to it (a double-clicked send lands here: the first click's
    referral is the one). Another organization's open referral is named, not linked."""
    form.add_error(None, error)
    existing = error.existing
    if organization.pk in (existing.sender_organization_id, existing.receiver_organization_id):
        return existing
    return None
