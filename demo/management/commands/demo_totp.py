from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo import network as demo


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo admins (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Only for the demo (DEBUG on).")
        device = TOTPDevice.objects.filter(key=demo.DEMO_TOTP_KEY_HEX).first()
        if device is None:
            raise CommandError("The demo is not loaded: run `python manage.py seed_demo`.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
