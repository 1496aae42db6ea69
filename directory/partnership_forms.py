"""Forms of the partnership pages: the partnership itself, and an agreement's upload.

They parse and narrow what may be chosen; the rules (two organizations or more, dates in
order, names unique in the network, who may be left out) live in directory.partnerships
and come back as field errors from there."""

from __future__ import annotations

from django import forms
from django.core.validators import FileExtensionValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy

from organizations.models import Organization, Partnership, PartnershipDocument

from .partnerships import AGREEMENT_EXTENSIONS, MESSAGES, SCALAR_FIELDS, PartnershipData


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PartnershipForm(forms.Form):
    """Name, organizations, status, dates, description and referral protocol."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    organizations = forms.ModelMultipleChoiceField(
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Organizations in the partnership"),
        help_text=gettext_lazy(
            "At least two. Usually a health care organization and a community-based organization."
        ),
        error_messages={
            "required": MESSAGES["too_few"],
            "invalid_choice": MESSAGES["foreign"],
        },
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=Partnership.Status.choices)
    start_date = forms.DateField(
        required=False, widget=DateInput(), label=gettext_lazy("Start date")
    )
    end_date = forms.DateField(required=False, widget=DateInput(), label=gettext_lazy("End date"))
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label=gettext_lazy("Description")
    )
    referral_protocol = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("Referral protocol"),
        help_text=gettext_lazy(
            "How referrals travel between the organizations: who sends what, how fast "
            "they are answered, whom to call."
        ),
    )

    def __init__(self, *args, acting_for: Organization, partnership=None, **kwargs):
        super().__init__(*args, **kwargs)
        listed = Q(is_active=True)
        if partnership is not None:
            # A party that has since closed stays listed (and ticked) on its partnership.
            listed |= Q(pk__in=partnership.organizations.values("pk"))
        choices = Organization.objects.visible_to(acting_for).filter(listed)
        field = self.fields["organizations"]
        field.queryset = choices.order_by("name")
        field.label_from_instance = lambda o: f"{o.name} ({o.get_kind_display()})"
        if self.is_bound:
            return
        if partnership is not None:
            self.initial.update({name: getattr(partnership, name) for name in SCALAR_FIELDS})
            self.initial["organizations"] = list(
                partnership.organizations.values_list("pk", flat=True)
            )
        elif not acting_for.is_backbone:
            self.initial["organizations"] = [acting_for.pk]

    def to_data(self) -> PartnershipData:
        data = self.cleaned_data
        return PartnershipData(
            name=data["name"],
            organizations=list(data["organizations"]),
            status=data["status"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            description=data["description"],
            referral_protocol=data["referral_protocol"],
        )


class AgreementForm(forms.Form):
    """An agreement's kind, title, dates and file."""

    kind = forms.ChoiceField(
        choices=PartnershipDocument.Kind.choices, label=gettext_lazy("Kind of agreement")
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    signed_on = forms.DateField(
        required=False,
        widget=DateInput(),
        label=gettext_lazy("Signed on"),
        help_text=gettext_lazy("Leave empty while it is not signed yet."),
    )
    expires_on = forms.DateField(
        required=False,
        widget=DateInput(),
        label=gettext_lazy("Expires on"),
        help_text=gettext_lazy("Leave empty if it runs until ended."),
    )
    file = forms.FileField(
        label=gettext_lazy("File (PDF, JPEG or PNG, up to 10 MB)"),
        validators=[FileExtensionValidator(AGREEMENT_EXTENSIONS, message=MESSAGES["file_type"])],
        error_messages={"required": MESSAGES["file_missing"]},
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
