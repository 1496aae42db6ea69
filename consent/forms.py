"""The release capture form. Its cleaned data are exactly `release_create`'s arguments
(besides client, organization and captured_by): `release_create(**form.service_kwargs())`."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization

from .categories import CARRIED_CATEGORIES, NAMED_RECIPIENTS_ONLY, Category
from .models import Release
from .services import MESSAGES
from .text import agreement

PAPER_FORM_MAX_BYTES = 10 * 1024 * 1024
PAPER_FORM_EXTENSIONS = ["pdf", "jpg", "jpeg", "png"]


def add_months(day: date, months: int) -> date:
    """`day` moved `months` calendar months on (the 31st becomes the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def effective_moment(day: date) -> datetime:
    """A release effective today is in force from now; one dated later from that day's
    start (local time)."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.combine(day, time.min))


def expiry_moment(day: date) -> datetime:
    """A release "expires on D" stops at the start of D (local time)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def check_terms(form: forms.Form, data: dict) -> None:
    """The release's terms hang together (a form's clean): some categories, someone to
    share with, 42 CFR Part 2 records only with named recipients, a purpose spelled out
    when it is "other". Shared by the release form and the release-by-link form."""
    categories = set(data.get("categories") or ())
    all_partners = data.get("all_network_partners", False)
    if "categories" in data and not categories:
        form.add_error("categories", MESSAGES["no_category"])
    if "recipients" in data and not data["recipients"] and not all_partners:
        form.add_error("recipients", MESSAGES["no_recipient"])
    if all_partners and categories & {c.value for c in NAMED_RECIPIENTS_ONLY}:
        form.add_error("all_network_partners", MESSAGES["part2_all_partners"])
    if data.get("purpose") == Release.Purpose.OTHER and not data.get("purpose_other"):
        form.add_error("purpose_other", MESSAGES["purpose_other"])


class ReleaseForm(forms.Form):
    """Capture a release of information for `client`, on behalf of `organization`.

    Recipients are limited to the active organizations of the client's network (the
    capturing organization aside: it holds the record already). The rules are the
    service's; the form checks them first so the page can point at the field.
    """

    recipients = forms.ModelMultipleChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Organizations named one by one"),
        error_messages={
            "invalid_choice": MESSAGES["recipient_outside"],
            "invalid_pk_value": MESSAGES["recipient_outside"],
        },
    )
    all_network_partners = forms.BooleanField(
        required=False,
        label=_("All active partners in the network"),
        help_text=_(
            "Every organization in an active partnership in the network when data is "
            "shared. Not allowed for substance-use-disorder records."
        ),
    )
    categories = forms.MultipleChoiceField(
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Information that may be shared"),
    )
    purpose = forms.ChoiceField(
        choices=Release.Purpose.choices, initial=Release.Purpose.CARE_COORDINATION
    )
    purpose_other = forms.CharField(
        required=False, max_length=300, label=_("Purpose, if other (describe)")
    )
    language = forms.ChoiceField(choices=Release.Language.choices, label=_("Language of the form"))
    method = forms.ChoiceField(
        choices=Release.Method.choices,
        initial=Release.Method.ESIGNATURE,
        widget=forms.RadioSelect,
        label=_("How the client gives consent"),
    )
    esignature_name = forms.CharField(
        required=False, max_length=200, label=_("Signer's full name, typed by the signer")
    )
    esignature_confirmed = forms.BooleanField(
        required=False, label=_("I, the signer, agree to this release")
    )
    paper_form = forms.FileField(
        required=False,
        label=_("Signed paper form (PDF, JPEG or PNG, up to 10 MB)"),
        validators=[FileExtensionValidator(PAPER_FORM_EXTENSIONS)],
    )
    verbal_witness_name = forms.CharField(
        required=False, max_length=200, label=_("Witness to the verbal consent")
    )
    signer = forms.ChoiceField(
        choices=Release.Signer.choices,
        initial=Release.Signer.CLIENT,
        widget=forms.RadioSelect,
        label=_("Who signs"),
    )
    representative_name = forms.CharField(
        required=False, max_length=200, label=_("Representative's name")
    )
    representative_relationship = forms.CharField(
        required=False,
        max_length=100,
        label=_("Relationship to the client"),
        help_text=_("e.g. parent, legal guardian, health care power of attorney"),
    )
    effective_at = forms.DateField(widget=DateInput(), label=_("Effective date"))
    expires_at = forms.DateField(widget=DateInput(), label=_("Expiry date"))

    def __init__(self, data=None, files=None, *, organization, client, actor, **kwargs):
        super().__init__(data, files, **kwargs)
        self.organization = organization
        self.client = client
        self.actor = actor
        self.fields["recipients"].queryset = (
            Organization.objects.filter(network_id=client.network_id, is_active=True)
            .exclude(pk=organization.pk)
            .order_by("name")
        )
        # Most releases are captured to refer: start with what a referral carries ticked, so
        # the release that names the food bank also lets it see what the referral sends.
        self.fields["categories"].initial = [c.value for c in CARRIED_CATEGORIES]
        today = timezone.localdate()
        self.fields["effective_at"].initial = today
        self.fields["expires_at"].initial = add_months(today, client.network.release_default_months)
        self.fields["language"].initial = (
            client.preferred_language
            if client.preferred_language in Release.Language.values
            else Release.Language.EN
        )

    def clean_paper_form(self):
        upload = self.cleaned_data.get("paper_form")
        if upload and upload.size > PAPER_FORM_MAX_BYTES:
            raise ValidationError(gettext("The file is larger than 10 MB."))
        return upload

    def clean_effective_at(self):
        day = self.cleaned_data["effective_at"]
        if day < timezone.localdate():
            raise ValidationError(gettext("A release cannot take effect in the past."))
        return day

    def clean(self):
        data = super().clean()
        check_terms(self, data)
        method = data.get("method")
        if method == Release.Method.ESIGNATURE:
            if not data.get("esignature_name"):
                self.add_error("esignature_name", MESSAGES["esignature_name"])
            if not data.get("esignature_confirmed"):
                self.add_error("esignature_confirmed", MESSAGES["esignature_confirmed"])
        elif method == Release.Method.PAPER:
            if not data.get("paper_form") and "paper_form" not in self.errors:
                self.add_error("paper_form", MESSAGES["paper_form"])
        elif method == Release.Method.VERBAL and not data.get("verbal_witness_name"):
            self.add_error("verbal_witness_name", MESSAGES["verbal_witness"])

        if data.get("signer") == Release.Signer.REPRESENTATIVE:
            if not data.get("representative_name"):
                self.add_error("representative_name", MESSAGES["representative_name"])
            if not data.get("representative_relationship"):
                self.add_error(
                    "representative_relationship", MESSAGES["representative_relationship"]
                )

        effective, expires = data.get("effective_at"), data.get("expires_at")
        if effective and expires:
            if expires <= effective:
                self.add_error("expires_at", MESSAGES["expiry_order"])
            else:
                data["effective_at"] = effective_moment(effective)
                data["expires_at"] = expiry_moment(expires)
        return data

    def service_kwargs(self) -> dict:
        """The arguments of `release_create` for a valid form."""
        return {
            "client": self.client,
            "organization": self.organization,
            "captured_by": self.actor,
            **self.cleaned_data,
        }

    def agreement(self) -> dict:
        """The text the signer agrees to, from what is on the form now (valid or not), in
        the form's language: shown beside the signature fields."""

        def value(name):
            raw = self[name].value()
            try:
                return self.fields[name].clean(raw)
            except ValidationError:
                return None

        recipients = value("recipients") or []
        purpose = value("purpose") or ""
        return agreement(
            language=value("language") or Release.Language.EN,
            organization_name=self.organization.name,
            network_name=self.client.network.name,
            recipient_names=[o.name for o in recipients],
            all_partners=bool(value("all_network_partners")),
            categories=value("categories") or [],
            purpose=purpose,
            purpose_other=value("purpose_other") or "",
            effective=value("effective_at"),
            expires=value("expires_at"),
            signer=value("signer") or Release.Signer.CLIENT,
            representative_name=value("representative_name") or "",
            representative_relationship=value("representative_relationship") or "",
            method=value("method") or "",
            verbal_witness_name=value("verbal_witness_name") or "",
        )
