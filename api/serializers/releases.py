"""Releases of information: read, capture, revoke."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from consent import policy
from consent.categories import Category
from consent.models import Release


class ReleaseSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    organization = serializers.PrimaryKeyRelatedField(read_only=True)
    recipients = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), read_only=True
    )
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "id",
            "client",
            "organization",
            "recipients",
            "all_network_partners",
            "categories",
            "purpose",
            "purpose_other",
            "language",
            "method",
            "signer",
            "captured_at",
            "effective_at",
            "expires_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields

    def get_is_active(self, release) -> bool:
        return policy.release_in_force(release)


class ReleaseCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    recipients = serializers.ListField(child=serializers.IntegerField(), required=False)
    all_network_partners = serializers.BooleanField(default=False)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), allow_empty=False
    )
    purpose = serializers.ChoiceField(choices=Release.Purpose.choices)
    purpose_other = serializers.CharField(required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Release.Language.choices, default="en")
    method = serializers.ChoiceField(
        choices=[Release.Method.ESIGNATURE, Release.Method.VERBAL],
        help_text="Signed paper forms are uploaded in the browser.",
    )
    esignature_name = serializers.CharField(required=False, allow_blank=True, default="")
    esignature_confirmed = serializers.BooleanField(default=False)
    verbal_witness_name = serializers.CharField(required=False, allow_blank=True, default="")
    signer = serializers.ChoiceField(choices=Release.Signer.choices, default="client")
    representative_name = serializers.CharField(required=False, allow_blank=True, default="")
    representative_relationship = serializers.CharField(
        required=False, allow_blank=True, default=""
    )
    effective_at = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField(
        required=False, help_text="Default: the network's release period after effective_at."
    )

    def validate(self, attrs):
        attrs.setdefault("effective_at", timezone.now())
        return attrs


class ReleaseRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
