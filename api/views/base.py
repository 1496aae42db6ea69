"""What every API view set shares: JSON in, capability checks, idempotent POSTs."""

from __future__ import annotations

from rest_framework import viewsets

from apikeys.idempotency import IdempotentPostMixin
from apikeys.permissions import HasCapability
from organizations.roles import Capability

from ..parsers import JSONParser
from ..renderers import OrjsonRenderer

ID = "[0-9]+"


class ApiViewSet(IdempotentPostMixin, viewsets.GenericViewSet):
    parser_classes = [JSONParser]
    renderer_classes = [OrjsonRenderer]
    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_CLIENTS
    capabilities: dict = {}
    lookup_value_regex = ID

    @property
    def organization(self):
        return self.request.organization
