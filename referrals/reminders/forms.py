"""Forms of the reminder pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import NetworkHoliday, NotificationPreference, ReminderRules
from .rules import RULE_FIELDS, Rules

HELP = {
    "ack_business_days": "The receiver accepts or declines a new referral within this many "
    "business days (weekends and the network's holidays do not count).",
    "update_every_days": "An accepted or in-progress referral gets an update (a contact, a "
    "status change) at least this often.",
    "follow_up_after_days": "The sender checks in with the client this many days after the "
    "referral was completed.",
    "release_expiry_warning_days": "Whoever captured a release is told this many days before "
    "it expires.",
    "escalate_after_overdue_count": "A referral overdue this many times in a row goes to the "
    "backbone's list of stalled referrals, and its admins are told.",
}


class RulesForm(forms.ModelForm):
    """The network's rules (`fallback` = Linkage's defaults) or a partnership's override
    (`fallback` = the network's rules): an empty field takes the fallback, shown as the
    placeholder."""

    class Meta:
        model = ReminderRules
        fields = list(RULE_FIELDS)

    def __init__(self, *args, fallback: Rules, fallback_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self._meta.fields:
            field = self.fields[name]
            field.required = False
            field.widget.attrs["placeholder"] = str(getattr(fallback, name))
            field.widget.attrs["inputmode"] = "numeric"
            field.help_text = f"{HELP[name]} Empty: {fallback_label} ({getattr(fallback, name)})."

    def values(self) -> dict[str, int | None]:
        return {name: self.cleaned_data.get(name) for name in RULE_FIELDS}


class PartnershipRulesForm(RulesForm):
    """A partnership's override: the referral rules (a release belongs to no partnership,
    so its warning period is the network's)."""

    class Meta(RulesForm.Meta):
        fields = [f for f in RULE_FIELDS if f != "release_expiry_warning_days"]


class HolidayForm(forms.ModelForm):
    class Meta:
        model = NetworkHoliday
        fields = ["date", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
        labels = {"name": _("Holiday")}


class PreferenceForm(forms.Form):
    email_mode = forms.ChoiceField(
        label=_("Notification emails"),
        choices=NotificationPreference.EmailMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how you want notification emails.")},
        help_text=_("Notifications always appear in Linkage (the bell); this is about email."),
    )
