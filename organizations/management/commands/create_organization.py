from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from organizations.models import Organization
from organizations.services import (
    network_get_or_create,
    organization_get_or_create,
    organization_kind_validate,
)


class Command(BaseCommand):
    help = "Create an organization in a network (the network too, if new). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--network", required=True, help="network name")
        parser.add_argument("--name", required=True, help="organization name")
        parser.add_argument(
            "--kind", required=True, help=f"one of: {', '.join(Organization.Kind.values)}"
        )
        parser.add_argument(
            "--sub-kind", default="", help=f"one of: {', '.join(Organization.SubKind.values)}"
        )

    def handle(self, *args, network, name, kind, sub_kind, **options):
        try:
            organization_kind_validate(kind=kind, sub_kind=sub_kind)
            with transaction.atomic():
                net = network_get_or_create(name=network)
                org = organization_get_or_create(
                    network=net.obj, name=name, kind=kind, sub_kind=sub_kind
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if net.created:
            self.stdout.write(f"Created network {net.obj.name} ({net.obj.slug})")
        verb = "Created" if org.created else "Exists:"
        self.stdout.write(
            f"{verb} organization {org.obj.name} ({org.obj.slug}), "
            f"{org.obj.get_kind_display()}, in {net.obj.name}"
        )
