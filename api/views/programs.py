"""Programs of the network's directory."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins

from directory.models import Program
from organizations.roles import Capability

from .. import filters
from ..serializers.programs import ProgramSerializer
from .base import ApiViewSet


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Programs of the network's directory, as the caller's organization sees it."""

    queryset = Program.objects.none()  # for the schema generator only

    serializer_class = ProgramSerializer
    required_capability = Capability.VIEW_DIRECTORY
    lookup_url_kwarg = "program_id"
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ProgramFilter

    def get_queryset(self):
        return Program.objects.visible_to(self.organization).select_related("organization")
