from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Measures"

    def ready(self) -> None:
        from clients.signals import client_merged

        from .receivers import on_client_merged

        # clients sits below metrics: it announces a merge, metrics moves its rows.
        client_merged.connect(on_client_merged, dispatch_uid="metrics_client_merged")

        from . import changes

        # What the rollups read announces its changes for the incremental rollup.
        changes.connect()
