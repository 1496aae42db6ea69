"""Payment terms and statements, read-only, for finance systems (writes stay in the
browser). Visible to the term's payer and payee and the network's backbone
(payments.selectors); anyone else gets 404."""

from __future__ import annotations

import django_filters
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from audit.models import AuditEvent
from audit.services import audit_record
from consent.categories import Category
from organizations.roles import Capability
from payments.models import PaymentTerm, Statement
from payments.selectors import (
    shown_client_ids,
    statement_lines,
    statements_visible,
    terms_visible,
)

from ..filters import IdFilter
from ..serializers.payments import PaymentTermSerializer, StatementSerializer
from .base import ApiViewSet


class StatementFilter(django_filters.FilterSet):
    # Plain numbers, not model choices: a choice field would look ids up outside the scope.
    term = IdFilter(field_name="term_id")
    status = django_filters.MultipleChoiceFilter(choices=Statement.Status.choices)
    period_start_from = django_filters.DateFilter(
        field_name="period_start", lookup_expr="gte", label="Periods starting on or after (date)."
    )
    period_start_to = django_filters.DateFilter(
        field_name="period_start", lookup_expr="lte", label="Periods starting on or before (date)."
    )

    class Meta:
        model = Statement
        fields = ["term", "status", "period_start_from", "period_start_to"]


class PaymentTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Payment terms the caller's organization pays or is paid under (every term of its
    network for the backbone)."""

    queryset = PaymentTerm.objects.none()  # for the schema generator only

    serializer_class = PaymentTermSerializer
    # Money is an organization admin's business (as on the pages); a finance system's key
    # is made with the admin role.
    required_capability = Capability.MANAGE_PAYMENTS
    lookup_url_kwarg = "term_id"

    def get_queryset(self):
        # Programs and subsidies in one query each for the whole page; terms carry no
        # client data, so there is nothing to audit.
        return terms_visible(self.organization).prefetch_related("programs", "subsidies")


class StatementViewSet(mixins.ListModelMixin, ApiViewSet):
    """Monthly statements the caller's organization is payer or payee of (every statement
    of its network for the backbone)."""

    queryset = Statement.objects.none()  # for the schema generator only

    serializer_class = StatementSerializer
    required_capability = Capability.MANAGE_PAYMENTS
    lookup_url_kwarg = "statement_id"
    filter_backends = [DjangoFilterBackend]
    filterset_class = StatementFilter

    def get_queryset(self):
        return statements_visible(self.organization).prefetch_related("shares")

    @extend_schema(
        description="Statements without their lines (`lines` is null: read one statement for "
        "its lines): "
        "totals, status and who owes what, newest first. Filter by term, status and the "
        "period's first day."
    )
    def list(self, request, *args, **kwargs):
        # Without lines the list shows no client, so it writes no audit event, and it
        # stays at a fixed number of queries (statements, their shares).
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(StatementSerializer(page, many=True).data)

    @extend_schema(
        description="A statement with its lines. A line always carries its referral or "
        "pathway id and its date; its client only where the consent policy lets your "
        "organization see the client's demographics (null otherwise)."
    )
    def retrieve(self, request, statement_id: int):
        statement = get_object_or_404(self.get_queryset(), pk=statement_id)
        # The one consent rule for statement lines decides which clients are shown.
        views = statement_lines(self.organization, statement)
        shown = shown_client_ids(views)
        # Every read of a statement's lines is recorded, naming the clients it showed.
        audit_record(
            request=request,
            action=AuditEvent.Action.VIEW,
            object_type="statement",
            object_ids=[statement.pk],
            client_ids=shown,
            detail={"categories": [Category.DEMOGRAPHICS.value]} if shown else None,
        )
        return Response(StatementSerializer(statement, context={"lines": views}).data)
