"""Deploy checks Django does not make itself."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs):
    problems = []
    if not settings.SECRET_KEY_FROM_ENV:
        problems.append(
            Error(
                "SECRET_KEY is not set in the environment.",
                hint="Set SECRET_KEY to a long random value (see README.md).",
                id="linkage.E001",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        problems.append(
            Warning(
                "Celery uses the filesystem transport, which serves one machine only.",
                hint="Set CELERY_BROKER_URL to a Redis URL in production.",
                id="linkage.W001",
            )
        )
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "The database is SQLite.",
                hint="Set DATABASE_URL to a PostgreSQL URL in production.",
                id="linkage.W002",
            )
        )
    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        problems.append(
            Warning(
                "Email goes to the console: password resets and reminders reach nobody.",
                hint="Set EMAIL_URL (smtp://...) in production.",
                id="linkage.W003",
            )
        )
    return problems
