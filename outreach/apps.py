"""Talking to the client: contact preferences, SMS and email messages in the client's
language, replies (STOP/HELP/START, and the client's own report), the delivery log."""

from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach"

    def ready(self) -> None:
        from clients.signals import client_merged
        from consent.signals import release_link_created

        from .receivers import on_client_merged, on_release_link_created

        # consent makes the link; outreach delivers it to the client.
        release_link_created.connect(
            on_release_link_created, dispatch_uid="outreach_release_link_created"
        )
        # clients sits below outreach: it announces a merge, outreach moves its rows.
        client_merged.connect(on_client_merged, dispatch_uid="outreach_client_merged")
