from django import forms

from organizations.roles import Role


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Label", max_length=100, help_text="The integration it is for, e.g. “Epic EHR”."
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.STAFF,
        help_text="The key can do what a member with this role can do.",
    )
