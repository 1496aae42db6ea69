"""Forms of the service directory: search, program editing, HSDS upload."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext, gettext_lazy

from organizations.languages import COMMON_LANGUAGES
from organizations.sdoh import SDOHCategory

from .models import Program
from .selectors import DirectoryFilters, zip5
from .service_codes import IG_INTERVENTION_CODES
from .services import SCALAR_FIELDS, ProgramData

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _category_choices() -> list[tuple[str, str]]:
    return sorted(SDOHCategory.choices, key=lambda c: c[1])


class DirectorySearchForm(forms.Form):
    """GET filters: nothing here is about a person, so they may sit in the URL."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    category = forms.ChoiceField(label=gettext_lazy("Need"), required=False)
    area = forms.CharField(
        label=gettext_lazy("ZIP code or county"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"inputmode": "search", "autocomplete": "postal-code"}),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    accepting = forms.BooleanField(
        label=gettext_lazy("Accepting referrals now (open)"), required=False
    )

    def __init__(self, *args, language_choices: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", gettext("Any need")), *_category_choices()]
        self.fields["language"].choices = [("", gettext("Any language")), *language_choices]

    def filters(self) -> DirectoryFilters:
        if not self.is_valid():
            return DirectoryFilters()
        data = self.cleaned_data
        return DirectoryFilters(
            text=data["q"].strip(),
            category=data["category"],
            area=data["area"].strip(),
            language=data["language"],
            accepting_now=data["accepting"],
        )


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[,;\n]+", text or "") if p.strip()]


class ProgramForm(forms.Form):
    """A program as its organization keeps it current (HSDS fields and capacity)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    categories = forms.MultipleChoiceField(
        label=gettext_lazy("Needs it serves (SDOH categories)"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one need the program serves.")},
    )
    service_codes = forms.MultipleChoiceField(
        label=gettext_lazy("Services it delivers (SNOMED CT)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy(
            "A referral sent to your organization for one of these services comes "
            "straight to this program; otherwise it waits in your intake queue."
        ),
    )
    eligibility = forms.CharField(
        label=gettext_lazy("Eligibility"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    minimum_age = forms.IntegerField(
        label=gettext_lazy("Minimum age"), min_value=0, max_value=130, required=False
    )
    maximum_age = forms.IntegerField(
        label=gettext_lazy("Maximum age"), min_value=0, max_value=130, required=False
    )
    zip_codes = forms.CharField(
        label=gettext_lazy("ZIP codes served"),
        required=False,
        help_text=gettext_lazy("Five-digit ZIP codes, separated by commas."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    counties = forms.CharField(
        label=gettext_lazy("Counties served"),
        required=False,
        help_text=gettext_lazy("Separated by commas, e.g. Cook, Lake."),
    )
    other_areas = forms.CharField(
        label=gettext_lazy("Other service area"),
        required=False,
        help_text=gettext_lazy("An area in words, one per line (e.g. “North side neighborhoods”)."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages"), widget=forms.CheckboxSelectMultiple, required=False
    )
    fees = forms.CharField(
        label=gettext_lazy("Fees"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    hours = forms.CharField(
        label=gettext_lazy("Hours"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    intake = forms.CharField(
        label=gettext_lazy("How intake works"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    phone = forms.CharField(
        label=gettext_lazy("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    website = forms.URLField(label=gettext_lazy("Website"), required=False, assume_scheme="https")
    is_listed = forms.BooleanField(
        label=gettext_lazy("Listed in the network's directory"), required=False, initial=True
    )
    accepting_referrals = forms.BooleanField(
        label=gettext_lazy("Accepting referrals"), required=False, initial=True
    )
    manual_waitlist = forms.BooleanField(
        label=gettext_lazy("New referrals go to a waitlist"),
        required=False,
        help_text=gettext_lazy(
            "Set this when the program is full; clear it when it has room again."
        ),
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Capacity (open referrals the program can hold)"),
        min_value=0,
        required=False,
        help_text=gettext_lazy(
            "Leave empty for no limit. Beyond it, new referrals are waitlisted."
        ),
    )

    def __init__(self, *args, program: Program | None = None, **kwargs):
        if program is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(program)
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = _category_choices()
        languages = dict(COMMON_LANGUAGES)
        if program is not None:
            for lang in program.languages.all():
                languages.setdefault(lang.code, lang.name)
        self.fields["languages"].choices = list(languages.items())
        self._language_names = languages
        services = dict(IG_INTERVENTION_CODES)
        if program is not None:
            # Codes an HSDS import brought stay choosable (and chosen).
            for service in program.service_codes.all():
                services.setdefault(service.code, service.display or service.code)
        self.fields["service_codes"].choices = [
            (code, f"{display} ({code})") for code, display in services.items()
        ]
        self._service_displays = services

    @staticmethod
    def initial_for(program: Program) -> dict:
        areas = program.service_areas.all()
        return {
            **{name: getattr(program, name) for name in SCALAR_FIELDS},
            "categories": [c.code for c in program.categories.all()],
            "languages": [lang.code for lang in program.languages.all()],
            "service_codes": [c.code for c in program.service_codes.all()],
            "zip_codes": ", ".join(a.value for a in areas if a.kind == "zip"),
            "counties": ", ".join(a.value for a in areas if a.kind == "county"),
            "other_areas": "\n".join(a.value for a in areas if a.kind == "other"),
        }

    def clean_zip_codes(self) -> list[str]:
        values = _split(self.cleaned_data["zip_codes"].replace(" ", ","))
        bad = [v for v in values if not zip5(v)]
        if bad:
            raise forms.ValidationError(
                gettext("Not a ZIP code: %(codes)s.") % {"codes": ", ".join(bad)}
            )
        return list(dict.fromkeys(zip5(v) for v in values))

    def clean_counties(self) -> list[str]:
        names = [
            re.sub(r"\s+county$", "", c, flags=re.IGNORECASE)
            for c in _split(self.cleaned_data["counties"])
        ]
        return list(dict.fromkeys(names))

    def clean_other_areas(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["other_areas"].splitlines()]
        too_long = [line for line in lines if len(line) > 255]
        if too_long:
            raise forms.ValidationError(gettext("Each area line must be 255 characters or fewer."))
        return list(dict.fromkeys(line for line in lines if line))

    def clean(self):
        data = super().clean()
        low, high = data.get("minimum_age"), data.get("maximum_age")
        if low is not None and high is not None and high < low:
            self.add_error("maximum_age", gettext("The maximum age is below the minimum age."))
        return data

    def to_data(self) -> ProgramData:
        data = self.cleaned_data
        return ProgramData(
            name=data["name"].strip(),
            description=data["description"],
            categories=list(data["categories"]),
            eligibility=data["eligibility"],
            minimum_age=data["minimum_age"],
            maximum_age=data["maximum_age"],
            fees=data["fees"],
            hours=data["hours"],
            intake=data["intake"],
            phone=data["phone"].strip(),
            email=data["email"],
            website=data["website"],
            zip_codes=data["zip_codes"],
            counties=data["counties"],
            other_areas=data["other_areas"],
            languages=[(code, self._language_names[code]) for code in data["languages"]],
            is_listed=data["is_listed"],
            accepting_referrals=data["accepting_referrals"],
            manual_waitlist=data["manual_waitlist"],
            capacity=data["capacity"],
            service_codes=[(code, self._service_displays[code]) for code in data["service_codes"]],
        )


class HsdsUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("HSDS dataset"),
        help_text=gettext_lazy(
            "A zip of the HSDS CSV tables (organizations.csv, services.csv, …) or a "
            "datapackage.json. Up to 20 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,.json,application/zip"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than 20 MB; split the dataset.")
            )
        return upload


class PartnershipProgramsForm(forms.Form):
    """The programs a partnership covers, chosen among its organizations' programs."""

    programs = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Programs this partnership covers"),
        error_messages={
            "invalid_choice": gettext_lazy(
                "Choose programs of the partnership's own organizations."
            ),
        },
    )

    def __init__(self, *args, partnership, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["programs"]
        field.queryset = (
            Program.objects.filter(organization__in=partnership.organizations.all())
            .select_related("organization")
            .order_by("organization__name", "name")
        )
        field.label_from_instance = lambda p: f"{p.name} ({p.organization.name})"
        if not self.is_bound:
            self.initial["programs"] = list(partnership.programs.values_list("pk", flat=True))
