"""The Spanish catalogue compiled once per test session (`make test` compiles it too, via
`make messages`), so these tests also run on their own."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import trans_real

MIDDLEWARE = "organizations.middleware.UserLanguageMiddleware"


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogue():
    call_command("compilemessages", ignore=[".venv", "node_modules"], verbosity=0)
    # Catalogues already loaded in this process would hide the fresh .mo files.
    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = trans_real.Local()


@pytest.fixture(autouse=True)
def _default_language_after():
    """A request leaves the language it spoke active in the test's thread (LocaleMiddleware
    activates, nothing deactivates): these tests speak Spanish, and later tests must not."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def user_language_middleware(settings):
    """The signed-in user's language middleware, after authentication (as in settings)."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(middleware.index("django_otp.middleware.OTPMiddleware") + 1, MIDDLEWARE)
        settings.MIDDLEWARE = middleware
    return settings.MIDDLEWARE
