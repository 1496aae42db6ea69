from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.browser.conftest import browser, new_context, page  # noqa: F401 (browser tests here)

FRAGMENT = Path(django_settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def public_spanish(settings, tmp_path):
    """This work's Spanish (its fragment, before the lead merges it into the catalogue),
    compiled into a locale directory consulted first."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail(
            "Compiling the Spanish fragment needs gettext's msgfmt: apt-get install gettext"
        )
    target = tmp_path / "locale" / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run([msgfmt, "--check", "-o", str(target / "django.mo"), str(FRAGMENT)], check=True)
    settings.LOCALE_PATHS = [str(tmp_path / "locale"), *settings.LOCALE_PATHS]
