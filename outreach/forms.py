"""The contact-preference form staff fill in with (or for) the client."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from clients.validation import normalize_us_phone

from .models import MESSAGE_LANGUAGES, ContactPreference


def e164(value: str) -> str:
    """ "+15551234567" for a 10-digit US number typed any usual way (the provider's format,
    and what an inbound text's sender is matched on)."""
    pretty = normalize_us_phone(value)
    if not pretty:
        return ""
    return "+1" + "".join(c for c in pretty if c.isdigit())


class ContactPreferenceForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How the client wants to be reached"),
        choices=ContactPreference.Channel.choices,
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(
        label=_("Mobile number for texts"),
        required=False,
        max_length=30,
        help_text=_("A 10-digit US number, for example (555) 123-4567."),
    )
    email = forms.EmailField(label=_("Email address"), required=False)
    language = forms.ChoiceField(
        label=_("Language of messages"),
        required=False,
        choices=[("", _("The client's preferred language"))]
        + [(c, label) for c, label in Client.Language.choices if c in MESSAGE_LANGUAGES],
        help_text=_("Messages are written in English and Spanish; other languages get English."),
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Local time. No messages go out between the start and the end."),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours end"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    texts_opt_in = forms.BooleanField(
        label=_("The client agreed to receive text messages"), required=False
    )
    opt_in_method = forms.ChoiceField(
        label=_("How the client agreed to texts"),
        required=False,
        choices=[("", "—")]
        + [
            (c, label)
            for c, label in ContactPreference.OptInMethod.choices
            if c != ContactPreference.OptInMethod.KEYWORD
        ],
    )
    do_not_contact = forms.BooleanField(
        label=_("Do not contact (safety): send no messages of any kind"), required=False
    )

    def clean_phone(self) -> str:
        return e164(self.cleaned_data.get("phone", ""))

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        if channel == ContactPreference.Channel.TEXT:
            if not data.get("phone") and "phone" not in self.errors:
                self.add_error("phone", _("Enter the mobile number to text."))
            if not data.get("texts_opt_in"):
                self.add_error(
                    "texts_opt_in",
                    _("Texts need the client's agreement: tick this once they have agreed."),
                )
        if channel == ContactPreference.Channel.EMAIL and not data.get("email"):
            self.add_error("email", _("Enter the email address to write to."))
        if (
            data.get("texts_opt_in")
            and not self.initial.get("texts_opt_in")
            and not data.get("opt_in_method")
        ):
            self.add_error("opt_in_method", _("Say how the client agreed to texts."))
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            raise ValidationError(_("Give both the start and the end of the quiet hours."))
        if start is not None and start == end:
            self.add_error("quiet_end", _("The quiet hours must end at another time."))
        return data

    @classmethod
    def initial_for(cls, client, preference: ContactPreference | None) -> dict:
        if preference is None:
            return {
                "channel": ContactPreference.Channel.NONE,
                "phone": client.phone,
                "email": client.email,
            }
        return {
            "channel": preference.channel,
            "phone": preference.phone,
            "email": preference.email,
            "language": preference.language,
            "quiet_start": preference.quiet_start,
            "quiet_end": preference.quiet_end,
            "texts_opt_in": preference.texts_allowed,
            "do_not_contact": preference.do_not_contact,
        }
