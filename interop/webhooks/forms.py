from django import forms

from .models import WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where Linkage posts the events, e.g. https://ehr.example.org/linkage/events.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "sends_status_changes", "sends_notes", "include_fhir_task"]
        help_texts = {"name": "For you: which system this is (“Epic production”)."}
