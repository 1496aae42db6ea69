from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from clients.signals import client_merged
        from consent.signals import release_ended
        from directory.capacity import count_open_referrals_with

        from . import consent_waiting  # noqa: F401 (connects: drafts waiting for a release link)
        from .receivers import on_client_merged, on_release_ended
        from .selectors import with_open_referrals

        # consent sits above referrals and cannot call it; it announces, referrals acts.
        release_ended.connect(on_release_ended, dispatch_uid="referrals_hold_for_release")
        # clients sits below referrals: it announces a merge, referrals moves its rows.
        client_merged.connect(on_client_merged, dispatch_uid="referrals_client_merged")
        # The directory shows capacity but sits below referrals: it asks through this seam.
        count_open_referrals_with(with_open_referrals)
        # The client hears of their referral's steps (outreach/), after each commit.
        from .client_messages import connect as connect_client_messages

        connect_client_messages()
