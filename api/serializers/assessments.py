"""Completed screenings: the whole submission, and the result read back."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessments.models import Assessment


class AnswerSerializer(serializers.Serializer):
    link_id = serializers.CharField(max_length=40, help_text="The question's FHIR linkId.")
    codes = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
    declined = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs["declined"] == bool(attrs["codes"]):
            raise serializers.ValidationError("Give either answer codes or declined: true.")
        return attrs


class AssessmentSubmitSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    instrument = serializers.SlugField(help_text="The instrument's key, e.g. ahc-hrsn-core.")
    mode = serializers.ChoiceField(choices=Assessment.Mode.choices)
    answers = AnswerSerializer(many=True, allow_empty=False)


class DomainResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)


class AssessmentSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    organization = serializers.PrimaryKeyRelatedField(read_only=True)
    instrument = serializers.CharField(source="instrument.key", read_only=True)
    instrument_version = serializers.CharField(source="instrument.version", read_only=True)
    risk_level = serializers.CharField(read_only=True)
    domains = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "client",
            "organization",
            "instrument",
            "instrument_version",
            "mode",
            "status",
            "started_at",
            "completed_at",
            "risk_level",
            "rescreen_due_at",
            "domains",
        ]
        read_only_fields = fields

    @extend_schema_field(DomainResultSerializer(many=True))
    def get_domains(self, assessment) -> list[dict]:
        return [
            {
                "key": d.key,
                "title": d.title,
                "category": d.category,
                "status": d.status,
                "score": d.score,
            }
            for d in assessment.results()
        ]
