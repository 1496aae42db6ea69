"""Settings from the environment, the deploy check, and docker-compose.yml against the code."""

from __future__ import annotations

import importlib
import importlib.util
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
    "SITE_URL": "https://linkage.example.org",
    "TLS_CERT_DIR": "/etc/letsencrypt/live/linkage.example.org",
}
# What production cannot run without (each must be set, non-empty, by docker-compose.yml).
REQUIRED = {
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "EMAIL_URL",
    "MEDIA_ROOT",
    "STATIC_ROOT",
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
    assert {"web", "worker", "beat", "postgres", "redis", "nginx"} <= set(COMPOSE["services"])


def test_compose_sets_every_required_variable():
    values = compose_env()
    missing = sorted(name for name in REQUIRED if not values.get(name))
    assert not missing, f"docker-compose.yml leaves unset: {missing}"


def test_compose_sets_only_variables_that_settings_read():
    unknown = set(COMPOSE["x-linkage-env"]) - settings_variables()
    assert not unknown, f"docker-compose.yml sets variables settings never read: {unknown}"


@pytest.mark.parametrize("service", ["migrate", "collectstatic", "web", "worker", "beat"])
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


# The reverse proxy, volumes and health checks of docker-compose.yml, against the code.

SERVICES = COMPOSE["services"]
ONE_OFF = {name for name, service in SERVICES.items() if service.get("restart") == "no"}
NGINX_CONF = (ROOT / "deploy" / "nginx.conf").read_text()


def healthcheck_module():
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "deploy" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mounts(service: str) -> dict[str, str]:
    """The service's mounts: target path -> source (volume name or host path), ":ro" dropped."""
    found = {}
    for entry in SERVICES[service].get("volumes", []):
        if entry.endswith((":ro", ":rw")):
            entry = entry[:-3]
        source, target = entry.rsplit(":", 1)  # the source may be "${VAR:?message}"
        found[target] = source
    return found


def option(command: list[str], name: str) -> str:
    """The value of `--name=value` or `--name value` in a command."""
    for i, arg in enumerate(command):
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
        if arg == name:
            return command[i + 1]
    raise AssertionError(f"{name} not in {command}")


def test_every_service_has_a_health_check_and_one_off_jobs_finish_first():
    assert {"migrate", "collectstatic"} == ONE_OFF
    for name, service in SERVICES.items():
        if name in ONE_OFF:
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        # What it waits for: healthy services, and one-off jobs that finished.
        for other, condition in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if other in ONE_OFF else "service_healthy"
            assert condition["condition"] == expected, (name, other)


def test_uploads_and_static_files_are_on_named_volumes_where_settings_write():
    env = compose_env()
    volumes = set(COMPOSE["volumes"])
    # MEDIA_ROOT: one volume shared by web and worker (signed releases, agreements).
    media = {mounts(s).get(env["MEDIA_ROOT"]) for s in ("web", "worker")}
    assert len(media) == 1 and media <= volumes, media
    # STATIC_ROOT: collectstatic writes the volume nginx serves.
    static = mounts("collectstatic").get(env["STATIC_ROOT"])
    assert static in volumes
    assert static not in media
    assert mounts("nginx")[env["STATIC_ROOT"]] == static
    assert f"{static}:{env['STATIC_ROOT']}:ro" in SERVICES["nginx"]["volumes"]
    assert "collectstatic" in SERVICES["collectstatic"]["command"]


def test_nginx_proxies_to_gunicorn_and_serves_the_static_volume(settings):
    env = compose_env()
    upstream = re.search(r"upstream (\w+) \{[^}]*?server ([\w.-]+):(\d+);", NGINX_CONF)
    assert upstream, "no upstream server in deploy/nginx.conf"
    name, host, port = upstream.groups()
    assert host in SERVICES and host == "web"
    assert option(SERVICES["web"]["command"], "--bind") == f"0.0.0.0:{port}"
    assert f"proxy_pass http://{name};" in NGINX_CONF
    # The location of STATIC_URL is an alias of STATIC_ROOT as mounted.
    static = re.search(r"location (/\S+/) \{\s*alias (\S+);", NGINX_CONF)
    assert static.group(1) == "/" + settings.STATIC_URL.strip("/") + "/"
    assert static.group(2).rstrip("/") == env["STATIC_ROOT"]
    # Uploads hold client data: only Django's views hand them out, never nginx.
    assert f"/{settings.MEDIA_URL.strip('/')}" not in NGINX_CONF
    assert mounts("nginx")["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx.conf"
    certs = {t for t, s in mounts("nginx").items() if s.startswith("${TLS_CERT_DIR")}
    for path in re.findall(r"ssl_certificate(?:_key)? (\S+);", NGINX_CONF):
        assert any(path.startswith(c + "/") for c in certs), path
    health = re.search(
        r"wget .*http://127\.0\.0\.1(/\S+)", " ".join(SERVICES["nginx"]["healthcheck"]["test"])
    )
    assert f"location = {health.group(1)} " in NGINX_CONF


@pytest.mark.django_db(transaction=True)
def test_the_web_health_check_gets_a_200_from_health(live_server):
    test = SERVICES["web"]["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "deploy/healthcheck.py", "web"]
    url = option(test, "--url")
    assert url.startswith(
        f"http://127.0.0.1:{option(SERVICES['web']['command'], '--bind').split(':')[1]}/"
    )
    path = url.split(":8000", 1)[1]

    def run(target: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "deploy/healthcheck.py", "web", "--url", target],
            cwd=ROOT,
            env={**os.environ, "ALLOWED_HOSTS": "localhost,linkage.example.org"},
            capture_output=True,
            text=True,
            check=False,
        )

    assert run(live_server.url + path).returncode == 0
    broken = run(live_server.url + "/no-such-page/")
    assert broken.returncode == 1 and "HTTP 404" in broken.stderr


def test_the_worker_health_check_pings_its_own_node():
    worker = SERVICES["worker"]
    command, test = worker["command"], worker["healthcheck"]["test"]
    assert option(command, "--hostname") == "celery@%h"
    assert test[0] == "CMD-SHELL"
    # $$ is compose's escape: the shell sees $HOSTNAME, the container's host name (%h).
    assert test[1].startswith(f"celery -A {command[2]} inspect ping ")
    assert "--destination celery@$$HOSTNAME" in test[1]


def test_the_beat_health_check_watches_the_schedule_file_beat_writes(tmp_path):
    beat = SERVICES["beat"]
    test = beat["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "deploy/healthcheck.py", "beat"]
    assert option(test, "--schedule") == option(beat["command"], "--schedule")
    max_age = float(option(test, "--max-age"))
    assert max_age > 3 * 60  # beat writes the file at most every 3 minutes
    check_beat = healthcheck_module().check_beat
    schedule = tmp_path / "celerybeat-schedule"
    assert "no schedule file" in check_beat(str(schedule), max_age)
    (tmp_path / "celerybeat-schedule.db").write_bytes(b"")  # dbm's suffix
    assert check_beat(str(schedule), max_age) is None
    stale = os.path.getmtime(tmp_path / "celerybeat-schedule.db") - max_age - 1
    os.utime(tmp_path / "celerybeat-schedule.db", (stale, stale))
    assert "not written for" in check_beat(str(schedule), max_age)


def test_the_image_has_what_the_compose_services_run():
    dockerfile = (ROOT / "Dockerfile").read_text()
    env = compose_env()
    # The volumes' mount points exist in the image, owned by the user the services run as.
    for path in (env["MEDIA_ROOT"], env["STATIC_ROOT"]):
        assert path in dockerfile
    assert "postgresql-client" in dockerfile  # pg_dump/pg_restore for ops/backup.py
    assert (ROOT / "deploy" / "healthcheck.py").exists()
