"""Programs of the network's directory."""

from __future__ import annotations

from rest_framework import serializers

from directory.models import Program


class ProgramSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    # Plain strings: blank is allowed, and a blank-or-URL "oneOf" is ambiguous to clients.
    email = serializers.CharField(read_only=True)
    website = serializers.CharField(read_only=True)

    class Meta:
        model = Program
        fields = [
            "id",
            "organization",
            "organization_name",
            "name",
            "description",
            "eligibility",
            "minimum_age",
            "maximum_age",
            "fees",
            "hours",
            "intake",
            "phone",
            "email",
            "website",
            "accepting_referrals",
            "hsds_id",
            "updated_at",
        ]
        read_only_fields = fields
