"""Forms for consent by link: staff choosing the terms of the link, the client signing.

The terms are the release form's own fields (recipients, categories, purpose), taken from
`ReleaseForm` so the two pages offer the same choices and say the same things."""

from __future__ import annotations

import copy

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization

from .categories import CARRIED_CATEGORIES
from .forms import ReleaseForm, check_terms
from .models import ConsentLink, Release

TERMS = ("recipients", "all_network_partners", "categories", "purpose", "purpose_other")


class ReleaseLinkForm(forms.Form):
    """The terms of the release the client will be asked to sign, how to send the link,
    and which of the organization's draft referrals wait for it."""

    channel = forms.ChoiceField(
        choices=ConsentLink.Channel.choices,
        widget=forms.RadioSelect,
        initial=ConsentLink.Channel.SMS,
        label=_("Send the link by"),
    )
    waiting_referrals = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Send these draft referrals once the client signs"),
    )

    def __init__(self, data=None, *, organization, client, drafts, **kwargs):
        super().__init__(data, **kwargs)
        # The release form's fields, one copy per form (field objects hold state).
        terms = {name: copy.deepcopy(ReleaseForm.base_fields[name]) for name in TERMS}
        self.fields = {**terms, **self.fields}
        self.organization = organization
        self.client = client
        self.fields["recipients"].queryset = (
            Organization.objects.filter(network_id=client.network_id, is_active=True)
            .exclude(pk=organization.pk)
            .order_by("name")
        )
        self.fields["categories"].initial = [c.value for c in CARRIED_CATEGORIES]
        self.fields["waiting_referrals"].choices = drafts
        if not drafts:
            del self.fields["waiting_referrals"]

    def clean(self):
        data = super().clean()
        check_terms(self, data)
        return data

    def service_kwargs(self) -> dict:
        """`release_link_create`'s arguments besides the client, organization and actor."""
        data = self.cleaned_data
        return {
            "recipients": data["recipients"],
            "all_network_partners": data["all_network_partners"],
            "categories": data["categories"],
            "purpose": data["purpose"],
            "purpose_other": data["purpose_other"],
            "channel": data["channel"],
            "waiting_referral_ids": data.get("waiting_referrals") or [],
        }


class SignForm(forms.Form):
    """The client's signature: their typed name and their agreement; or, for a legal
    representative, theirs and how they are related to the client. Labels follow the
    page's language (rendered inside `translation.override`)."""

    signer = forms.ChoiceField(
        choices=[
            (Release.Signer.CLIENT, _("I am the person this release is about")),
            (Release.Signer.REPRESENTATIVE, _("I am their legal representative")),
        ],
        initial=Release.Signer.CLIENT,
        widget=forms.RadioSelect,
        label=_("Who is signing"),
    )
    representative_name = forms.CharField(
        required=False, max_length=200, label=_("Representative's full name")
    )
    representative_relationship = forms.CharField(
        required=False,
        max_length=100,
        label=_("Relationship to the person"),
        help_text=_("For example: parent, legal guardian"),
    )
    esignature_name = forms.CharField(
        max_length=200,
        label=_("Type your full name to sign"),
        error_messages={"required": _("Type your full name to sign.")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    esignature_confirmed = forms.BooleanField(
        label=_("I have read this release and I agree to it."),
        error_messages={"required": _("Tick the box to agree to this release.")},
    )

    def clean(self):
        data = super().clean()
        if data.get("signer") == Release.Signer.REPRESENTATIVE:
            if not (data.get("representative_name") or "").strip():
                self.add_error("representative_name", _("Give the representative's name."))
            if not (data.get("representative_relationship") or "").strip():
                self.add_error(
                    "representative_relationship",
                    _("Give the representative's relationship to the person."),
                )
        return data
