"""The caller's own notifications."""

from __future__ import annotations

from rest_framework import serializers

from referrals.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    referral = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "referral", "kind", "message", "created_at", "read_at"]
        read_only_fields = fields


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField()
