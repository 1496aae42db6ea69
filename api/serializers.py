"""What the API shows and accepts. Client details pass through the consent policy: a field
of a category the caller may not see is null, and `visible_categories` says which it may."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessments.models import Assessment
from clients.models import Client
from consent import policy
from consent.categories import Category
from consent.models import Release
from organizations.models import Organization, Program
from organizations.sdoh import SDOHCategory
from referrals.models import Notification, Referral, ReferralNote
from referrals.workflow import MOVES, Status

DEMOGRAPHIC_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "phone",
    "email",
    "address_line",
    "city",
    "state",
    "zip_code",
    "preferred_language",
    "race",
    "ethnicity",
    "sex",
    "gender_identity",
    "insurance_type",
    "insurance_payer",
    "insurance_member_id",
)


class OrganizationSerializer(serializers.ModelSerializer):
    # Blank for kinds without sub-kinds (a backbone); declared, as read-only fields lose it.
    sub_kind = serializers.ChoiceField(
        choices=Organization.SubKind.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "kind", "sub_kind", "is_active"]
        read_only_fields = fields


class ProgramSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    # Plain strings: blank is allowed, and a blank-or-URL "oneOf" is ambiguous to clients.
    email = serializers.CharField(read_only=True)
    website = serializers.CharField(read_only=True)

    class Meta:
        model = Program
        fields = [
            "id",
            "organization",
            "organization_name",
            "name",
            "description",
            "eligibility",
            "minimum_age",
            "maximum_age",
            "fees",
            "hours",
            "intake",
            "phone",
            "email",
            "website",
            "accepting_referrals",
            "hsds_id",
            "updated_at",
        ]
        read_only_fields = fields


class ClientWriteSerializer(serializers.ModelSerializer):
    """The fields a client record is created with (validated again by the service)."""

    class Meta:
        model = Client
        fields = list(DEMOGRAPHIC_FIELDS)


class ClientSummarySerializer(serializers.ModelSerializer):
    """A client in a list or a search: only clients whose demographics the caller may see
    are ever listed."""

    created_by_organization = serializers.PrimaryKeyRelatedField(read_only=True)
    # A plain string: the address is optional, and "" is not an email address.
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Client
        fields = ["id", "created_by_organization", "created_at", "updated_at", *DEMOGRAPHIC_FIELDS]
        read_only_fields = fields


class ClientDetailSerializer(ClientSummarySerializer):
    """One client, as the consent policy lets the caller see it (context["categories"])."""

    email = serializers.CharField(read_only=True, allow_null=True)
    visible_categories = serializers.SerializerMethodField()

    class Meta(ClientSummarySerializer.Meta):
        fields = [*ClientSummarySerializer.Meta.fields, "visible_categories"]
        read_only_fields = fields
        extra_kwargs = {f: {"allow_null": True} for f in DEMOGRAPHIC_FIELDS}

    # Inline (not a named enum): the categories' enum component is the releases' own.
    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": Category.values}})
    def get_visible_categories(self, client) -> list[str]:
        return sorted(self.context["categories"])

    def to_representation(self, client):
        data = super().to_representation(client)
        if Category.DEMOGRAPHICS not in self.context["categories"]:
            for field in DEMOGRAPHIC_FIELDS:
                data[field] = None
        return data


class ClientSearchSerializer(serializers.Serializer):
    """Search terms go in the body: names and birth dates never travel in URLs."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    identifier = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate(self, attrs):
        if not any(attrs.get(k) for k in ("name", "date_of_birth", "phone", "identifier")):
            raise serializers.ValidationError(
                "Give at least one search term: name, date_of_birth, phone or identifier."
            )
        return attrs


class ReleaseSerializer(serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(read_only=True)
    organization = serializers.PrimaryKeyRelatedField(read_only=True)
    recipients = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), read_only=True
    )
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "id",
            "client",
            "organization",
            "recipients",
            "all_network_partners",
            "categories",
            "purpose",
            "purpose_other",
            "language",
            "method",
            "signer",
            "captured_at",
            "effective_at",
            "expires_at",
            "revoked_at",
            "is_active",
        ]
        read_only_fields = fields

    def get_is_active(self, release) -> bool:
        return policy.release_in_force(release)


class ReleaseCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    recipients = serializers.ListField(child=serializers.IntegerField(), required=False)
    all_network_partners = serializers.BooleanField(default=False)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), allow_empty=False
    )
    purpose = serializers.ChoiceField(choices=Release.Purpose.choices)
    purpose_other = serializers.CharField(required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Release.Language.choices, default="en")
    method = serializers.ChoiceField(
        choices=[Release.Method.ESIGNATURE, Release.Method.VERBAL],
        help_text="Signed paper forms are uploaded in the browser.",
    )
    esignature_name = serializers.CharField(required=False, allow_blank=True, default="")
    esignature_confirmed = serializers.BooleanField(default=False)
    verbal_witness_name = serializers.CharField(required=False, allow_blank=True, default="")
    signer = serializers.ChoiceField(choices=Release.Signer.choices, default="client")
    representative_name = serializers.CharField(required=False, allow_blank=True, default="")
    representative_relationship = serializers.CharField(
        required=False, allow_blank=True, default=""
    )
    effective_at = serializers.DateTimeField(required=False)
    expires_at = serializers.DateTimeField(
        required=False, help_text="Default: the network's release period after effective_at."
    )

    def validate(self, attrs):
        attrs.setdefault("effective_at", timezone.now())
        return attrs


class ReleaseRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ConceptSerializer(serializers.Serializer):
    """A coded concept (FHIR CodeableConcept's coding and words): a system and code, or
    words alone."""

    system = serializers.CharField(read_only=True, help_text="The code system's URI.")
    code = serializers.CharField(read_only=True)
    display = serializers.CharField(read_only=True, help_text="The concept in words.")


class ActivitySerializer(ConceptSerializer):
    performed = serializers.CharField(
        read_only=True,
        help_text="When it was done: a date (YYYY-MM-DD) or a moment (ISO 8601), or empty.",
    )


class ReferralListSerializer(serializers.ListSerializer):
    """A page of referrals: the consent policy's answers for the whole page at once."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        organization = self.context.get("organization")
        if organization is not None:
            self.child.context["sights"] = policy.referral_sights(organization, items)
        return [self.child.to_representation(item) for item in items]


class ReferralSerializer(serializers.ModelSerializer):
    """A referral as the caller's organization may see it: status and dates always; what
    another organization recorded only as `consent.policy` allows (blanked, and named in
    `withheld`). Needs `context={"organization": ...}`."""

    client = serializers.PrimaryKeyRelatedField(read_only=True)
    program = serializers.PrimaryKeyRelatedField(read_only=True)
    sender_organization = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    receiver_organization = serializers.PrimaryKeyRelatedField(read_only=True)
    needs = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(
        choices=Referral.Outcome.choices, allow_blank=True, read_only=True
    )
    decline_reason = serializers.ChoiceField(
        choices=Referral.DeclineReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why the receiver declined (status rejected); status_reason explains it.",
    )
    requested_service = ConceptSerializer(
        read_only=True,
        allow_null=True,
        help_text="The service requested, as the sending system coded it (FHIR "
        "ServiceRequest.code); null: the program's service.",
    )
    resulting_activity = ActivitySerializer(
        read_only=True,
        allow_null=True,
        help_text="What was done, once completed (the FHIR Procedure's code and date), when "
        "the receiver's system said so.",
    )
    part_of = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="Routed by the backbone: the referral this one fulfils (FHIR Task.partOf).",
    )
    withheld = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Fields blanked because the consent policy does not let your organization "
        "see them (another organization recorded them and no release in force names you).",
    )

    class Meta:
        model = Referral
        list_serializer_class = ReferralListSerializer
        fields = [
            "id",
            "client",
            "program",
            "sender_organization",
            "receiver_organization",
            "source",
            "status",
            "business_status",
            "status_reason",
            "decline_reason",
            "outcome",
            "outcome_note",
            "resulting_activity",
            "urgency",
            "do_not_contact",
            "reason",
            "requested_service",
            "needs",
            "created_at",
            "updated_at",
            "sent_at",
            "accepted_at",
            "part_of",
            "withheld",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(SDOHCategory.choices)))
    def get_needs(self, referral) -> list[str]:
        return sorted(n.code for n in referral.needs.all())

    def to_representation(self, referral):
        sight = self.context.get("sights", {}).get(referral.pk)
        if sight is None:
            organization = self.context.get("organization")
            if organization is None:
                raise ValueError("ReferralSerializer needs the viewing organization")
            sight = policy.referral_sight(organization, referral)
        referral.withheld = []  # the field's source; filled in below from the redaction
        values = super().to_representation(referral)
        shown = policy.redact_referral_fields(sight, values)
        shown["withheld"] = sorted(k for k in values if values[k] != shown[k])
        return shown


class ReferralCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    program = serializers.IntegerField()
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=SDOHCategory.choices),
        allow_empty=False,
        help_text="SDOH categories (Gravity Project value set codes).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, default="routine")
    do_not_contact = serializers.BooleanField(default=False)


# Inline: a named enum of the same statuses would collide with the referral's `status`.
@extend_schema_field({"type": "string", "enum": Status.values, "nullable": True})
class ExpectedStatusField(serializers.ChoiceField):
    pass


class ReferralMoveSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.ChoiceField(
        choices=Referral.Outcome.choices, required=False, allow_blank=True, default=""
    )
    outcome_note = serializers.CharField(required=False, allow_blank=True, default="")
    expected_status = ExpectedStatusField(
        choices=Status.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="The status you last saw; refused with 409 if it changed meanwhile.",
    )


class ReferralRejectSerializer(ReferralMoveSerializer):
    """Declining: why, as a code (the measures count declines by it), with `reason` as
    the explanation (required for "other")."""

    decline_reason = serializers.ChoiceField(
        choices=Referral.DeclineReason.choices,
        required=False,
        default=Referral.DeclineReason.OTHER,
        help_text="Why the referral is declined. Absent: other (then `reason` says why).",
    )


class ReferralNoteSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ReferralNote
        fields = ["id", "organization", "body", "created_at"]
        read_only_fields = ["id", "organization", "created_at"]


class NotificationSerializer(serializers.ModelSerializer):
    referral = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "referral", "kind", "message", "created_at", "read_at"]
        read_only_fields = fields


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField()


USER_MOVES = [name for name, move in MOVES.items() if move.side != "system"]


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
