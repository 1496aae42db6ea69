from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from consent.signals import release_ended

        from .receivers import on_release_ended

        # consent sits above referrals and cannot call it; it announces, referrals acts.
        release_ended.connect(on_release_ended, dispatch_uid="referrals_hold_for_release")
