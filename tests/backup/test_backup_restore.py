"""`make backup` / `make restore` (ops/backup.py): a system with real data backed up, wiped,
restored, and every table and upload compared with what it was."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from consent.models import Release
from ops import backup as ops_backup
from organizations.models import PartnershipDocument

ROOT = Path(__file__).resolve().parents[2]


def snapshot() -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows (in a stable order)."""
    tables = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = sorted(repr(row) for row in cursor.fetchall())
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            tables[table] = (len(rows), digest)
    return tables


def media_snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def wipe(media: Path) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
        connection.close()
    else:
        name = Path(connection.settings_dict["NAME"])
        connection.close()
        name.unlink()
    for path in sorted(media.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    with connection.cursor() as cursor:
        assert connection.introspection.table_names(cursor) == []


@pytest.mark.django_db(transaction=True)
def test_backup_wipe_restore_gives_back_every_row_and_upload(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", force=True, verbosity=0)
    document = PartnershipDocument.objects.first()
    document.file.save("agreement.pdf", ContentFile(b"%PDF-1.4 signed agreement"), save=True)
    release = Release.objects.first()
    release.paper_form.save("release.pdf", ContentFile(b"%PDF-1.4 paper release"), save=True)
    before, media_before = snapshot(), media_snapshot(settings.MEDIA_ROOT)
    assert before["clients_client"][0] > 0 and before["referrals_referral"][0] > 0
    assert len(media_before) == 2

    folder = ops_backup.backup(tmp_path / "backups")
    assert ops_backup.latest(tmp_path / "backups") == folder
    wipe(settings.MEDIA_ROOT)
    assert media_snapshot(settings.MEDIA_ROOT) == {}

    ops_backup.restore(folder)

    assert snapshot() == before
    assert media_snapshot(settings.MEDIA_ROOT) == media_before
    # And the application reads them again.
    assert PartnershipDocument.objects.get(pk=document.pk).file.read() == (
        b"%PDF-1.4 signed agreement"
    )


def test_make_targets_call_the_backup_script():
    for target, expected in (
        ("backup", "-m ops.backup backup --dir /srv/bk"),
        ("restore", "-m ops.backup restore --dir /srv/bk"),
    ):
        result = subprocess.run(
            ["make", "-n", target, "BACKUP_DIR=/srv/bk"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert expected in result.stdout, result.stdout + result.stderr
