"""The REST API (`/api/v1/`): short views over the same services, scopes and consent policy
as the pages. Every read of client data is audited (one event per list)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import Resolver404, resolve
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.engine import ItemAnswer
from assessments.models import Assessment, Instrument
from assessments.services import add_months, assessment_record
from audit.models import AuditEvent
from audit.services import audit_read
from clients.models import Client
from clients.selectors import client_search
from clients.services import client_create
from consent import policy
from consent.categories import Category
from consent.models import Release
from consent.services import release_create, release_revoke
from organizations.models import Organization, Program
from organizations.roles import Capability
from referrals.models import Notification, Referral
from referrals.services import (
    notifications_mark_read,
    referral_note_add,
    referral_send,
    referral_transition,
)
from referrals.workflow import MOVES

from . import filters, serializers
from .idempotency import IdempotentPostMixin
from .parsers import JSONParser
from .permissions import HasCapability

ID = "[0-9]+"


class ApiViewSet(IdempotentPostMixin, viewsets.GenericViewSet):
    parser_classes = [JSONParser]
    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_CLIENTS
    capabilities: dict = {}
    lookup_value_regex = ID

    @property
    def organization(self):
        return self.request.organization


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The organizations of the caller's network (the shared directory)."""

    queryset = Organization.objects.none()  # for the schema generator only

    serializer_class = serializers.OrganizationSerializer
    required_capability = Capability.VIEW_DIRECTORY
    lookup_url_kwarg = "organization_id"

    def get_queryset(self):
        return Organization.objects.visible_to(self.organization)


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Programs of the network's directory, as the caller's organization sees it."""

    queryset = Program.objects.none()  # for the schema generator only

    serializer_class = serializers.ProgramSerializer
    required_capability = Capability.VIEW_DIRECTORY
    lookup_url_kwarg = "program_id"
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ProgramFilter

    def get_queryset(self):
        return Program.objects.visible_to(self.organization).select_related("organization")


class ClientViewSet(mixins.ListModelMixin, ApiViewSet):
    """Clients whose records the caller's organization may see under the consent policy."""

    queryset = Client.objects.none()  # for the schema generator only

    lookup_url_kwarg = "client_id"
    capabilities = {"create": Capability.EDIT_CLIENTS}
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ClientFilter

    def get_queryset(self):
        # Lists and searches show names, so only demographics-visible clients appear.
        return Client.objects.visible_to(self.organization, Category.DEMOGRAPHICS)

    def get_serializer_class(self):
        if self.action == "create":
            return serializers.ClientWriteSerializer
        if self.action == "search":
            return serializers.ClientSearchSerializer
        if self.action == "retrieve":
            return serializers.ClientDetailSerializer
        return serializers.ClientSummarySerializer

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
        return self.get_paginated_response(
            serializers.ClientSummarySerializer(page, many=True).data
        )

    @extend_schema(responses={200: serializers.ClientDetailSerializer})
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
        data = serializers.ClientDetailSerializer(client, context={"categories": categories}).data
        return Response(data)

    @extend_schema(
        request=serializers.ClientWriteSerializer,
        responses={201: serializers.ClientDetailSerializer},
    )
    def create(self, request):
        incoming = serializers.ClientWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        client = client_create(
            organization=self.organization,
            actor=request.user,
            data=dict(incoming.validated_data),
            request=request,
        )
        data = serializers.ClientDetailSerializer(client, context={"categories": set(Category)})
        return Response(data.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.ClientSearchSerializer,
        responses={200: serializers.ClientSummarySerializer(many=True)},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def search(self, request):
        """Find clients by name, birth date, phone or identifier (terms in the body)."""
        terms = serializers.ClientSearchSerializer(data=request.data)
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
        return Response(serializers.ClientSummarySerializer(found, many=True).data)


class ReleaseViewSet(ApiViewSet):
    """Releases of information the caller's organization captured or is named in."""

    queryset = Release.objects.none()  # for the schema generator only

    serializer_class = serializers.ReleaseSerializer
    lookup_url_kwarg = "release_id"
    capabilities = {"create": Capability.CAPTURE_RELEASES, "revoke": Capability.CAPTURE_RELEASES}

    def get_queryset(self):
        return Release.objects.visible_to(self.organization).prefetch_related("recipients")

    def retrieve(self, request, release_id: int):
        release = get_object_or_404(self.get_queryset(), pk=release_id)
        audit_read(request, object_type="release", objects=[release])
        return Response(serializers.ReleaseSerializer(release).data)

    @extend_schema(
        request=serializers.ReleaseCreateSerializer,
        responses={201: serializers.ReleaseSerializer},
    )
    def create(self, request):
        incoming = serializers.ReleaseCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        client = Client.objects.visible_to(self.organization, Category.DEMOGRAPHICS).filter(
            pk=data.pop("client")
        )
        client = client.select_related("network").first()
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
        return Response(serializers.ReleaseSerializer(release).data, status=201)

    @extend_schema(
        request=serializers.ReleaseRevokeSerializer,
        responses={200: serializers.ReleaseSerializer},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, release_id: int):
        """Revoke now: recipients lose access at once."""
        release = get_object_or_404(self.get_queryset(), pk=release_id)
        incoming = serializers.ReleaseRevokeSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        release = release_revoke(
            release=release,
            actor=request.user,
            organization=self.organization,
            reason=incoming.validated_data["reason"],
        )
        release = self.get_queryset().get(pk=release.pk)
        return Response(serializers.ReleaseSerializer(release).data)


class AssessmentViewSet(ApiViewSet):
    """Completed screenings: submit one whole (from an EHR), read one."""

    queryset = Assessment.objects.none()  # for the schema generator only
    serializer_class = serializers.AssessmentSerializer
    lookup_url_kwarg = "assessment_id"
    capabilities = {"create": Capability.ADMINISTER_ASSESSMENTS}

    def get_queryset(self):
        return Assessment.objects.visible_to(self.organization).select_related("instrument")

    def retrieve(self, request, assessment_id: int):
        assessment = get_object_or_404(self.get_queryset(), pk=assessment_id)
        audit_read(
            request,
            object_type="assessment",
            objects=[assessment],
            categories=[Category.SOCIAL_NEEDS],
        )
        return Response(serializers.AssessmentSerializer(assessment).data)

    @extend_schema(
        request=serializers.AssessmentSubmitSerializer,
        responses={201: serializers.AssessmentSerializer},
    )
    def create(self, request):
        """Record a whole, completed assessment at once (all or nothing)."""
        incoming = serializers.AssessmentSubmitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        client = (
            Client.objects.visible_to(self.organization, Category.DEMOGRAPHICS)
            .filter(pk=data["client"])
            .first()
        )
        if client is None:
            raise ValidationError({"client": "No client with this id that you may see."})
        instrument = Instrument.objects.filter(key=data["instrument"], is_current=True).first()
        if instrument is None:
            raise ValidationError({"instrument": "No current instrument with this key."})
        answers = {
            a["link_id"]: ItemAnswer(codes=tuple(a["codes"]), declined=a["declined"])
            for a in data["answers"]
        }
        assessment = assessment_record(
            client=client,
            organization=self.organization,
            instrument=instrument,
            mode=data["mode"],
            actor=request.user,
            answers=answers,
            request=request,
        )
        return Response(serializers.AssessmentSerializer(assessment).data, status=201)


class ReferralViewSet(mixins.ListModelMixin, ApiViewSet):
    """Referrals the caller's organization sent or received."""

    queryset = Referral.objects.none()  # for the schema generator only

    serializer_class = serializers.ReferralSerializer
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
            serializers.ReferralSerializer(
                page, many=True, context={"organization": self.organization}
            ).data
        )

    def retrieve(self, request, referral_id: int):
        referral = get_object_or_404(self.get_queryset(), pk=referral_id)
        audit_read(
            request, object_type="referral", objects=[referral], categories=[Category.REFERRALS]
        )
        return Response(
            serializers.ReferralSerializer(
                referral, context={"organization": request.organization}
            ).data
        )

    @extend_schema(
        request=serializers.ReferralCreateSerializer,
        responses={201: serializers.ReferralSerializer},
    )
    def create(self, request):
        """Send a referral (refused unless a release lets the receiver see what it carries)."""
        incoming = serializers.ReferralCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        client = Client.objects.visible_to(self.organization, Category.DEMOGRAPHICS).filter(
            pk=data.pop("client")
        )
        client = client.first()
        if client is None:
            raise ValidationError({"client": "No client with this id that you may see."})
        program = Program.objects.visible_to(self.organization).filter(pk=data.pop("program"))
        program = program.select_related("organization").first()
        if program is None:
            raise ValidationError({"program": "No program with this id in your directory."})
        referral = referral_send(
            client=client,
            program=program,
            sender_organization=self.organization,
            sender_user=request.user,
            **data,
        )
        referral = self.get_queryset().get(pk=referral.pk)
        return Response(
            serializers.ReferralSerializer(
                referral, context={"organization": request.organization}
            ).data,
            status=201,
        )

    @extend_schema(methods=["GET"], responses={200: serializers.ReferralNoteSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=serializers.ReferralNoteSerializer,
        responses={201: serializers.ReferralNoteSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def notes(self, request, referral_id: int):
        """The note thread between sender and receiver."""
        referral = get_object_or_404(self.get_queryset(), pk=referral_id)
        if request.method == "POST":
            incoming = serializers.ReferralNoteSerializer(data=request.data)
            incoming.is_valid(raise_exception=True)
            note = referral_note_add(
                referral=referral,
                author=request.user,
                organization=self.organization,
                body=incoming.validated_data["body"],
            )
            return Response(serializers.ReferralNoteSerializer(note).data, status=201)
        # The other party's notes only as the consent policy lets the caller see them.
        sight = policy.referral_sight(self.organization, referral)
        notes = policy.visible_entries(sight, referral.notes.order_by("created_at", "id"))
        audit_read(
            request, object_type="referral", objects=[referral], categories=[Category.REFERRALS]
        )
        return Response(serializers.ReferralNoteSerializer(notes, many=True).data)


class ReferralMoveView(IdempotentPostMixin, APIView):
    """One move of the referral state machine (POST /referrals/{id}/{move}/)."""

    parser_classes = [JSONParser]
    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_CLIENTS
    move = ""

    def get_serializer_class(self):
        # Declining has its own input (the decline reason); every other move shares one.
        if self.move == "reject":
            return serializers.ReferralRejectSerializer
        return serializers.ReferralMoveSerializer

    @extend_schema(responses={200: serializers.ReferralSerializer})
    def post(self, request, referral_id: int):
        referrals = Referral.objects.visible_to(request.organization).prefetch_related("needs")
        get_object_or_404(referrals, pk=referral_id)
        incoming = self.get_serializer_class()(data=request.data)
        incoming.is_valid(raise_exception=True)
        referral_transition(
            referral_id=referral_id,
            move=self.move,
            actor=request.user,
            organization=request.organization,
            **incoming.validated_data,
        )
        return Response(
            serializers.ReferralSerializer(
                referrals.get(pk=referral_id), context={"organization": request.organization}
            ).data
        )

    def get_view_description(self, html=False):
        move = MOVES[self.move]
        return f"{move.label}: moves the referral to {move.target}."


class NotificationViewSet(mixins.ListModelMixin, ApiViewSet):
    """The caller's own notifications (for a key: its organization's referral updates)."""

    queryset = Notification.objects.none()  # for the schema generator only

    serializer_class = serializers.NotificationSerializer
    lookup_url_kwarg = "notification_id"
    required_capability = None

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user)

    @extend_schema(request=None, responses={200: serializers.MarkedReadSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, notification_id: int):
        """Mark one notification read."""
        get_object_or_404(self.get_queryset(), pk=notification_id)
        count = notifications_mark_read(user=request.user, notification_id=notification_id)
        return Response({"marked_read": count})

    @extend_schema(request=None, responses={200: serializers.MarkedReadSerializer})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every notification read."""
        return Response({"marked_read": notifications_mark_read(user=request.user)})


UNKNOWN_ROUTE = "api-unknown-route"


@extend_schema(exclude=True)
class UnknownRouteView(APIView):
    """Any other path under /api/v1/ (a mistyped route, an id that is not a number): the
    API's JSON error body with 404, not the site's HTML page, whatever the method."""

    permission_classes = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound(self._message(request.path))

    def _message(self, path: str) -> str:
        # CommonMiddleware's slash redirect never happens here (this route matches first),
        # and a redirect would drop a POST body anyway: say what the right path is.
        if not path.endswith("/"):
            try:
                match = resolve(f"{path}/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != UNKNOWN_ROUTE:
                return f"Not found. API paths end with a slash: {path}/"
        return "Not found."
