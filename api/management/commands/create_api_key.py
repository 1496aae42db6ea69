"""python manage.py create_api_key --org <slug or id> --role <role> --name <label>"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apikeys.services import api_key_create
from organizations.models import Organization
from organizations.roles import Role


class Command(BaseCommand):
    help = "Create an API key for an organization; the key is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organization's slug or id.")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--name", required=True, help="A label: the integration it is for.")

    def handle(self, *args, org, role, name, **options):
        lookup = {"pk": int(org)} if org.isdigit() else {"slug": org}
        organization = Organization.objects.filter(**lookup).first()
        if organization is None:
            raise CommandError(f"No organization {org!r} (give its slug or id).")
        try:
            api_key, secret = api_key_create(organization=organization, role=role, name=name)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(
            f"API key {api_key.prefix} for {organization.name} ({role}). "
            "Store it now; it is not shown again:"
        )
        self.stdout.write(secret)
