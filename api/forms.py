from django import forms
from django.utils.translation import gettext_lazy

from organizations.roles import Role


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Label"),
        max_length=100,
        help_text=gettext_lazy("The integration it is for, e.g. “Epic EHR”."),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=Role.choices,
        initial=Role.STAFF,
        help_text=gettext_lazy("The key can do what a member with this role can do."),
    )
