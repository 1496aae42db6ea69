"""The organizations of the caller's network."""

from __future__ import annotations

from rest_framework import mixins

from organizations.models import Organization
from organizations.roles import Capability

from ..serializers.organizations import OrganizationSerializer
from .base import ApiViewSet


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The organizations of the caller's network (the shared directory)."""

    queryset = Organization.objects.none()  # for the schema generator only

    serializer_class = OrganizationSerializer
    required_capability = Capability.VIEW_DIRECTORY
    lookup_url_kwarg = "organization_id"

    def get_queryset(self):
        return Organization.objects.visible_to(self.organization)
