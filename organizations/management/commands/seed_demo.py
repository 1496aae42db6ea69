from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations import demo
from organizations.directory_services import ProgramData, program_create
from organizations.models import Organization, PartnershipDocument, Program
from organizations.services import (
    membership_add,
    network_get_or_create,
    organization_get_or_create,
    partnership_get_or_create,
)


class Command(BaseCommand):
    help = "Load the demo network (idempotent). Refuses when DEBUG is off unless --force."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="load even with DEBUG off (never in production)"
        )

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo has known passwords. "
                "Use --force only on a throwaway installation."
            )
        created = 0
        network = network_get_or_create(name=demo.NETWORK)
        created += network.created
        orgs: dict[str, Organization] = {}
        for name, kind, sub_kind in demo.ORGANIZATIONS:
            outcome = organization_get_or_create(
                network=network.obj, name=name, kind=kind, sub_kind=sub_kind
            )
            orgs[name] = outcome.obj
            created += outcome.created
        for email, first, last, roles in demo.USERS:
            for org_name, role in roles:
                outcome = membership_add(
                    organization=orgs[org_name],
                    email=email,
                    role=role,
                    password=demo.DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                )
                created += outcome.created
                user = outcome.obj.user
                if role == "org_admin":
                    _, device_created = TOTPDevice.objects.get_or_create(
                        user=user,
                        name="Demo authenticator",
                        defaults={"key": demo.DEMO_TOTP_KEY_HEX, "confirmed": True},
                    )
                    created += device_created
        for name, members, description in demo.PARTNERSHIPS:
            outcome = partnership_get_or_create(
                network=network.obj,
                name=name,
                organizations=[orgs[n] for n in members],
                description=description,
                start_date=date(2026, 1, 1),
            )
            if outcome.created:
                created += 1
                PartnershipDocument.objects.create(
                    partnership=outcome.obj,
                    kind=PartnershipDocument.Kind.DSA,
                    title="Data-sharing agreement",
                    signed_on=date(2025, 12, 15),
                )
                PartnershipDocument.objects.create(
                    partnership=outcome.obj,
                    kind=PartnershipDocument.Kind.BAA,
                    title="Business associate agreement",
                    signed_on=date(2025, 12, 15),
                )
        for spec in demo.PROGRAMS:
            fields = dict(spec)
            org = orgs[fields.pop("organization")]
            if not Program.objects.filter(organization=org, name=fields["name"]).exists():
                program_create(organization=org, data=ProgramData(**fields), actor=None)
                created += 1
        self.stdout.write(
            f"Demo network {demo.NETWORK}: "
            + (f"{created} record(s) created." if created else "already loaded, nothing changed.")
        )
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for email, _, _, roles in demo.USERS:
            what = "; ".join(f"{role} at {org}" for org, role in roles)
            self.stdout.write(f"  {email:42} {what}")
        self.stdout.write(
            "Admins sign in with a second factor: `python manage.py demo_totp` prints the code."
        )
