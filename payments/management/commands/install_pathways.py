"""Install the starter pathways (payments/pathway_data/) into one network or all."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from organizations.models import Network
from payments.pathways import pathways_install


class Command(BaseCommand):
    help = "Give networks the starter pathways they do not have yet (by code; safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--network", help="The network's slug (default: every network).")

    def handle(self, *args, network=None, **options):
        networks = Network.objects.order_by("pk")
        if network:
            networks = networks.filter(slug=network)
            if not networks.exists():
                raise CommandError(f"No network with the slug {network!r}.")
        for each in networks:
            installed = pathways_install(each)
            self.stdout.write(f"{each.slug}: {len(installed)} starter pathways in place.")
