"""Forms of the outcomes page: define or change a measure, record one result, upload a CSV
of results. Client identifiers come by POST only (never in a URL)."""

from __future__ import annotations

import csv
import io

from django import forms
from django.utils.translation import gettext, gettext_lazy

from ..models import OutcomeMeasure
from .services import OutcomeRow

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_ROWS = 5000
# The CSV columns, as the page documents them: the client by `mrn` or `client_number`
# (either column, or both), then `value` and `observed_on`.
CLIENT_COLUMNS = ("mrn", "client_number")
REQUIRED_COLUMNS = ("value", "observed_on")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class OutcomeMeasureForm(forms.ModelForm):
    """A measure's definition. The partnership is the page's, never a posted value."""

    class Meta:
        model = OutcomeMeasure
        fields = ["name", "loinc_code", "unit", "goal", "threshold", "description"]
        labels = {
            "name": gettext_lazy("Name"),
            "loinc_code": gettext_lazy("LOINC code"),
            "unit": gettext_lazy("Unit"),
            "goal": gettext_lazy("Goal: a result meets it when its value is"),
            "threshold": gettext_lazy("Goal value"),
            "description": gettext_lazy("Description"),
        }
        help_texts = {"threshold": gettext_lazy("e.g. 8 for “below 8 %”.")}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        self.partnership = partnership
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data.get("name", "").split())
        taken = OutcomeMeasure.objects.filter(partnership=self.partnership, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                gettext("The partnership already has an outcome measure with this name.")
            )
        return name

    def clean_loinc_code(self) -> str:
        return self.cleaned_data.get("loinc_code", "").strip()


class _MeasureChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: OutcomeMeasure) -> str:
        return gettext("%(name)s (goal: %(goal)s)") % {"name": obj.name, "goal": obj.goal_text}


def _measure_field(partnership) -> _MeasureChoice:
    # Narrowed to the page's partnership and its active measures: posting another
    # partnership's measure id finds nothing.
    return _MeasureChoice(
        queryset=OutcomeMeasure.objects.filter(partnership=partnership, is_active=True),
        label=gettext("Outcome measure"),
        empty_label=gettext("Choose a measure"),
    )


class OutcomeRecordForm(forms.Form):
    """One result, typed in. The client by MRN or Linkage client number."""

    measure = forms.ModelChoiceField(queryset=OutcomeMeasure.objects.none())
    mrn = forms.CharField(
        required=False,
        max_length=100,
        label=gettext_lazy("MRN"),
        help_text=gettext_lazy("An identifier your organization recorded on the client's record."),
    )
    client_number = forms.CharField(
        required=False,
        max_length=20,
        label=gettext_lazy("or Linkage client number"),
        help_text=gettext_lazy("The number after # on the client's record."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    value = forms.CharField(
        label=gettext_lazy("Value"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    observed_on = forms.DateField(label=gettext_lazy("Date observed"), widget=DateInput())

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"] = _measure_field(partnership)
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("mrn", "").strip() or cleaned.get("client_number")):
            raise forms.ValidationError(
                gettext("Give the client's MRN or their Linkage client number.")
            )
        return cleaned

    def row(self) -> OutcomeRow:
        c = self.cleaned_data
        return OutcomeRow(
            mrn=c["mrn"],
            client_number=c["client_number"],
            value=c["value"],
            observed_on=c["observed_on"],
        )


class OutcomeUploadForm(forms.Form):
    """A CSV of results for one measure. A file that is not such a CSV is refused whole."""

    measure = forms.ModelChoiceField(queryset=OutcomeMeasure.objects.none())
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("UTF-8 CSV with a header row; up to 2 MB and 5,000 rows."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["measure"] = _measure_field(partnership)

    def clean_file(self) -> list[OutcomeRow]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 2 MB: split it."))
        return parse_results_csv(upload.read())


def parse_results_csv(data: bytes) -> list[OutcomeRow]:
    """The rows of an uploaded results CSV, or ValidationError when the file is not the
    expected CSV (not UTF-8 text, no header with the columns, no rows, too many rows)."""
    if b"\x00" in data:
        raise forms.ValidationError(gettext("This is not a CSV file (it holds binary data)."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise forms.ValidationError(
            gettext("This is not a UTF-8 CSV file. Save it from your spreadsheet as “CSV UTF-8”.")
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        lines = list(reader)
    except csv.Error:
        raise forms.ValidationError(gettext("This file could not be read as CSV.")) from None
    if not lines:
        raise forms.ValidationError(gettext("The file is empty."))
    header = [h.strip().lower() for h in lines[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing or not any(c in header for c in CLIENT_COLUMNS):
        raise forms.ValidationError(
            gettext(
                "The first row must name the columns: mrn or client_number (or both), value "
                "and observed_on. This file's first row has: %(columns)s."
            )
            % {"columns": ", ".join(header[:8]) or gettext("nothing")}
        )
    if len(set(header)) != len(header):
        raise forms.ValidationError(gettext("A column is named twice in the first row."))
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines (spreadsheets add them at the end)
        record = dict(zip(header, cells, strict=False))
        rows.append(
            OutcomeRow(
                mrn=record.get("mrn", ""),
                client_number=record.get("client_number", ""),
                value=record.get("value", ""),
                observed_on=record.get("observed_on", ""),
                line=number,
            )
        )
    if not rows:
        raise forms.ValidationError(gettext("The file has a header row but no results."))
    if len(rows) > MAX_UPLOAD_ROWS:
        raise forms.ValidationError(
            gettext("The file has %(rows)s rows; upload at most %(most)s at a time.")
            % {"rows": len(rows), "most": f"{MAX_UPLOAD_ROWS:,}"}
        )
    return rows
