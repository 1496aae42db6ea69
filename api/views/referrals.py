"""Referrals: list, read, send, the note thread, and one view per move."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.idempotency import IdempotentPostMixin
from apikeys.permissions import HasCapability
from audit.models import AuditEvent
from audit.services import audit_read, audit_read_rows
from clients.selectors import client_to_write
from consent import policy
from consent.categories import Category
from directory.models import Program
from organizations.models import Organization
from organizations.roles import Capability
from referrals.models import Referral
from referrals.services import referral_note_add, referral_send, referral_transition
from referrals.workflow import MOVES

from .. import filters
from ..parsers import JSONParser
from ..serializers.referrals import (
    REFERRAL_ROW_FIELDS,
    ReferralCreateSerializer,
    ReferralMoveSerializer,
    ReferralNoteSerializer,
    ReferralRejectSerializer,
    ReferralSerializer,
    referral_rows_representation,
)
from .base import ApiViewSet

# Built once: resolving the row fields' names costs as much again as running the page's
# query; each request filters a copy (a queryset is never evaluated in place).
_REFERRAL_ROWS = Referral.objects.values(*REFERRAL_ROW_FIELDS)


class ReferralViewSet(mixins.ListModelMixin, ApiViewSet):
    """Referrals the caller's organization sent or received."""

    queryset = Referral.objects.none()  # for the schema generator only

    serializer_class = ReferralSerializer
    lookup_url_kwarg = "referral_id"
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ReferralFilter

    def get_queryset(self):
        # The client comes along: the consent policy's answers need its creator.
        return (
            Referral.objects.visible_to(self.organization)
            .select_related("client")
            .prefetch_related("needs")
        )

    def get_rows(self):
        """The same referrals as rows (list and detail): ReferralSerializer's JSON built
        from them, without a model instance per referral."""
        return _REFERRAL_ROWS.visible_to(self.organization)

    def filter_queryset(self, queryset):
        # No filter asked for: no FilterSet to build and validate (its form cost more than
        # the page's own query); the referrals are the same.
        if not self.request.query_params.keys() & filters.ReferralFilter.base_filters.keys():
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.filter_queryset(self.get_rows()))
        self._audit(rows, action=AuditEvent.Action.LIST)
        return self.get_paginated_response(
            referral_rows_representation(rows, organization=self.organization)
        )

    def retrieve(self, request, referral_id: int):
        row = get_object_or_404(self.get_rows(), pk=referral_id)
        self._audit([row], action=AuditEvent.Action.VIEW)
        return Response(referral_rows_representation([row], organization=self.organization)[0])

    def _audit(self, rows: list[dict], *, action: str) -> None:
        # One event for the page with its client rows, in one statement.
        audit_read_rows(
            self.request,
            object_type="referral",
            object_ids=[row["id"] for row in rows],
            client_ids=[row["client_id"] for row in rows],
            categories=[Category.REFERRALS],
            action=action,
        )

    @extend_schema(
        request=ReferralCreateSerializer,
        responses={201: ReferralSerializer},
    )
    def create(self, request):
        """Send a referral (refused unless a release lets the receiver see what it carries)."""
        incoming = ReferralCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        # A merged record's id reaches the survivor (clients.selectors.client_to_write).
        client = client_to_write(self.organization, data.pop("client"))
        if client is None:
            raise ValidationError({"client": "No client with this id that you may see."})
        program_id, receiver_id = data.pop("program"), data.pop("receiver_organization")
        receiver = None
        if receiver_id is not None:
            receiver = Organization.objects.visible_to(self.organization).filter(pk=receiver_id)
            receiver = receiver.first()
            if receiver is None:
                raise ValidationError(
                    {"receiver_organization": "No organization with this id in your network."}
                )
        program = None
        if program_id is not None:
            program = Program.objects.visible_to(self.organization).filter(pk=program_id)
            program = program.select_related("organization").first()
            if program is None:
                raise ValidationError({"program": "No program with this id in your directory."})
        referral = referral_send(
            client=client,
            program=program,
            receiver_organization=receiver,
            sender_organization=self.organization,
            sender_user=request.user,
            **data,
        )
        referral = self.get_queryset().get(pk=referral.pk)
        return Response(
            ReferralSerializer(referral, context={"organization": request.organization}).data,
            status=201,
        )

    @extend_schema(methods=["GET"], responses={200: ReferralNoteSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=ReferralNoteSerializer,
        responses={201: ReferralNoteSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def notes(self, request, referral_id: int):
        """The note thread between sender and receiver."""
        referral = get_object_or_404(self.get_queryset(), pk=referral_id)
        if request.method == "POST":
            incoming = ReferralNoteSerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            note = referral_note_add(
                referral=referral,
                author=request.user,
                organization=self.organization,
                body=incoming.validated_data["body"],
            )
            return Response(ReferralNoteSerializer(note).data, status=201)
        # The other party's notes only as the consent policy lets the caller see them.
        sight = policy.referral_sight(self.organization, referral)
        notes = policy.visible_entries(sight, referral.notes.order_by("created_at", "id"))
        audit_read(
            request, object_type="referral", objects=[referral], categories=[Category.REFERRALS]
        )
        return Response(ReferralNoteSerializer(notes, many=True).data)


class ReferralMoveView(IdempotentPostMixin, APIView):
    """One move of the referral state machine (POST /referrals/{id}/{move}/)."""

    parser_classes = [JSONParser]
    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_CLIENTS
    move = ""

    def get_serializer_class(self):
        # Declining has its own input (the decline reason); every other move shares one.
        if self.move == "reject":
            return ReferralRejectSerializer
        return ReferralMoveSerializer

    @extend_schema(responses={200: ReferralSerializer})
    def post(self, request, referral_id: int):
        referrals = Referral.objects.visible_to(request.organization).prefetch_related("needs")
        get_object_or_404(referrals, pk=referral_id)
        incoming = self.get_serializer_class()(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        program_id = data.pop("program", None)
        program = None
        if program_id is not None:
            # Narrowed to the caller's own programs: another organization's is refused
            # without saying whether it exists.
            program = Program.objects.filter(organization=request.organization, pk=program_id)
            program = program.first()
            if program is None:
                raise ValidationError(
                    {"program": "Choose one of your own organization's programs."}
                )
        referral_transition(
            referral_id=referral_id,
            move=self.move,
            actor=request.user,
            organization=request.organization,
            program=program,
            **data,
        )
        return Response(
            ReferralSerializer(
                referrals.get(pk=referral_id), context={"organization": request.organization}
            ).data
        )

    def get_view_description(self, html=False):
        move = MOVES[self.move]
        return f"{move.label}: moves the referral to {move.target}."
