"""The forms of the statement pages: each narrows its choices to what the active
organization may pick (its visible terms; for generating, the terms it is paid under)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from organizations.models import Organization

from . import selectors
from .models import Statement

# How far back a statement may be generated from the page: two years of months covers a
# late claim; older months are a correction's business.
MONTHS_BACK = 24


def month_choices(today: date, back: int = MONTHS_BACK) -> list[tuple[str, str]]:
    """The current month and the `back - 1` before it, newest first, as (YYYY-MM-01, label)."""
    out = []
    year, month = today.year, today.month
    for _ in range(back):
        first = date(year, month, 1)
        out.append((first.isoformat(), f"{first:%B %Y}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


class StatementFilterForm(forms.Form):
    """The statement list's filters (GET): a term and a status, both optional."""

    term = forms.ModelChoiceField(
        label=gettext_lazy("Term"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Every term"),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Every status")), *Statement.Status.choices],
        required=False,
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].queryset = selectors.terms_visible(organization).order_by("name")


class GenerateForm(forms.Form):
    """Generate (or generate again) the month's statement of a term the organization is
    the payee of."""

    term = forms.ModelChoiceField(
        queryset=None, empty_label=None, label=gettext_lazy("Payment term")
    )
    month = forms.TypedChoiceField(
        choices=(), coerce=date.fromisoformat, label=gettext_lazy("Month")
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        # Its own ids: the list page's filter form has a "term" field too.
        kwargs.setdefault("auto_id", "id_generate_%s")
        super().__init__(*args, **kwargs)
        self.fields["term"].queryset = (
            selectors.terms_visible(organization).filter(payee=organization).order_by("name")
        )
        self.fields["month"].choices = month_choices(timezone.localdate())


class ConfirmForm(forms.Form):
    """A checked box before a step that cannot be taken back."""

    confirm = forms.BooleanField(
        label=gettext_lazy("I have checked this and mean to do it"),
        error_messages={"required": gettext_lazy("Tick the box to confirm.")},
    )


class MarkPaidForm(forms.Form):
    """The payment of an approved statement: when, and its reference."""

    paid_on = forms.DateField(
        label=gettext_lazy("Paid on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reference = forms.CharField(
        label=gettext_lazy("Payment reference"),
        max_length=100,
        help_text=gettext_lazy("The check or transfer number."),
    )

    def clean_paid_on(self) -> date:
        day = self.cleaned_data["paid_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(gettext("A payment date cannot be in the future."))
        return day


COMMENT_PREFIX = "comment_"


def dispute_comments(data) -> dict[int, str]:
    """The per-line comments of a dispute (fields `comment_<line id>`), empty ones left out.
    A field whose id is not a number is ignored: the service checks every line id named
    is on the statement."""
    comments: dict[int, str] = {}
    for key, value in data.items():
        if not key.startswith(COMMENT_PREFIX):
            continue
        try:
            line_id = int(key.removeprefix(COMMENT_PREFIX))
        except ValueError:
            continue
        if value.strip():
            comments[line_id] = value.strip()[:2000]
    return comments
