"""WSGI entry point (gunicorn config.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENV:
    # A production process with a made-up key would log everyone out on every restart
    # and sign password-reset links with a key nobody knows: refuse instead.
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
