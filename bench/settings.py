"""Settings for serving the project under benchmark (bench_api): the project's own settings,
with the bench URLconf, which adds the raw-cursor views beside every real route.

Used only by `python -m bench`, which starts gunicorn with
DJANGO_SETTINGS_MODULE=bench.settings; nothing else imports it."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
