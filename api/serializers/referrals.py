"""Referrals, their moves and their note thread, redacted by the consent policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from consent import policy
from organizations.sdoh import SDOHCategory
from referrals.models import Referral, ReferralNeed, ReferralNote
from referrals.workflow import MOVES, Status


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
    program = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="null: sent to the receiving organization, waiting in its intake queue; "
        "the receiver chooses the program when accepting.",
    )
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


# --- A page read as rows ------------------------------------------------------------------
# The list and the detail read referrals with `values()` (no model instances) and build
# ReferralSerializer's representation from the rows: the same JSON (tests/api/
# test_api_queries.py compares the two on whole and redacted referrals), without the
# per-object, per-field framework work that cost most of a page's time.

# The referral's columns the representation reads, and its client's creator (the consent
# policy's answer needs it).
REFERRAL_ROW_FIELDS = (
    "id",
    "client_id",
    "program_id",
    "sender_organization_id",
    "receiver_organization_id",
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
    "created_at",
    "updated_at",
    "sent_at",
    "accepted_at",
    "part_of_id",
    "client__created_by_organization_id",
)

# ReferralSerializer's own field classes, for the values whose representation is not the
# stored value itself (a moment in the current time zone; a coded concept's keys).
_MOMENT = serializers.DateTimeField()
_CONCEPT = ConceptSerializer()
_ACTIVITY = ActivitySerializer()
# Built once, filtered per page (see api/views/referrals.py's _REFERRAL_ROWS).
_NEEDS = ReferralNeed.objects.order_by().values_list("referral_id", "code")


def _moment_formatter() -> Callable[[datetime | None], str | None]:
    """DateTimeField's representation of a stored (aware) moment, with the time zone and
    format looked up once per page instead of once per value: ISO 8601 in the current time
    zone, "Z" for UTC. Settings other than the defaults take DRF's own path."""
    if not settings.USE_TZ or str(api_settings.DATETIME_FORMAT).lower() != ISO_8601.lower():
        return _MOMENT.to_representation
    zone = timezone.get_current_timezone()

    def moment(value: datetime | None) -> str | None:
        if not value:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return moment


def referral_rows_representation(rows: list[dict], *, organization) -> list[dict]:
    """ReferralSerializer's representation of referrals read as rows
    (`.values(*REFERRAL_ROW_FIELDS)`), in page order, redacted by the consent policy: two
    queries for the page's needs and the policy's answers (three with the policy's "is the
    organization an active partner"), whatever the page's length."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    needs: dict[int, list[str]] = {pk: [] for pk in ids}
    for referral_id, code in _NEEDS.filter(referral_id__in=ids):
        needs[referral_id].append(code)
    sights = policy.referral_sights_for_parties(
        organization,
        [
            policy.ReferralParties(
                row["id"],
                row["client_id"],
                row["client__created_by_organization_id"],
                row["sender_organization_id"],
                row["receiver_organization_id"],
            )
            for row in rows
        ],
    )
    moment = _moment_formatter()
    out = []
    for row in rows:
        activity, service = row["resulting_activity"], row["requested_service"]
        values = {
            "id": row["id"],
            "client": row["client_id"],
            "program": row["program_id"],
            "sender_organization": row["sender_organization_id"],
            "receiver_organization": row["receiver_organization_id"],
            "source": row["source"],
            "status": row["status"],
            "business_status": row["business_status"],
            "status_reason": row["status_reason"],
            "decline_reason": row["decline_reason"],
            "outcome": row["outcome"],
            "outcome_note": row["outcome_note"],
            "resulting_activity": None
            if activity is None
            else _ACTIVITY.to_representation(activity),
            "urgency": row["urgency"],
            "do_not_contact": row["do_not_contact"],
            "reason": row["reason"],
            "requested_service": None if service is None else _CONCEPT.to_representation(service),
            "needs": sorted(needs[row["id"]]),
            "created_at": moment(row["created_at"]),
            "updated_at": moment(row["updated_at"]),
            "sent_at": moment(row["sent_at"]),
            "accepted_at": moment(row["accepted_at"]),
            "part_of": row["part_of_id"],
            "withheld": [],
        }
        shown = policy.redact_referral_fields(sights[row["id"]], values)
        shown["withheld"] = sorted(k for k in values if values[k] != shown[k])
        out.append(shown)
    return out


class ReferralCreateSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    program = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="The program referred to."
    )
    receiver_organization = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Without `program`: the organization referred to; the referral waits in "
        "its intake queue and the receiver chooses the program when accepting.",
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=SDOHCategory.choices),
        allow_empty=False,
        help_text="SDOH categories (Gravity Project value set codes).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, default="routine")
    do_not_contact = serializers.BooleanField(default=False)

    def validate(self, attrs):
        if attrs.get("program") is None and attrs.get("receiver_organization") is None:
            raise serializers.ValidationError(
                {"program": "Name the program, or the receiving organization."}
            )
        return attrs


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
    program = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Taking on a referral from your intake queue (program null): the program "
        "of yours that takes it on.",
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


USER_MOVES = [name for name, move in MOVES.items() if move.side != "system"]
