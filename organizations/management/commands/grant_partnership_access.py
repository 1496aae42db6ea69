from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from organizations.models import Partnership, User
from organizations.services import partnership_grant_view


class Command(BaseCommand):
    help = "Let one person view one partnership their organization is not party to. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--partnership", required=True, type=int, help="partnership id")
        parser.add_argument("--email", required=True)

    def handle(self, *args, partnership, email, **options):
        found = Partnership.objects.filter(pk=partnership).first()
        user = User.objects.filter(email__iexact=email).first()
        if found is None:
            raise CommandError(f"No partnership with id {partnership}.")
        if user is None:
            raise CommandError(f"No account for {email}.")
        try:
            created = partnership_grant_view(partnership=found, user=user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        verb = "Granted" if created else "Exists:"
        self.stdout.write(f"{verb} {user.email} may view partnership {found.name}")
