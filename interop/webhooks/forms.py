from django import forms
from django.utils.translation import gettext_lazy

from .models import WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=gettext_lazy("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy(
            "Where Linkage posts the events, e.g. https://ehr.example.org/linkage/events."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "sends_status_changes", "sends_notes", "include_fhir_task"]
        labels = {
            "name": gettext_lazy("Label"),
            "sends_status_changes": gettext_lazy("Referral status changed"),
            "sends_notes": gettext_lazy("Note added"),
            "include_fhir_task": gettext_lazy("Include the FHIR Task"),
        }
        help_texts = {"name": gettext_lazy("For you: which system this is (“Epic production”).")}
