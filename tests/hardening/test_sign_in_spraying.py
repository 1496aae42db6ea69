"""Password spraying: a few wrong passwords at each of many accounts from one address lock
that address (AXES_ADDRESS_FAILURE_LIMIT, across accounts), besides the per-account rule
(AXES_FAILURE_LIMIT for one account from one address). Through the real sign-in page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LOGIN = "/account/login/"
ADDRESS_LIMIT = 20  # settings.AXES_ADDRESS_FAILURE_LIMIT, checked below


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def spray(client, failures: int, *, address: str = "127.0.0.1") -> None:
    """`failures` wrong passwords, two per account, never near the per-account limit.
    Each is a plain wrong password, except that the one reaching a limit locks at once."""
    for n in range(failures):
        response = client.post(
            LOGIN,
            {"username": f"person{n // 2}@example.org", "password": "Summer2026!"},
            REMOTE_ADDR=address,
        )
        assert response.status_code == (429 if n + 1 == ADDRESS_LIMIT else 400)


def sign_in(client, user, *, address: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": user.email, "password": PASSWORD}, REMOTE_ADDR=address)


def test_the_limits_are_the_documented_ones(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_ADDRESS_FAILURE_LIMIT == ADDRESS_LIMIT


def test_failures_across_accounts_lock_the_address(client, tenant, settings):
    spray(client, settings.AXES_ADDRESS_FAILURE_LIMIT)
    response = sign_in(client, tenant.hco_staff)  # the right password, another account
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/").status_code == 302  # still signed out


def test_one_fewer_failure_still_lets_a_person_in(client, tenant, settings):
    spray(client, settings.AXES_ADDRESS_FAILURE_LIMIT - 1)
    assert sign_in(client, tenant.hco_staff).status_code == 302


def test_another_address_is_not_locked(client, tenant, settings):
    spray(client, settings.AXES_ADDRESS_FAILURE_LIMIT, address="203.0.113.7")
    assert sign_in(client, tenant.hco_staff, address="198.51.100.20").status_code == 302


def test_a_success_does_not_clear_the_address_count(client, tenant, settings):
    spray(client, settings.AXES_ADDRESS_FAILURE_LIMIT - 1)
    assert sign_in(client, tenant.cbo_staff).status_code == 302  # resets cbo_staff's only
    client.post("/account/logout/")
    client.post(LOGIN, {"username": "someone@example.org", "password": "Winter2026!"})
    assert sign_in(client, tenant.hco_staff).status_code == 429


def test_the_address_is_free_again_after_the_cool_off(client, tenant, settings):
    spray(client, settings.AXES_ADDRESS_FAILURE_LIMIT)
    assert sign_in(client, tenant.hco_staff).status_code == 429
    with time_machine.travel(NOW + settings.AXES_COOLOFF_TIME + timedelta(minutes=1), tick=False):
        assert sign_in(client, tenant.hco_staff).status_code == 302


def test_the_per_account_rule_still_holds(client, tenant, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": tenant.hco_staff.email, "password": "bad"})
    assert sign_in(client, tenant.hco_staff).status_code == 429
    assert sign_in(client, tenant.cbo_staff).status_code == 302  # the address is not locked
