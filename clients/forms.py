"""Forms of the client pages: the record, search, lead navigator, identifiers."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from organizations.models import Membership
from organizations.roles import Role

from .models import Client, ClientIdentifier
from .validation import normalize_state, normalize_us_phone, normalize_zip, validate_birth_date


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ClientForm(forms.ModelForm):
    """The client record: create and edit."""

    class Meta:
        model = Client
        fields = [
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
        ]
        labels = {
            "given_name": _("Given (first) name"),
            "family_name": _("Family (last) name"),
            "preferred_name": _("Preferred name"),
            "address_line": _("Street address"),
            "state": _("State (2 letters)"),
            "insurance_member_id": _("Member id"),
            "insurance_payer": _("Insurance payer / plan"),
            # The model's own field names, as labels the page can translate.
            "date_of_birth": _("Date of birth"),
            "phone": _("Phone"),
            "email": _("Email"),
            "city": _("City"),
            "zip_code": _("ZIP code"),
            "preferred_language": _("Preferred language"),
            "race": _("Race"),
            "ethnicity": _("Ethnicity"),
            "sex": _("Sex"),
            "gender_identity": _("Gender identity"),
            "insurance_type": _("Insurance type"),
        }
        widgets = {
            "date_of_birth": DateInput(),
            "phone": forms.TextInput(
                attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": "(555) 123-4567"}
            ),
            "zip_code": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "state": forms.TextInput(attrs={"maxlength": 2, "autocomplete": "off"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # PHI: browsers must not remember what was typed for one person and offer it for
        # the next.
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")

    def clean_given_name(self) -> str:
        return self.cleaned_data["given_name"].strip()

    def clean_family_name(self) -> str:
        return self.cleaned_data["family_name"].strip()

    def clean_date_of_birth(self) -> date:
        return validate_birth_date(self.cleaned_data["date_of_birth"])

    def clean_phone(self) -> str:
        return normalize_us_phone(self.cleaned_data.get("phone", ""))

    def clean_email(self) -> str:
        return self.cleaned_data.get("email", "").strip().lower()

    def clean_state(self) -> str:
        return normalize_state(self.cleaned_data.get("state", ""))

    def clean_zip_code(self) -> str:
        return normalize_zip(self.cleaned_data.get("zip_code", ""))


class ClientCreateForm(ClientForm):
    """The record plus the "create anyway" confirmation shown after possible duplicates."""

    confirm_new = forms.BooleanField(
        required=False,
        label=_("None of these is the person: create a new record anyway"),
    )


class ClientSearchForm(forms.Form):
    """Search by name, date of birth, phone or an identifier. Posted, never in the URL."""

    name = forms.CharField(
        required=False,
        max_length=200,
        label=_("Name"),
        help_text=_("Given, family or preferred name; nicknames and accents are matched."),
    )
    date_of_birth = forms.DateField(required=False, label=_("Date of birth"), widget=DateInput())
    phone = forms.CharField(
        required=False,
        max_length=30,
        label=_("Phone"),
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    identifier = forms.CharField(
        required=False, max_length=100, label=_("Identifier (MRN, member id...)")
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("autocomplete", "off")

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data.get("name", "").split())

    def clean_phone(self) -> str:
        return normalize_us_phone(self.cleaned_data.get("phone", ""))

    def clean_identifier(self) -> str:
        return self.cleaned_data.get("identifier", "").strip()

    def clean(self):
        cleaned = super().clean()
        criteria = ("name", "date_of_birth", "phone", "identifier")
        if not self.errors and not any(cleaned.get(c) for c in criteria):
            raise forms.ValidationError(
                gettext("Enter a name, a date of birth, a phone number or an identifier.")
            )
        return cleaned

    @property
    def criteria(self) -> dict:
        """The cleaned search terms (for the service and for re-posting the next page)."""
        return {
            "name": self.cleaned_data.get("name", ""),
            "date_of_birth": self.cleaned_data.get("date_of_birth"),
            "phone": self.cleaned_data.get("phone", ""),
            "identifier": self.cleaned_data.get("identifier", ""),
        }


class LeadNavigatorForm(forms.Form):
    """Choose the client's lead navigator among the organization's own navigators."""

    membership = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        label=_("Lead navigator"),
        empty_label=_("Choose a navigator"),
    )
    handover_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Handover note"),
        help_text=_("What the new lead navigator needs to know. Required when taking over."),
    )
    confirm_handover = forms.BooleanField(
        required=False,
        label=_("I understand the current lead navigator will be replaced and told."),
    )

    def __init__(self, *args, organization, current_lead: Membership | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_lead = current_lead
        # Narrowed to the active organization: nobody can appoint another organization's
        # staff by posting their membership id.
        self.fields["membership"].queryset = (
            Membership.objects.visible_to(organization)
            .filter(
                is_active=True,
                user__is_active=True,
                role__in=[Role.NAVIGATOR, Role.ORG_ADMIN],
            )
            .select_related("user")
            .order_by("user__first_name", "user__last_name", "user__email")
        )
        self.fields["membership"].label_from_instance = lambda m: (
            f"{m.user.get_full_name() or m.user.email} ({m.get_role_display()})"
        )

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("membership")
        current = self.current_lead
        if chosen is None or current is None or chosen.pk == current.pk:
            return cleaned
        if not cleaned.get("handover_note", "").strip():
            self.add_error(
                "handover_note",
                gettext("A handover note is required when replacing a lead navigator."),
            )
        if not cleaned.get("confirm_handover"):
            self.add_error(
                "confirm_handover",
                gettext("Confirm that the current lead navigator will be replaced."),
            )
        return cleaned


class ClientIdentifierForm(forms.ModelForm):
    """An identifier the active organization's own system gives the client."""

    class Meta:
        model = ClientIdentifier
        fields = ["system", "value"]
        labels = {"system": _("System"), "value": _("Identifier")}
        widgets = {
            "system": forms.TextInput(attrs={"placeholder": "MRN", "autocomplete": "off"}),
            "value": forms.TextInput(attrs={"autocomplete": "off"}),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_system(self) -> str:
        return self.cleaned_data["system"].strip()

    def clean_value(self) -> str:
        return self.cleaned_data["value"].strip()

    def clean(self):
        cleaned = super().clean()
        system, value = cleaned.get("system"), cleaned.get("value")
        if (
            system
            and value
            and ClientIdentifier.objects.filter(
                organization=self.organization, system=system, value=value
            ).exists()
        ):
            # Only the organization's own identifiers are checked, so the message tells the
            # user nothing about anyone else's records.
            # code="duplicate": the page answers 409 (a conflict with a stored record).
            self.add_error(
                "value",
                forms.ValidationError(
                    gettext("Your organization already uses this %(system)s for a client record.")
                    % {"system": system},
                    code="duplicate",
                ),
            )
        return cleaned
