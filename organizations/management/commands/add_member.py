import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from organizations.roles import Role
from organizations.services import membership_add, organization_find


class Command(BaseCommand):
    help = (
        "Add a person to an organization with a role, creating the account if needed. "
        "Idempotent. Without --password the password is read from standard input."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization name or slug")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, help=f"one of: {', '.join(Role.values)}")
        parser.add_argument("--password", help="omit to read it from standard input")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, **options):
        password = options["password"]
        if password is None and not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n") or None
        try:
            org = organization_find(options["org"])
            outcome = membership_add(
                organization=org,
                email=options["email"],
                role=options["role"],
                password=password,
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        m = outcome.obj
        if outcome.created:
            self.stdout.write(f"Added {m.user.email} to {org.name} as {m.get_role_display()}")
        elif outcome.changed:
            self.stdout.write(f"Updated {m.user.email} at {org.name}: now {m.get_role_display()}")
        else:
            self.stdout.write(
                f"Exists: {m.user.email} at {org.name} as {m.get_role_display()} (unchanged)"
            )
