"""Forms of the payment-term pages. Each foreign key is narrowed to what the term's
partnership may reference; the rules that decide (per kind, dates, parties, the schedule)
are payments.term_services', asked again on save."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from metrics.registry import BY_KEY
from organizations.models import Organization, Partnership

from .models import PaymentTerm
from .term_services import (
    KIND_FIELDS,
    MAX_PANEL_ROWS,
    Subsidy,
    parse_month,
    term_parents,
    term_parties,
)

Kind = PaymentTerm.Kind
MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}
PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
}
UNIT_LABELS = {
    Kind.FEE_FOR_SERVICE: "Amount per completed referral",
    Kind.CASE_RATE: "Amount per client served per year",
    Kind.PMPM: "Amount per member per month",
    Kind.PATHWAY: "Amount per completed pathway",
    Kind.SUPPORT_FUNDS: "Allowance per person per year",
}
UNIT_HELP = {
    Kind.FEE_FOR_SERVICE: "Paid for each referral closed, unless an amount below applies.",
    Kind.PATHWAY: "0: each pathway's own value.",
    Kind.SUPPORT_FUNDS: "Drawn down by the expenses recorded for each person.",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PaymentTermForm(forms.Form):
    """A term of one kind: only the fields that kind uses."""

    name = forms.CharField(max_length=200)
    payer = forms.ModelChoiceField(queryset=Organization.objects.none())
    payee = forms.ModelChoiceField(queryset=Organization.objects.none())
    parent = forms.ModelChoiceField(
        queryset=PaymentTerm.objects.none(),
        required=False,
        label="Paid from (through the backbone)",
        help_text="For a sub-term: the payer's contract with the backbone. The payer is then "
        "the backbone.",
    )
    programs = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every program of the partnership.",
    )
    effective_from = forms.DateField(label="In force from", widget=DateInput())
    effective_to = forms.DateField(
        label="Until", required=False, widget=DateInput(), help_text="Blank: open-ended."
    )
    unit_amount = forms.DecimalField(**MONEY)
    amount_need_met = forms.DecimalField(
        required=False, label="Amount when the need was met", **MONEY
    )
    amount_attempted = forms.DecimalField(
        required=False,
        label="Amount when attempted",
        help_text="A referral closed otherwise (need not met, unable to contact).",
        **MONEY,
    )
    contracted_volume = forms.IntegerField(
        required=False, min_value=1, label="Clients contracted per year", help_text="Optional."
    )
    escalator_percent = forms.DecimalField(
        required=False,
        label="Annual escalator (%)",
        help_text="Added to the rates at each anniversary of the start.",
        **PERCENT,
    )
    outcome_mode = forms.ChoiceField(
        choices=PaymentTerm.OutcomeMode.choices, required=False, label="Outcome-based part"
    )
    outcome_measure = forms.ChoiceField(required=False, label="Measure")
    outcome_direction = forms.ChoiceField(
        choices=PaymentTerm.Direction.choices, label="The measure must be"
    )
    outcome_target = forms.DecimalField(
        required=False, max_digits=12, decimal_places=4, label="Target"
    )
    withhold_percent = forms.DecimalField(required=False, label="Withhold (%)", **PERCENT)
    bonus_amount = forms.DecimalField(required=False, label="Bonus", **MONEY)

    def __init__(self, *args, partnership: Partnership, kind: str, term=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        parties = term_parties(partnership).distinct().order_by("name")
        self.fields["payer"].queryset = parties
        self.fields["payee"].queryset = parties
        self.fields["parent"].queryset = term_parents(partnership, term)
        self.fields["programs"].queryset = partnership.programs.order_by("name")
        measures = sorted(((key, m.name) for key, m in BY_KEY.items()), key=lambda c: c[1])
        self.fields["outcome_measure"].choices = [("", "—"), *measures]
        for name in ("amount_need_met", "amount_attempted", "contracted_volume"):
            if name not in KIND_FIELDS.get(kind, ()):
                del self.fields[name]
        self.fields["unit_amount"].label = UNIT_LABELS.get(kind, "Amount")
        self.fields["unit_amount"].help_text = UNIT_HELP.get(kind, "")
        if not self.fields["parent"].queryset.exists():
            del self.fields["parent"]

    OUTCOME = (
        "outcome_mode",
        "outcome_measure",
        "outcome_direction",
        "outcome_target",
        "withhold_percent",
        "bonus_amount",
    )

    def main_fields(self):
        return [f for f in self if f.name not in self.OUTCOME]

    def outcome_fields(self):
        return [f for f in self if f.name in self.OUTCOME]

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("programs", None)
        data.setdefault("parent", None)
        for name in ("escalator_percent", "withhold_percent"):
            data[name] = data.get(name) or Decimal("0")
        data["bonus_amount"] = data.get("bonus_amount") or Decimal("0.00")
        return data


def term_initial(term: PaymentTerm) -> dict:
    names = [
        "name",
        "payer",
        "payee",
        "parent",
        "effective_from",
        "effective_to",
        "unit_amount",
        "amount_need_met",
        "amount_attempted",
        "contracted_volume",
        "escalator_percent",
        "outcome_mode",
        "outcome_measure",
        "outcome_direction",
        "outcome_target",
        "withhold_percent",
        "bonus_amount",
    ]
    initial = {name: getattr(term, name) for name in names}
    for name in ("payer", "payee", "parent"):
        initial[name] = getattr(term, f"{name}_id")
    initial["programs"] = list(term.programs.values_list("pk", flat=True))
    return initial


class SubsidyForm(forms.Form):
    """One period of a subsidy schedule: a funder pays `percent` of months from..to."""

    funder_name = forms.CharField(max_length=200, label="Funder")
    funder = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Funder organization (if in the network)",
    )
    month_from = forms.IntegerField(min_value=1, label="From month")
    month_to = forms.IntegerField(min_value=1, label="To month")
    percent = forms.DecimalField(label="Percent", **PERCENT)

    def __init__(self, *args, network_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].queryset = Organization.objects.filter(
            network_id=network_id
        ).order_by("name")

    def clean(self):
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start is not None and end is not None and end < start:
            self.add_error("month_to", "The last month is on or after the first.")
        return data


class BaseSubsidyFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        kept = sorted(
            (
                f.cleaned_data
                for f in self.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ),
            key=lambda d: d["month_from"],
        )
        for before, after in itertools.pairwise(kept):
            if after["month_from"] <= before["month_to"]:
                raise forms.ValidationError(
                    f"Subsidy periods overlap: months {before['month_from']} to "
                    f"{before['month_to']} and {after['month_from']} to {after['month_to']}."
                )

    def subsidies(self) -> list[Subsidy]:
        return [
            Subsidy(
                funder_name=d["funder_name"],
                funder=d.get("funder"),
                month_from=d["month_from"],
                month_to=d["month_to"],
                percent=d["percent"],
            )
            for d in (f.cleaned_data for f in self.forms)
            if d and not d.get("DELETE")
        ]


SubsidyFormSet = forms.formset_factory(
    SubsidyForm, formset=BaseSubsidyFormSet, extra=2, can_delete=True, max_num=24
)


def subsidy_formset(data=None, *, network_id: int, term: PaymentTerm | None = None):
    initial = (
        [
            {
                "funder_name": s.funder_name,
                "funder": s.funder_id,
                "month_from": s.month_from,
                "month_to": s.month_to,
                "percent": s.percent,
            }
            for s in term.subsidies.all()
        ]
        if term is not None
        else []
    )
    return SubsidyFormSet(
        data,
        initial=initial,
        prefix="subsidy",
        form_kwargs={"network_id": network_id},
    )


class MonthInput(forms.TextInput):
    input_type = "month"


class PanelMonthForm(forms.Form):
    month = forms.CharField(widget=MonthInput(), help_text="YYYY-MM")
    members = forms.IntegerField(min_value=0)

    def clean_month(self):
        try:
            return parse_month(self.cleaned_data["month"])
        except ValueError:
            raise forms.ValidationError("The month is written YYYY-MM, e.g. 2031-03.") from None


class PanelUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"Columns month,members; month as YYYY-MM; up to {MAX_PANEL_ROWS} rows.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 200_000:
            raise forms.ValidationError("The file is too large for a panel (200 kB at most).")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text (save it as CSV).") from None


class ExpenseForm(forms.Form):
    """A support-fund expense: a client of the payee's referrals, the day, amount, purpose."""

    client = forms.ModelChoiceField(queryset=None)
    date = forms.DateField(widget=DateInput())
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    purpose = forms.CharField(max_length=200, help_text="e.g. Bus pass, utility deposit")

    def __init__(self, *args, term: PaymentTerm, clients, labels: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.term = term
        field = self.fields["client"]
        field.queryset = clients
        field.label_from_instance = lambda c: labels.get(c.pk, f"Client #{c.pk}")

    def clean_date(self):
        day = self.cleaned_data["date"]
        term = self.term
        if day < term.effective_from or (term.effective_to and day > term.effective_to):
            raise forms.ValidationError("The day is within the term's dates.")
        return day
