"""`demo_totp`: the demo admins' current second-factor code, for the demo only."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo import network as demo

pytestmark = pytest.mark.django_db

# Mid-step of a 30-second TOTP window, so the command and the check see the same code.
NOON = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)


def test_demo_totp_prints_the_code_every_demo_admin_signs_in_with(settings, demo_network):
    settings.DEBUG = True
    devices = TOTPDevice.objects.filter(user__email__endswith="@demo.linkage.test")
    assert devices.count() >= 3
    assert set(devices.values_list("key", flat=True)) == {demo.DEMO_TOTP_KEY_HEX}
    out = io.StringIO()
    with time_machine.travel(NOON, tick=False):
        call_command("demo_totp", stdout=out)
        device = devices.first()
        assert device.verify_token(out.getvalue().strip())


def test_demo_totp_refuses_without_debug_or_without_the_demo(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Only for the demo"):
        call_command("demo_totp", stdout=io.StringIO())
    settings.DEBUG = True
    with pytest.raises(CommandError, match="not loaded"):
        call_command("demo_totp", stdout=io.StringIO())
