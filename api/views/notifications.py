"""The caller's own notifications."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from referrals.models import Notification
from referrals.services import notifications_mark_read

from ..serializers.notifications import MarkedReadSerializer, NotificationSerializer
from .base import ApiViewSet


class NotificationViewSet(mixins.ListModelMixin, ApiViewSet):
    """The caller's own notifications (for a key: its organization's referral updates)."""

    queryset = Notification.objects.none()  # for the schema generator only

    serializer_class = NotificationSerializer
    lookup_url_kwarg = "notification_id"
    required_capability = None

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user)

    @extend_schema(request=None, responses={200: MarkedReadSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, notification_id: int):
        """Mark one notification read."""
        get_object_or_404(self.get_queryset(), pk=notification_id)
        count = notifications_mark_read(user=request.user, notification_id=notification_id)
        return Response({"marked_read": count})

    @extend_schema(request=None, responses={200: MarkedReadSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every notification read."""
        return Response({"marked_read": notifications_mark_read(user=request.user)})
