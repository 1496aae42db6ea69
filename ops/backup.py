"""Backups: the database and the uploads (MEDIA_ROOT), and their restore.

    python -m ops.backup backup  [--dir BACKUP_DIR]        # a new BACKUP_DIR/<UTC time>/
    python -m ops.backup restore [--dir BACKUP_DIR] [PATH] [--no-input]   # PATH: newest

PostgreSQL: pg_dump's custom format, restored by pg_restore into a recreated public schema
(stop web, worker and beat first). SQLite: Python's sqlite3 backup API, a consistent copy of
a live file. Uploads: a tar of MEDIA_ROOT, restored in its place.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

DUMP = "database.dump"
SQLITE = "database.sqlite3"
MEDIA = "media.tar.gz"
MANIFEST = "manifest.json"


def _settings():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    return settings


def _database() -> dict:
    from django.db import connections

    return connections["default"].settings_dict


def _pg_env(db: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def backup(directory: Path) -> Path:
    """Write a new backup under `directory` and return its folder."""
    settings = _settings()
    db = _database()
    target = Path(directory) / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target.mkdir(parents=True)
    if db["ENGINE"] == "django.db.backends.postgresql":
        subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target / DUMP}",
                db["NAME"],
            ],
            env=_pg_env(db),
            check=True,
        )
        engine = "postgresql"
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        source = sqlite3.connect(db["NAME"])
        copy = sqlite3.connect(target / SQLITE)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        engine = "sqlite"
    else:
        raise SystemExit(f"no backup for {db['ENGINE']}")
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(target / MEDIA, "w:gz") as tar:
        if media.is_dir():
            tar.add(media, arcname=".")
    manifest = {"engine": engine, "created_at": datetime.now(UTC).isoformat()}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return target


def latest(directory: Path) -> Path:
    done = sorted(p.parent for p in Path(directory).glob(f"*/{MANIFEST}"))
    if not done:
        raise SystemExit(f"no backup in {directory}")
    return done[-1]


def restore(path: Path) -> None:
    """Replace the database and MEDIA_ROOT with the backup in `path`."""
    settings = _settings()
    from django.db import connections

    path = Path(path)
    manifest = json.loads((path / MANIFEST).read_text())
    db = _database()
    connections.close_all()
    if manifest["engine"] == "postgresql":
        if db["ENGINE"] != "django.db.backends.postgresql":
            raise SystemExit("a PostgreSQL backup needs DATABASE_URL to name PostgreSQL")
        env = _pg_env(db)
        # A dropped database comes back empty (the dump then fills it).
        created = subprocess.run(
            ["createdb", db["NAME"]], env=env, check=False, capture_output=True, text=True
        )
        if created.returncode and "already exists" not in created.stderr:
            raise SystemExit(created.stderr)
        # Everything Linkage has lives in the public schema: replaced whole, in one transaction.
        subprocess.run(
            [
                "psql",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-d",
                db["NAME"],
                "-c",
                "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;",
            ],
            env=env,
            check=True,
        )
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={db['NAME']}",
                str(path / DUMP),
            ],
            env=env,
            check=True,
        )
    else:
        if db["ENGINE"] != "django.db.backends.sqlite3":
            raise SystemExit("an SQLite backup needs DATABASE_URL to name SQLite")
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(path / SQLITE)
        live = sqlite3.connect(db["NAME"])
        try:
            with live:
                source.backup(live)
        finally:
            live.close()
            source.close()
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    # Emptied, not removed: in Docker MEDIA_ROOT is a volume's mount point.
    for child in media.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    with tarfile.open(path / MEDIA, "r:gz") as tar:
        tar.extractall(media, filter="data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Back up or restore Linkage.")
    parser.add_argument("action", choices=["backup", "restore"])
    parser.add_argument("path", nargs="?", help="restore: the backup folder (default: newest)")
    parser.add_argument("--dir", default=os.environ.get("BACKUP_DIR") or "var/backups")
    parser.add_argument("--no-input", action="store_true", help="restore without asking")
    args = parser.parse_args(argv)
    if args.action == "backup":
        print(backup(Path(args.dir)))
        return 0
    path = Path(args.path) if args.path else latest(Path(args.dir))
    if not args.no_input:
        answer = input(f"Replace the database and uploads with {path}? Type 'yes': ")
        if answer.strip() != "yes":
            print("Nothing restored.")
            return 1
    restore(path)
    print(f"restored {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
