from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = "Interoperability (FHIR R4, webhooks)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from referrals.events import referral_changed

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .webhooks.fanout import on_referral_changed

        # The referral domain announces its changes; interop turns them into deliveries.
        referral_changed.connect(on_referral_changed, dispatch_uid="interop_deliveries")
