"""Completed screenings: submit one whole, read one."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from assessments.engine import ItemAnswer
from assessments.models import Assessment, Instrument
from assessments.services import assessment_record
from audit.services import audit_read
from clients.selectors import client_to_write
from consent.categories import Category
from organizations.roles import Capability

from ..serializers.assessments import AssessmentSerializer, AssessmentSubmitSerializer
from .base import ApiViewSet


class AssessmentViewSet(ApiViewSet):
    """Completed screenings: submit one whole (from an EHR), read one."""

    queryset = Assessment.objects.none()  # for the schema generator only
    serializer_class = AssessmentSerializer
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
        return Response(AssessmentSerializer(assessment).data)

    @extend_schema(
        request=AssessmentSubmitSerializer,
        responses={201: AssessmentSerializer},
    )
    def create(self, request):
        """Record a whole, completed assessment at once (all or nothing)."""
        incoming = AssessmentSubmitSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        # A merged record's id reaches the survivor (clients.selectors.client_to_write).
        client = client_to_write(self.organization, data["client"])
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
        return Response(AssessmentSerializer(assessment).data, status=201)
