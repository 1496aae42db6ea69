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
from audit.services import audit_read
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
    ReferralCreateSerializer,
    ReferralMoveSerializer,
    ReferralNoteSerializer,
    ReferralRejectSerializer,
    ReferralSerializer,
)
from .base import ApiViewSet


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

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_read(
            request,
            object_type="referral",
            objects=page,
            categories=[Category.REFERRALS],
            action=AuditEvent.Action.LIST,
        )
        return self.get_paginated_response(
            ReferralSerializer(page, many=True, context={"organization": self.organization}).data
        )

    def retrieve(self, request, referral_id: int):
        referral = get_object_or_404(self.get_queryset(), pk=referral_id)
        audit_read(
            request, object_type="referral", objects=[referral], categories=[Category.REFERRALS]
        )
        return Response(
            ReferralSerializer(referral, context={"organization": request.organization}).data
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
