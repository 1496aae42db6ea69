"""Load or update the standardized instruments from assessments/instruments/."""

from django.core.management.base import BaseCommand, CommandError

from assessments.engine import DefinitionError
from assessments.loader import load_instruments


class Command(BaseCommand):
    help = (
        "Load the instruments in assessments/instruments/ into the database (idempotent; a "
        "changed definition must carry a new version)."
    )

    def handle(self, *args, **options):
        try:
            outcomes = load_instruments()
        except DefinitionError as error:
            raise CommandError(str(error)) from error
        for outcome in outcomes:
            self.stdout.write(f"{outcome.key} {outcome.version}: {outcome.action}")
