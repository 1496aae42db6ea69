"""Client records: a field of a category the caller may not see is null."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clients.models import Client
from consent.categories import Category

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
    """One client, as the consent policy lets the caller see it (context["categories"]).

    A record merged into another (a tombstone) still answers 200 at its own URL, with
    `merged_into`: the id of the record that holds everything now (null for a current
    record). A redirect was not chosen: an integration that stored the old id learns the
    new one from the body it already parses, and a tombstone's own answer stays auditable.
    Lists and searches never show tombstones."""

    email = serializers.CharField(read_only=True, allow_null=True)
    visible_categories = serializers.SerializerMethodField()
    merged_into = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The record this one was merged into (it is a tombstone then); null otherwise.",
    )

    class Meta(ClientSummarySerializer.Meta):
        fields = [*ClientSummarySerializer.Meta.fields, "visible_categories", "merged_into"]
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
