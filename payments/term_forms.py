"""Forms of the payment-term pages. Each foreign key is narrowed to what the term's
partnership may reference; the rules that decide (per kind, dates, parties, the schedule)
are payments.term_services', asked again on save."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

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
    Kind.FEE_FOR_SERVICE: gettext_lazy("Amount per completed referral"),
    Kind.CASE_RATE: gettext_lazy("Amount per client served per year"),
    Kind.PMPM: gettext_lazy("Amount per member per month"),
    Kind.PATHWAY: gettext_lazy("Amount per completed pathway"),
    Kind.SUPPORT_FUNDS: gettext_lazy("Allowance per person per year"),
}
UNIT_HELP = {
    Kind.FEE_FOR_SERVICE: gettext_lazy(
        "Paid for each referral closed, unless an amount below applies."
    ),
    Kind.PATHWAY: gettext_lazy("0: each pathway's own value."),
    Kind.SUPPORT_FUNDS: gettext_lazy("Drawn down by the expenses recorded for each person."),
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PaymentTermForm(forms.Form):
    """A term of one kind: only the fields that kind uses."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    payer = forms.ModelChoiceField(
        label=gettext_lazy("Payer"), queryset=Organization.objects.none()
    )
    payee = forms.ModelChoiceField(
        label=gettext_lazy("Payee"), queryset=Organization.objects.none()
    )
    parent = forms.ModelChoiceField(
        queryset=PaymentTerm.objects.none(),
        required=False,
        label=gettext_lazy("Paid from (through the backbone)"),
        help_text=gettext_lazy(
            "For a sub-term: the payer's contract with the backbone. The payer is then "
            "the backbone."
        ),
    )
    programs = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Programs"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None chosen: every program of the partnership."),
    )
    effective_from = forms.DateField(label=gettext_lazy("In force from"), widget=DateInput())
    effective_to = forms.DateField(
        label=gettext_lazy("Until"),
        required=False,
        widget=DateInput(),
        help_text=gettext_lazy("Blank: open-ended."),
    )
    unit_amount = forms.DecimalField(**MONEY)
    amount_need_met = forms.DecimalField(
        required=False, label=gettext_lazy("Amount when the need was met"), **MONEY
    )
    amount_attempted = forms.DecimalField(
        required=False,
        label=gettext_lazy("Amount when attempted"),
        help_text=gettext_lazy("A referral closed otherwise (need not met, unable to contact)."),
        **MONEY,
    )
    contracted_volume = forms.IntegerField(
        required=False,
        min_value=1,
        label=gettext_lazy("Clients contracted per year"),
        help_text=gettext_lazy("Optional."),
    )
    escalator_percent = forms.DecimalField(
        required=False,
        label=gettext_lazy("Annual escalator (%)"),
        help_text=gettext_lazy("Added to the rates at each anniversary of the start."),
        **PERCENT,
    )
    outcome_mode = forms.ChoiceField(
        choices=PaymentTerm.OutcomeMode.choices,
        required=False,
        label=gettext_lazy("Outcome-based part"),
    )
    outcome_measure = forms.ChoiceField(required=False, label=gettext_lazy("Measure"))
    outcome_direction = forms.ChoiceField(
        choices=PaymentTerm.Direction.choices, label=gettext_lazy("The measure must be")
    )
    outcome_target = forms.DecimalField(
        required=False, max_digits=12, decimal_places=4, label=gettext_lazy("Target")
    )
    withhold_percent = forms.DecimalField(
        required=False, label=gettext_lazy("Withhold (%)"), **PERCENT
    )
    bonus_amount = forms.DecimalField(required=False, label=gettext_lazy("Bonus"), **MONEY)

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
        self.fields["unit_amount"].label = UNIT_LABELS.get(kind, gettext("Amount"))
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

    funder_name = forms.CharField(max_length=200, label=gettext_lazy("Funder"))
    funder = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label=gettext_lazy("Funder organization (if in the network)"),
    )
    month_from = forms.IntegerField(min_value=1, label=gettext_lazy("From month"))
    month_to = forms.IntegerField(min_value=1, label=gettext_lazy("To month"))
    percent = forms.DecimalField(label=gettext_lazy("Percent"), **PERCENT)

    def __init__(self, *args, network_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funder"].queryset = Organization.objects.filter(
            network_id=network_id
        ).order_by("name")

    def clean(self):
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start is not None and end is not None and end < start:
            self.add_error("month_to", gettext("The last month is on or after the first."))
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
                    gettext(
                        "Subsidy periods overlap: months %(from1)s to %(to1)s and %(from2)s to "
                        "%(to2)s."
                    )
                    % {
                        "from1": before["month_from"],
                        "to1": before["month_to"],
                        "from2": after["month_from"],
                        "to2": after["month_to"],
                    }
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
    month = forms.CharField(
        label=gettext_lazy("Month"), widget=MonthInput(), help_text=gettext_lazy("YYYY-MM")
    )
    members = forms.IntegerField(label=gettext_lazy("Members"), min_value=0)

    def clean_month(self):
        try:
            return parse_month(self.cleaned_data["month"])
        except ValueError:
            raise forms.ValidationError(
                gettext("The month is written YYYY-MM, e.g. 2031-03.")
            ) from None


class PanelUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=format_lazy(
            gettext_lazy("Columns month,members; month as YYYY-MM; up to {most} rows."),
            most=MAX_PANEL_ROWS,
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 200_000:
            raise forms.ValidationError(
                gettext("The file is too large for a panel (200 kB at most).")
            )
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                gettext("The file is not UTF-8 text (save it as CSV).")
            ) from None


class ExpenseForm(forms.Form):
    """A support-fund expense: a client of the payee's referrals, the day, amount, purpose."""

    client = forms.ModelChoiceField(label=gettext_lazy("Client"), queryset=None)
    date = forms.DateField(label=gettext_lazy("Date"), widget=DateInput())
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01")
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"),
        max_length=200,
        help_text=gettext_lazy("e.g. Bus pass, utility deposit"),
    )

    def __init__(self, *args, term: PaymentTerm, clients, labels: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.term = term
        field = self.fields["client"]
        field.queryset = clients
        field.label_from_instance = lambda c: labels.get(
            c.pk, gettext("Client #%(number)s") % {"number": c.pk}
        )

    def clean_date(self):
        day = self.cleaned_data["date"]
        term = self.term
        if day < term.effective_from or (term.effective_to and day > term.effective_to):
            raise forms.ValidationError(gettext("The day is within the term's dates."))
        return day
