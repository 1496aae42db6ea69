from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from directory.models import HsdsImport
from directory.services import hsds_import_run, hsds_import_start
from organizations.models import Network, Organization


class Command(BaseCommand):
    help = (
        "Import programs from an HSDS dataset (a zip of the CSV tables or a datapackage.json) "
        "into a network's directory and print the row-by-row report. Re-running the same "
        "file updates the programs instead of duplicating them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--network", required=True, help="network name")
        parser.add_argument(
            "--organization",
            default="",
            help="import only this organization's services (default: the whole network, "
            "creating community-based organizations for new names)",
        )
        parser.add_argument("path", help="the .zip or datapackage.json file")

    def handle(self, *args, network, organization, path, **options):
        net = Network.objects.filter(name=network).first()
        if net is None:
            raise CommandError(f"No network named {network!r}.")
        importer = net.backbone
        if organization:
            importer = Organization.objects.filter(network=net, name__iexact=organization).first()
            if importer is None:
                raise CommandError(f"No organization named {organization!r} in {net.name}.")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            started = hsds_import_start(
                network=net,
                organization=importer,
                actor=None,
                file_name=file.name,
                payload=file.read_bytes(),
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        done = hsds_import_run(hsds_import=started)
        for row in done.report:
            where = f"{row['table']} row {row['row']}" if row["row"] else row["table"]
            self.stdout.write(f"{where}: {row['action']}. {row['message']}")
        summary = ", ".join(f"{n} {action}" for action, n in sorted(done.counts.items()))
        if done.status == HsdsImport.Status.FAILED:
            raise CommandError(done.error)
        self.stdout.write(f"Import {done.pk} finished: {summary or 'no rows'}.")
