"""The organizations of the network's directory."""

from __future__ import annotations

from rest_framework import serializers

from organizations.models import Organization


class OrganizationSerializer(serializers.ModelSerializer):
    # Blank for kinds without sub-kinds (a backbone); declared, as read-only fields lose it.
    sub_kind = serializers.ChoiceField(
        choices=Organization.SubKind.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "kind", "sub_kind", "is_active"]
        read_only_fields = fields
