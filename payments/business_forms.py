"""The business case page's inputs (numbers only, no client data) and their defaults from
the partnership's payment terms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy

from .business_case import Inputs, Subsidy
from .models import PaymentTerm

MONEY_MAX = Decimal("99999999.99")
# The worked example, used where the partnership has no term to read.
EXAMPLE = {
    "cost_per_client": Decimal("2900.00"),
    "clients_per_year": 350,
    "savings_per_client": Decimal("10000.00"),
    "fixed_cost": Decimal("0.00"),
    "escalator_percent": Decimal("0.00"),
    "subsidy_1_percent": Decimal("80"),
    "subsidy_1_months": 6,
    "subsidy_2_percent": Decimal("60"),
    "subsidy_2_months": 6,
    "years": 3,
}


def _money(label: str, help_text: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        min_value=Decimal("0"),
        max_value=MONEY_MAX,
        max_digits=10,
        decimal_places=2,
    )


def _percent(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal("0"), max_value=Decimal("100"), decimal_places=2
    )


def _months(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=120)


class BusinessCaseForm(forms.Form):
    cost_per_client = _money(
        gettext_lazy("Cost per client (USD a year)"), gettext_lazy("What serving one client costs.")
    )
    clients_per_year = forms.IntegerField(
        label=gettext_lazy("Clients per year"), min_value=0, max_value=1_000_000
    )
    savings_per_client = _money(
        gettext_lazy("Expected savings per client (USD a year)"),
        gettext_lazy("e.g. about $10,000 a year from fewer EMS calls and emergency visits."),
    )
    fixed_cost = _money(
        gettext_lazy("Fixed cost (USD a year)"),
        gettext_lazy("Staff, space and systems, whatever the volume."),
    )
    escalator_percent = _percent(gettext_lazy("Annual escalator (%)"))
    subsidy_1_percent = _percent(gettext_lazy("First subsidy: share it pays (%)"))
    subsidy_1_months = _months(gettext_lazy("First subsidy: months, from month 1"))
    subsidy_2_percent = _percent(gettext_lazy("Then a second subsidy: share (%)"))
    subsidy_2_months = _months(gettext_lazy("Second subsidy: months"))
    years = forms.IntegerField(label=gettext_lazy("Years"), min_value=1, max_value=10)

    def inputs(self) -> Inputs:
        """The checked inputs (call after is_valid())."""
        data = self.cleaned_data
        return Inputs(
            cost_per_client=data["cost_per_client"],
            clients_per_year=data["clients_per_year"],
            savings_per_client=data["savings_per_client"],
            years=data["years"],
            fixed_cost=data["fixed_cost"],
            escalator_percent=data["escalator_percent"],
            subsidies=tuple(
                Subsidy(data[f"subsidy_{i}_percent"], data[f"subsidy_{i}_months"])
                for i in (1, 2)
                if data[f"subsidy_{i}_months"]
            ),
        )


def _in_force(term: PaymentTerm, today: date) -> bool:
    return term.effective_from <= today and (
        term.effective_to is None or term.effective_to >= today
    )


def term_defaults(terms: Iterable[PaymentTerm], today: date) -> tuple[dict, PaymentTerm | None]:
    """The form's starting values: the partnership's case-rate term in force (else its
    latest case-rate term, else its latest term) gives the cost per client, the volume,
    the escalator and the subsidy schedule; the issue's example fills the rest."""
    terms = sorted(terms, key=lambda t: (t.effective_from, t.pk))
    case_rates = [t for t in terms if t.kind == PaymentTerm.Kind.CASE_RATE]
    term = next((t for t in reversed(case_rates) if _in_force(t, today)), None)
    term = term or (case_rates or terms or [None])[-1]
    values = dict(EXAMPLE)
    if term is None:
        return values, None
    values["escalator_percent"] = term.escalator_percent
    if term.kind == PaymentTerm.Kind.CASE_RATE:
        values["cost_per_client"] = term.unit_amount
        if term.contracted_volume is not None:
            values["clients_per_year"] = term.contracted_volume
    subsidies = sorted(term.subsidies.all(), key=lambda s: s.month_from)[:2]
    for i in (1, 2):
        values[f"subsidy_{i}_percent"] = Decimal("0")
        values[f"subsidy_{i}_months"] = 0
    for i, subsidy in enumerate(subsidies, start=1):
        values[f"subsidy_{i}_percent"] = subsidy.percent
        values[f"subsidy_{i}_months"] = subsidy.month_to - subsidy.month_from + 1
    return values, term
