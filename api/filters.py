"""Query filters for lists. Ids only (never names): URLs carry no PHI."""

from __future__ import annotations

import django_filters

from referrals.models import Referral
from referrals.workflow import Status


class UpdatedSinceFilterSet(django_filters.FilterSet):
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after (ISO 8601)."
    )


class ClientFilter(UpdatedSinceFilterSet):
    pass


class ReferralFilter(UpdatedSinceFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    # Plain numbers, not model choices: a choice field would look ids up outside the scope.
    program = django_filters.NumberFilter(field_name="program_id")
    client = django_filters.NumberFilter(field_name="client_id")
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
    organization = django_filters.NumberFilter(field_name="organization_id")
