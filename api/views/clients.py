"""Clients: list, read, create, search (every read audited)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.services import audit_read
from clients.models import Client
from clients.selectors import client_search
from clients.services import client_create
from consent import policy
from consent.categories import Category
from organizations.roles import Capability

from .. import filters
from ..serializers.clients import (
    ClientDetailSerializer,
    ClientSearchSerializer,
    ClientSummarySerializer,
    ClientWriteSerializer,
)
from .base import ApiViewSet


class ClientViewSet(mixins.ListModelMixin, ApiViewSet):
    """Clients whose records the caller's organization may see under the consent policy."""

    queryset = Client.objects.none()  # for the schema generator only

    lookup_url_kwarg = "client_id"
    capabilities = {"create": Capability.EDIT_CLIENTS}
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ClientFilter

    def get_queryset(self):
        # Lists and searches show names, so only demographics-visible clients appear;
        # tombstones (records merged into another) are not listed.
        return Client.objects.visible_to(self.organization, Category.DEMOGRAPHICS).current()

    def get_serializer_class(self):
        if self.action == "create":
            return ClientWriteSerializer
        if self.action == "search":
            return ClientSearchSerializer
        if self.action == "retrieve":
            return ClientDetailSerializer
        return ClientSummarySerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_read(
            request,
            object_type="client",
            objects=page,
            client_id_attr="pk",
            categories=[Category.DEMOGRAPHICS],
            action=AuditEvent.Action.LIST,
        )
        return self.get_paginated_response(ClientSummarySerializer(page, many=True).data)

    @extend_schema(responses={200: ClientDetailSerializer})
    def retrieve(self, request, client_id: int):
        client = get_object_or_404(Client.objects.visible_to(self.organization), pk=client_id)
        categories = policy.visible_categories(self.organization, client)
        audit_read(
            request,
            object_type="client",
            objects=[client],
            client_id_attr="pk",
            categories=[c.value for c in categories],
        )
        data = ClientDetailSerializer(client, context={"categories": categories}).data
        return Response(data)

    @extend_schema(
        request=ClientWriteSerializer,
        responses={201: ClientDetailSerializer},
    )
    def create(self, request):
        incoming = ClientWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        client = client_create(
            organization=self.organization,
            actor=request.user,
            data=dict(incoming.validated_data),
            request=request,
        )
        data = ClientDetailSerializer(client, context={"categories": set(Category)})
        return Response(data.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ClientSearchSerializer,
        responses={200: ClientSummarySerializer(many=True)},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def search(self, request):
        """Find clients by name, birth date, phone or identifier (terms in the body)."""
        terms = ClientSearchSerializer(data=request.data)
        terms.is_valid(raise_exception=True)
        found = list(client_search(organization=self.organization, **terms.validated_data)[:50])
        audit_read(
            request,
            object_type="client",
            objects=found,
            client_id_attr="pk",
            categories=[Category.DEMOGRAPHICS],
            action=AuditEvent.Action.SEARCH,
        )
        return Response(ClientSummarySerializer(found, many=True).data)
