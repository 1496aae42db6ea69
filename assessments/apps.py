from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from clients.signals import client_merged

        from .receivers import on_client_merged

        # clients sits below assessments: it announces a merge, assessments moves its rows.
        client_merged.connect(on_client_merged, dispatch_uid="assessments_client_merged")
