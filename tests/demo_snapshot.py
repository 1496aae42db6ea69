"""The demo network, seeded once per test session (per xdist worker) and copied in per test.

`seed_demo` takes tens of seconds (it goes through the real services for 180 clients'
history). The tests that only need the network to be there get the database as it stands
after a seed: every table copied out once, then copied back in, inside the test's own
transaction (so a test's changes roll back as usual, and a transactional test's flush empties
it as usual). The whole database is replaced, not only the demo's rows, so the copy cannot
clash with rows a flush and reload gave other primary keys (instruments, content types).

On PostgreSQL only (COPY); elsewhere the fixture just runs `seed_demo`.
"""

from __future__ import annotations

import io

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import override_settings

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _tables() -> list[str]:
    # Every model's table (third-party and many-to-many ones too); not django_migrations.
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _seed() -> None:
    from assessments.loader import load_instruments
    from assessments.models import Instrument
    from config.celery import app as celery_app

    # A transactional test's flush may have emptied the migrations' instruments since.
    if not Instrument.objects.exists():
        load_instruments()
    # Tasks inline, as in every test (a session fixture runs before `_celery_eager`).
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        # The hasher every test uses (conftest `_fast_password_hashing`): a PBKDF2 hash would
        # not verify under it, and the demo users could not sign in.
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
            call_command("seed_demo", force=True, stdout=io.StringIO())
    finally:
        celery_app.conf.task_always_eager = previous


def build() -> dict[str, bytes] | None:
    """Seed the demo network, copy every table out, and roll the seed back (None: not on
    PostgreSQL, seed each time instead)."""
    if connection.vendor != "postgresql":
        return None
    snapshot: dict[str, bytes] = {}
    with transaction.atomic():
        _seed()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for table in _tables():
                with raw.copy(f'COPY "{table}" TO STDOUT') as copy:
                    snapshot[table] = b"".join(bytes(chunk) for chunk in copy)
        # Nothing stays behind: other tests on this worker expect an empty network; and the
        # commit hooks (mail for today's news) are dropped with it.
        transaction.set_rollback(True)
    return snapshot


def restore(snapshot: dict[str, bytes] | None) -> None:
    """Make the database what it was right after the seed (in the current transaction)."""
    if snapshot is None:
        _seed()
        return
    tables = ", ".join(f'"{t}"' for t in snapshot)
    with transaction.atomic(), connection.cursor() as cursor:
        # Rows this transaction already wrote (the instruments' reload) leave deferred
        # foreign-key checks pending, and PostgreSQL refuses TRUNCATE over those: run them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {tables}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        raw = cursor.cursor
        for table, data in snapshot.items():
            if data:
                with raw.copy(f'COPY "{table}" FROM STDIN') as copy:
                    copy.write(data)
        # New rows get the primary keys after the copied ones, as after a real seed.
        models = apps.get_models(include_auto_created=True)
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
        # A copy that broke a foreign key fails here, not in some later query.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    forget()


def forget() -> None:
    """Drop the content types this process cached: the copy brought the seed's own rows (a
    flush since may have renumbered them), and the test's rollback takes those away again."""
    ContentType.objects.clear_cache()
