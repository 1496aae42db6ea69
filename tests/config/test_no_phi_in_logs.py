"""No client data in the application's logs or error reports (ARCHITECTURE.md, PHI)."""

import logging

import pytest
from django.core import mail
from django.test import override_settings

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        text = self.format(record)
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def log_lines():
    handler = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def phi_of(client) -> list[str]:
    return [
        client.given_name,
        client.family_name,
        client.date_of_birth.isoformat(),
        client.date_of_birth.strftime("%m/%d/%Y"),
        client.email,
    ]


def test_a_full_working_session_logs_no_client_data(client, tenant, log_lines):
    """Sign in, search, create (with a form error first), view, edit, capture a release,
    and hit a 404: the log holds no name, birth date or email of the clients involved."""
    person = tenant.client
    client.post("/account/login/", {"username": tenant.hco_navigator.email, "password": PASSWORD})
    client.post("/clients/", {"name": person.family_name})
    client.get(f"/clients/{person.pk}/")
    new = {
        "given_name": "Wilhelmina",
        "family_name": "Quintanilla-Oyelaran",
        "date_of_birth": "1979-04-05",
        "phone": "not a phone",
        "email": "wq@example.test",
        "zip_code": "60601",
        "preferred_language": "en",
    }
    client.post("/clients/new/", new)  # a form error
    client.post("/clients/new/", {**new, "phone": "555 333 4444"})
    client.get(f"/clients/{person.pk}/edit/")
    client.get(f"/clients/{person.pk}/releases/new/")
    client.get(f"/clients/{person.pk + 999}/")  # a 404 (logged as a warning)
    logged = "\n".join(log_lines)
    assert logged, "the session should have logged something (requests, warnings)"
    for value in [*phi_of(person), "Wilhelmina", "Quintanilla", "wq@example.test", "1979-04-05"]:
        assert value not in logged


@override_settings(
    ROOT_URLCONF="tests.config.phi_urls", ADMINS=[("Ops", "ops@example.test")], DEBUG=False
)
def test_server_error_report_and_log_carry_no_client_data(client, tenant, log_lines):
    client.raise_request_exception = False
    client.force_login(tenant.hco_navigator)
    response = client.post("/fail/?q=" + tenant.client.family_name, {"client": tenant.client.pk})
    assert response.status_code == 500
    assert tenant.client.family_name not in response.content.decode()
    reports = "\n".join(m.body + str(m.alternatives) for m in mail.outbox)
    assert reports, "the admins should get an error report"
    assert "RuntimeError" in reports
    logged = "\n".join(log_lines)
    assert "RuntimeError" in logged
    for value in phi_of(tenant.client):
        assert value not in reports
        assert value not in logged
