"""Payment terms and statements, read-only, for finance systems. Money is a decimal string
with two places ("1234.50"), never a float, so a client's sums match the statement's.

A statement line's client comes only from `payments.selectors.statement_lines` (the one
consent rule for statement lines): the serializer is handed those `LineView`s and never
reads `StatementLine.client` itself."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from payments.models import (
    PaymentTerm,
    Statement,
    StatementLine,
    StatementShare,
    SubsidyShare,
)


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


class SubsidySerializer(serializers.ModelSerializer):
    funder_organization = serializers.PrimaryKeyRelatedField(
        source="funder",
        read_only=True,
        allow_null=True,
        help_text="The funder, when it is an organization in Linkage; null: named only.",
    )
    month_from = serializers.IntegerField(
        read_only=True, help_text="First month of the term paid (month 1 starts on its first day)."
    )
    month_to = serializers.IntegerField(read_only=True, help_text="Last month paid (inclusive).")
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        read_only=True,
        help_text="The share of what falls due in those months that the funder pays.",
    )

    class Meta:
        model = SubsidyShare
        fields = ["funder_organization", "funder_name", "month_from", "month_to", "percent"]
        read_only_fields = fields


class OutcomePartSerializer(serializers.Serializer):
    """The outcome-based part of a term: a measure of the metrics registry against a
    target for each statement's period."""

    mode = serializers.CharField(source="outcome_mode", read_only=True)
    measure = serializers.CharField(source="outcome_measure", read_only=True)
    direction = serializers.CharField(source="outcome_direction", read_only=True)
    target = serializers.DecimalField(
        max_digits=12, decimal_places=4, source="outcome_target", read_only=True, allow_null=True
    )
    withhold_percent = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True)
    bonus_amount = _money()


def _decimal(description: str, *, places: int = 2, nullable: bool = False) -> dict:
    return {
        "type": "string",
        "format": "decimal",
        "pattern": rf"^-?\d+\.\d{{{places}}}$",
        "description": description,
        **({"nullable": True} if nullable else {}),
    }


# Written out (inline, not a component): a named component's `mode` and `direction` enums
# would collide with other resources' fields of those names in the generated enum names.
OUTCOME_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "The outcome-based part: a measure of the metrics registry against a "
    "target for each statement's period; null: the term has none.",
    "properties": {
        "mode": {
            "type": "string",
            "enum": [v for v in PaymentTerm.OutcomeMode.values if v],
            "description": "withhold: a share is withheld and returned when the target is "
            "met; bonus: an amount is paid when it is met.",
        },
        "measure": {"type": "string", "description": "The measure's code."},
        "direction": {
            "type": "string",
            "enum": PaymentTerm.Direction.values,
            "description": "Met when the measure is at least (or at most) the target.",
        },
        "target": _decimal(
            "The measure's value to reach, four places (a rate as a fraction: 0.6000 is 60%).",
            places=4,
            nullable=True,
        ),
        "withhold_percent": _decimal("Withhold: the share of the subtotal withheld."),
        "bonus_amount": _decimal("Bonus: the amount paid when the target is met."),
    },
    "required": ["mode", "measure", "direction", "target", "withhold_percent", "bonus_amount"],
}


class PaymentTermSerializer(serializers.ModelSerializer):
    """A payment term on a partnership: who pays whom, from when, for which programs,
    at what rates, with its outcome-based part and subsidy schedule."""

    partnership = serializers.PrimaryKeyRelatedField(read_only=True)
    payer_organization = serializers.PrimaryKeyRelatedField(source="payer", read_only=True)
    payee_organization = serializers.PrimaryKeyRelatedField(source="payee", read_only=True)
    parent = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="Through the backbone: the payer's contract this sub-term is paid from.",
    )
    programs = serializers.SerializerMethodField()
    unit_amount = _money(
        help_text="Per completed referral, client-year, member-month or pathway; for "
        "support funds, the allowance per person per year."
    )
    amount_need_met = _money(
        allow_null=True, help_text="Fee for service, need met; null: unit_amount."
    )
    amount_attempted = _money(
        allow_null=True,
        help_text="Fee for service, attempted (closed otherwise); null: unit_amount.",
    )
    contracted_volume = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Case rate: clients paid for per term year."
    )
    escalator_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        read_only=True,
        help_text="Added to the rates at each anniversary of effective_from.",
    )
    outcome = serializers.SerializerMethodField()
    subsidies = SubsidySerializer(many=True, read_only=True)

    class Meta:
        model = PaymentTerm
        fields = [
            "id",
            "partnership",
            "name",
            "kind",
            "payer_organization",
            "payee_organization",
            "parent",
            "programs",
            "effective_from",
            "effective_to",
            "currency",
            "unit_amount",
            "amount_need_met",
            "amount_attempted",
            "contracted_volume",
            "escalator_percent",
            "outcome",
            "subsidies",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(
            child=serializers.IntegerField(),
            help_text="The programs covered; empty: every program of the partnership.",
        )
    )
    def get_programs(self, term: PaymentTerm) -> list[int]:
        # From the prefetch (terms_visible + prefetch_related): no query per term.
        return sorted(p.pk for p in term.programs.all())

    @extend_schema_field(OUTCOME_SCHEMA)
    def get_outcome(self, term: PaymentTerm) -> dict | None:
        if not term.outcome_mode:
            return None
        return OutcomePartSerializer(term).data


class StatementShareSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="null: a funder named only."
    )
    amount = _money()

    class Meta:
        model = StatementShare
        fields = ["organization", "label", "amount"]
        read_only_fields = fields


class StatementLineSerializer(serializers.Serializer):
    """One line, from a `payments.selectors.LineView`: the referral or pathway id and the
    date always; the client only where the consent policy lets the caller see it."""

    kind = serializers.ChoiceField(
        choices=StatementLine.Kind.choices, source="line.kind", read_only=True
    )
    date = serializers.DateField(source="line.date", read_only=True)
    referral = serializers.IntegerField(source="line.referral_id", read_only=True, allow_null=True)
    pathway = serializers.IntegerField(
        source="line.pathway_id",
        read_only=True,
        allow_null=True,
        help_text="The pathway instance, for a completed pathway.",
    )
    client = serializers.SerializerMethodField()
    description = serializers.CharField(source="line.description", read_only=True)
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, source="line.quantity", read_only=True
    )
    unit_amount = _money(source="line.unit_amount")
    amount = _money(source="line.amount")
    withdrawn = serializers.BooleanField(
        source="line.withdrawn",
        read_only=True,
        help_text="Withdrawn by the payee: kept on the statement, not counted in subtotal.",
    )
    dispute = serializers.CharField(
        source="line.dispute",
        read_only=True,
        help_text="The payer's comment when it disputed the line; empty otherwise.",
    )

    @extend_schema_field(
        serializers.IntegerField(
            allow_null=True,
            help_text="The client's id, when the consent policy lets your organization see "
            "the client's demographics; null otherwise (the referral or pathway id and the "
            "date are always there).",
        )
    )
    def get_client(self, view) -> int | None:
        return view.client.pk if view.client is not None else None


class StatementSerializer(serializers.ModelSerializer):
    """A statement: totals, who owes what and (read one statement) its lines. Lines come
    from `context={"lines": [LineView, ...]}` (payments.selectors.statement_lines for the
    caller's organization); without them (the list) `lines` is null."""

    # One serializer (one schema component) for list and detail: two would give the
    # statement's `status` enum two components and collide in the generated enum names.
    partnership = serializers.IntegerField(source="term.partnership_id", read_only=True)
    term = serializers.PrimaryKeyRelatedField(read_only=True)
    payer_organization = serializers.IntegerField(source="term.payer_id", read_only=True)
    payee_organization = serializers.IntegerField(source="term.payee_id", read_only=True)
    status = serializers.ChoiceField(
        choices=Statement.Status.choices,
        read_only=True,
        help_text="draft → submitted (by the payee) → disputed or approved (by the payer) → "
        "paid. Approved and paid statements are frozen.",
    )
    currency = serializers.CharField(source="term.currency", read_only=True)
    adjusts = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="A correction: the approved statement it adjusts (its total is the difference).",
    )
    lines = serializers.SerializerMethodField()
    subtotal = _money(help_text="The sum of the lines not withdrawn.")
    outcome_adjustment = _money(help_text="Signed: a withhold kept is negative, a bonus positive.")
    total = _money(help_text="subtotal + outcome_adjustment.")
    shares = StatementShareSerializer(
        many=True, read_only=True, help_text="Who pays what part of the total; they add up to it."
    )

    class Meta:
        model = Statement
        fields = [
            "id",
            "partnership",
            "term",
            "payer_organization",
            "payee_organization",
            "period_start",
            "period_end",
            "status",
            "currency",
            "adjusts",
            "lines",
            "subtotal",
            "outcome_adjustment",
            "total",
            "shares",
        ]
        read_only_fields = fields

    @extend_schema_field(
        StatementLineSerializer(
            many=True,
            allow_null=True,
            help_text="The lines in order; null in the list (read the statement for them).",
        )
    )
    def get_lines(self, statement: Statement) -> list[dict] | None:
        views = self.context.get("lines")
        if views is None:
            return None
        return StatementLineSerializer(views, many=True).data
