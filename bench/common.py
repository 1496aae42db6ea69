"""What every benchmark shares: a throwaway database on the DATABASE_URL server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


def _conninfo(url: str) -> str:
    # psycopg takes postgresql:// URLs; django-environ also accepts postgres://.
    return "postgresql://" + url.split("://", 1)[1]


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


@contextmanager
def throwaway_database(name: str, *, postgres_only: bool = False) -> Iterator[None]:
    """Point DATABASE_URL at a fresh database for the life of the block, then remove it:
    database `name` on the PostgreSQL server of DATABASE_URL, or (unless `postgres_only`)
    a temporary SQLite file when DATABASE_URL is not PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        admin = _conninfo(urlunsplit(parts._replace(path="/postgres")))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        try:
            yield
        finally:
            _close_connections()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            os.environ["DATABASE_URL"] = url
        return
    if postgres_only:
        raise RuntimeError(
            f"{name} compares with hand-written PostgreSQL: set DATABASE_URL to a PostgreSQL "
            "server (make bench does: postgres://postgres@127.0.0.1:5432/linkage)."
        )
    folder = tempfile.mkdtemp(prefix=f"{name}-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    try:
        yield
    finally:
        _close_connections()
        shutil.rmtree(folder, ignore_errors=True)
        if url:
            os.environ["DATABASE_URL"] = url
        else:
            os.environ.pop("DATABASE_URL", None)
