"""Releases of information: read, capture, revoke."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from assessments.services import add_months
from audit.services import audit_read
from clients.selectors import client_to_write
from consent.models import Release
from consent.services import release_create, release_revoke
from organizations.models import Organization
from organizations.roles import Capability

from ..serializers.releases import (
    ReleaseCreateSerializer,
    ReleaseRevokeSerializer,
    ReleaseSerializer,
)
from .base import ApiViewSet


class ReleaseViewSet(ApiViewSet):
    """Releases of information the caller's organization captured or is named in."""

    queryset = Release.objects.none()  # for the schema generator only

    serializer_class = ReleaseSerializer
    lookup_url_kwarg = "release_id"
    capabilities = {"create": Capability.CAPTURE_RELEASES, "revoke": Capability.CAPTURE_RELEASES}

    def get_queryset(self):
        return Release.objects.visible_to(self.organization).prefetch_related("recipients")

    def retrieve(self, request, release_id: int):
        release = get_object_or_404(self.get_queryset(), pk=release_id)
        audit_read(request, object_type="release", objects=[release])
        return Response(ReleaseSerializer(release).data)

    @extend_schema(
        request=ReleaseCreateSerializer,
        responses={201: ReleaseSerializer},
    )
    def create(self, request):
        incoming = ReleaseCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        # A merged record's id reaches the survivor (clients.selectors.client_to_write).
        client = client_to_write(self.organization, data.pop("client"))
        if client is None:
            raise ValidationError({"client": "No client with this id that you may see."})
        wanted = set(data.pop("recipients", []))
        recipients = list(Organization.objects.visible_to(self.organization).filter(pk__in=wanted))
        if len(recipients) != len(wanted):
            raise ValidationError({"recipients": "Unknown organization id in this network."})
        data.setdefault(
            "expires_at", add_months(data["effective_at"], client.network.release_default_months)
        )
        release = release_create(
            client=client,
            organization=self.organization,
            captured_by=request.user,
            recipients=recipients,
            **data,
        )
        return Response(ReleaseSerializer(release).data, status=201)

    @extend_schema(
        request=ReleaseRevokeSerializer,
        responses={200: ReleaseSerializer},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, release_id: int):
        """Revoke now: recipients lose access at once."""
        release = get_object_or_404(self.get_queryset(), pk=release_id)
        incoming = ReleaseRevokeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        release = release_revoke(
            release=release,
            actor=request.user,
            organization=self.organization,
            reason=incoming.validated_data["reason"],
        )
        release = self.get_queryset().get(pk=release.pk)
        return Response(ReleaseSerializer(release).data)
