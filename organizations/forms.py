from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError("The code is digits only.")
        return token


class PartnershipProgramsForm(forms.Form):
    """The programs a partnership covers, chosen among its organizations' programs."""

    programs = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Programs this partnership covers",
        error_messages={
            "invalid_choice": "Choose programs of the partnership's own organizations.",
        },
    )

    def __init__(self, *args, partnership, **kwargs):
        from .models import Program

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
