from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = "Interoperability (FHIR R4, webhooks)"
    default_auto_field = "django.db.models.BigAutoField"
