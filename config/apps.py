from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ConfigConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Linkage configuration"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)


class LinkageAdminConfig(AdminConfig):
    default_site = "config.admin_site.SuperuserAdminSite"
