"""python manage.py prune_idempotency_records [--days 7] (run daily, e.g. from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from apikeys.services import idempotency_records_prune


class Command(BaseCommand):
    help = "Delete remembered Idempotency-Key responses older than --days (default 7)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days, **options):
        deleted = idempotency_records_prune(older_than=timedelta(days=days))
        self.stdout.write(f"Deleted {deleted} idempotency records older than {days} days.")
