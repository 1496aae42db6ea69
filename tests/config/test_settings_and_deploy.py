"""Settings from the environment, the deploy check, and docker-compose.yml against the code."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")
SAMPLE = {
    "SECRET_KEY": "k" * 30 + "-not-a-real-secret-but-long-enough-for-the-check",
    "ALLOWED_HOSTS": "linkage.example.org",
    "POSTGRES_PASSWORD": "pw",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.org:587",
    "CSRF_TRUSTED_ORIGINS": "https://linkage.example.org",
}


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads."""
    text = (ROOT / "config" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', text))
    names |= set(re.findall(r'"([A-Z_]+)" in env', text))
    return names


def compose_env() -> dict[str, str]:
    """The app services' environment, with ${VAR} filled from SAMPLE as a .env would."""
    raw = COMPOSE["x-linkage-env"]

    def fill(m: re.Match) -> str:
        name, op, default = m.groups()
        if name in SAMPLE:
            return SAMPLE[name]
        return default if op == "-" else ""

    return {k: _VAR.sub(fill, str(v)) for k, v in raw.items()}


def manage(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in settings_variables()}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_the_production_variables_of_docker_compose():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=compose_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_missing_secret_key_and_dev_defaults():
    result = manage("check", "--deploy", env={"DEBUG": "false"})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for check_id in ("linkage.E001", "linkage.W001", "linkage.W002", "security.W004"):
        assert check_id in output


def test_wsgi_refuses_to_start_without_a_secret_key():
    clean = {k: v for k, v in os.environ.items() if k not in settings_variables()}
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={**clean, "DEBUG": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_compose_has_the_production_services():
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(COMPOSE["services"])


def test_compose_sets_only_variables_that_settings_read():
    unknown = set(COMPOSE["x-linkage-env"]) - settings_variables()
    assert not unknown, f"docker-compose.yml sets variables settings never read: {unknown}"


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat"])
def test_compose_commands_name_real_entry_points(service, settings):
    settings.SECRET_KEY_FROM_ENV = True  # as in production, so config.wsgi imports
    command = COMPOSE["services"][service]["command"]
    program = command[0]
    if program == "gunicorn":
        module, _, attr = command[1].partition(":")
        assert hasattr(importlib.import_module(module), attr or "application")
    elif program == "celery":
        assert command[1] == "-A"
        app = importlib.import_module(command[2]).celery_app
        assert command[3] in {"worker", "beat"}
        assert app.main == "linkage"
    elif program == "python":
        assert command[1] == "manage.py" and (ROOT / "manage.py").exists()
        assert command[2] in get_commands()
    else:
        pytest.fail(f"unexpected program in {service}: {command}")


def test_compose_builds_the_image_from_the_dockerfile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert COMPOSE["x-linkage-app"]["build"] == "."
    assert "requirements.lock" in dockerfile
    assert 'CMD ["gunicorn", "config.wsgi"' in dockerfile


def test_readme_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_variables() if f"`{name}`" not in readme)
    assert not missing, f"README.md does not document: {missing}"


def test_database_url_selects_the_database(tmp_path):
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = subprocess.run(
        [sys.executable, "-c", f"import django, os; django.setup(); {code}"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": "postgres://u@db.example.org:5432/x",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "django.db.backends.postgresql", result.stderr
