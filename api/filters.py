"""Query filters for lists. Ids only (never names): URLs carry no PHI."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from referrals.models import Referral
from referrals.workflow import Status


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC. Python accepts offsets up to ±23:59 but PostgreSQL only
    ±15:59, so a valid-looking `+21:31` would otherwise fail in the database."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("This time is out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


# PostgreSQL bigint: a larger number is no row's id, and is refused rather than looked up.
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    default_error_messages = {
        "invalid": "An id is a whole number.",
        "min_value": "An id is a positive number.",
        "max_value": "No row has an id that large.",
    }

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number (NumberFilter alone takes decimals such as 1e+136) from 1
    to the largest bigint."""

    field_class = IdField


class UpdatedSinceFilterSet(django_filters.FilterSet):
    updated_since = UtcIsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after (ISO 8601)."
    )


class ClientFilter(UpdatedSinceFilterSet):
    pass


class ReferralFilter(UpdatedSinceFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    # Plain numbers, not model choices: a choice field would look ids up outside the scope.
    program = IdFilter(field_name="program_id")
    client = IdFilter(field_name="client_id")
    box = django_filters.ChoiceFilter(
        choices=[("sent", "Sent by us"), ("received", "Received by us")],
        method="filter_box",
    )

    class Meta:
        model = Referral
        fields = ["status", "program", "client", "updated_since"]

    def filter_box(self, queryset, name, value):
        org = self.request.organization
        if value == "sent":
            return queryset.filter(sender_organization=org)
        return queryset.filter(receiver_organization=org)


class ProgramFilter(django_filters.FilterSet):
    organization = IdFilter(field_name="organization_id")
