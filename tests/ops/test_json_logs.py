"""Log lines are JSON objects carrying the request id, and nothing of the request's query."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.request_id import RequestIdLogFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The configured "json" formatter and request-id filter on a handler of the root logger."""
    configurator = logging.config.DictConfigurator(settings.LOGGING)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"]))
    )
    handler.addFilter(RequestIdLogFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_request_log_lines_parse_and_carry_the_request_id(client, login, json_lines, tenant):
    login(tenant.hco_navigator)
    response = client.get(
        "/clients/999999/?q=" + tenant.client.family_name, HTTP_X_REQUEST_ID="req-abcdef123456"
    )
    assert response["X-Request-ID"] == "req-abcdef123456"
    client.get("/no-such-page/")  # a request id of its own
    lines = json_lines()
    [first, second] = [line for line in lines if line["logger"] == "django.request"]
    assert first["request_id"] == "req-abcdef123456"
    assert first["level"] == "WARNING" and first["status_code"] == 404
    assert second["request_id"] not in ("-", "req-abcdef123456") and second["status_code"] == 404
    assert {"timestamp", "message"} <= set(first)
    # Django attaches the request (whose text has the query string): left out.
    assert "request" not in first
    assert tenant.client.family_name not in json.dumps(lines)


def test_a_line_logged_inside_a_view_carries_the_request_id(client, json_lines, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent"}
    client.get("/health/", HTTP_X_REQUEST_ID="probe-0123456789")
    [line] = [line for line in json_lines() if line["logger"] == "config.health"]
    assert line["request_id"] == "probe-0123456789" and line["level"] == "WARNING"


def _first_line_logged(**env) -> str:
    """What a fresh process's configured logging writes for one warning."""
    code = (
        "import django; django.setup(); import logging\n"
        "logging.getLogger('linkage.test').warning('hello %s', 42)\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "LOG_FORMAT")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return next(line for line in result.stderr.splitlines() if "hello" in line)


def test_json_is_the_default_without_debug_and_plain_with_it():
    line = json.loads(_first_line_logged())
    assert line["message"] == "hello 42" and line["level"] == "WARNING"
    assert line["logger"] == "linkage.test" and line["request_id"] == "-"
    plain = _first_line_logged(DEBUG="true")
    assert plain.endswith("WARNING linkage.test [-] hello 42")
    assert json.loads(_first_line_logged(DEBUG="true", LOG_FORMAT="json"))["message"] == "hello 42"
