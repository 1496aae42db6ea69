"""Sign-in, lockout, second factor, idle timeout, password reset, admin access."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tests.conftest import verified_login
from tests.factories import PASSWORD, give_totp, totp_now

pytestmark = pytest.mark.django_db


def test_sign_in_with_email_and_password_lands_on_dashboard(client, tenant):
    response = client.post(
        "/account/login/", {"username": tenant.hco_staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert tenant.hco.name in page.content.decode()


def test_wrong_password_says_so_and_signs_nobody_in(client, tenant):
    response = client.post(
        "/account/login/", {"username": tenant.hco_staff.email, "password": "nope-nope-nope"}
    )
    assert response.status_code == 400
    assert "correct email" in response.content.decode().lower()
    assert client.get("/").status_code == 302


def test_anonymous_user_is_sent_to_sign_in(client):
    response = client.get("/partnerships/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_lockout_after_repeated_failures_even_with_the_right_password(client, tenant, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/account/login/", {"username": tenant.hco_staff.email, "password": "bad"})
    response = client.post(
        "/account/login/", {"username": tenant.hco_staff.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/").status_code == 302  # still signed out


def test_lockout_ends_after_the_cool_off(client, tenant, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/account/login/", {"username": tenant.hco_staff.email, "password": "bad"})
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.post(
            "/account/login/", {"username": tenant.hco_staff.email, "password": PASSWORD}
        )
    assert response.status_code == 302


def test_admin_without_authenticator_must_set_one_up(client, tenant):
    client.post("/account/login/", {"username": tenant.hco_admin.email, "password": PASSWORD})
    response = client.get("/partnerships/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/setup/")

    setup = client.get(response["Location"])
    assert "<svg" in setup.content.decode()
    device = tenant.hco_admin.totpdevice_set.get(confirmed=False)
    wrong = client.post("/account/two-factor/setup/", {"token": "000000"})
    assert wrong.status_code == 400
    assert "does not match" in wrong.content.decode()
    device.refresh_from_db()
    # A wrong code throttles the device for a moment: try again a little later.
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        done = client.post(
            "/account/two-factor/setup/", {"token": totp_now(device), "next": "/partnerships/"}
        )
    assert done["Location"] == "/partnerships/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/partnerships/").status_code == 200


def test_user_with_authenticator_must_enter_a_code_every_sign_in(client, tenant):
    device = give_totp(tenant.hco_staff)
    client.post("/account/login/", {"username": tenant.hco_staff.email, "password": PASSWORD})
    response = client.get("/")
    assert response["Location"].startswith("/account/two-factor/verify/")
    bad = client.post("/account/two-factor/verify/", {"token": "123456"})
    assert bad.status_code == 400
    assert "not right" in bad.content.decode()
    assert client.get("/")["Location"].startswith("/account/two-factor/verify/")
    device.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        client.post("/account/two-factor/verify/", {"token": totp_now(device)})
        assert client.get("/").status_code == 200


def test_staff_may_use_the_site_without_a_second_factor(client, tenant):
    verified_login(client, tenant.hco_staff)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("token", "message"),
    [("", "This field is required."), ("12ab56", "The code is digits only.")],
)
def test_a_malformed_code_is_a_400_that_says_why(client, tenant, token, message):
    give_totp(tenant.hco_staff)
    client.post("/account/login/", {"username": tenant.hco_staff.email, "password": PASSWORD})
    response = client.post("/account/two-factor/verify/", {"token": token})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert client.get("/")["Location"].startswith("/account/two-factor/verify/")


def test_codes_typed_too_fast_after_a_wrong_one_are_429(client, tenant):
    device = give_totp(tenant.hco_staff)
    client.post("/account/login/", {"username": tenant.hco_staff.email, "password": PASSWORD})
    with time_machine.travel(timezone.now(), tick=False):
        assert client.post("/account/two-factor/verify/", {"token": "123456"}).status_code == 400
        device.refresh_from_db()
        # The device refuses codes for a moment after a wrong one, even the right code.
        response = client.post("/account/two-factor/verify/", {"token": totp_now(device)})
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert client.get("/")["Location"].startswith("/account/two-factor/verify/")


def test_required_second_factor_cannot_be_turned_off(client, tenant, login):
    login(tenant.hco_admin)
    response = client.post("/account/two-factor/disable/")
    assert response.status_code == 403
    assert "Your role requires two-factor sign-in" in response.content.decode()
    assert tenant.hco_admin.totpdevice_set.filter(confirmed=True).exists()


def test_optional_second_factor_can_be_turned_off(client, tenant):
    give_totp(tenant.hco_staff)
    verified_login(client, tenant.hco_staff)
    assert client.post("/account/two-factor/disable/").status_code == 302
    assert not tenant.hco_staff.totpdevice_set.exists()


def test_session_ends_after_idle_timeout(client, tenant, settings):
    verified_login(client, tenant.hco_staff)
    assert client.get("/").status_code == 200
    idle = timedelta(minutes=settings.SESSION_IDLE_TIMEOUT_MINUTES)
    with time_machine.travel(timezone.now() + idle - timedelta(minutes=1), tick=False):
        assert client.get("/").status_code == 200  # activity renews the session
    with time_machine.travel(timezone.now() + 2 * idle + timedelta(minutes=1), tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_password_reset_by_email(client, tenant):
    client.post("/account/password-reset/", {"email": tenant.hco_staff.email})
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True)
    assert "Set a new password" in form.content.decode()
    new = "a-brand-new-passphrase-77"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password saved" in done.content.decode()
    tenant.hco_staff.refresh_from_db()
    assert tenant.hco_staff.check_password(new)


def test_password_reset_for_unknown_email_reveals_nothing(client, db):
    response = client.post("/account/password-reset/", {"email": "nobody@example.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 0


def test_weak_password_refused_on_reset(client, tenant):
    client.post("/account/password-reset/", {"email": tenant.hco_staff.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line)
    form = client.get(link.split("testserver", 1)[1], follow=True)
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 400
    assert "too short" in response.content.decode()


def test_django_admin_is_for_superusers_only(client, tenant, login, django_user_model):
    tenant.hco_admin.is_staff = True
    tenant.hco_admin.save()
    login(tenant.hco_admin)
    assert client.get("/admin/").status_code == 302  # sent to the admin's sign-in

    root = django_user_model.objects.create_superuser(email="root@example.test", password=PASSWORD)
    client.logout()
    login(root)
    assert client.get("/admin/").status_code == 200


def test_a_refused_password_change_is_a_400_and_changes_nothing(client, tenant, login):
    login(tenant.hco_staff)
    response = client.post(
        "/account/password/change/",
        {"old_password": "not-it", "new_password1": "a-new-pass-2026", "new_password2": "x"},
    )
    assert response.status_code == 400
    assert "old password was entered incorrectly" in response.content.decode()
    tenant.hco_staff.refresh_from_db()
    assert tenant.hco_staff.check_password(PASSWORD)
