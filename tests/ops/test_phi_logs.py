"""The phi_logs plugin (tests/ops/phi_logs.py) on a run of its own: quiet logs pass, a log
line holding a client's name, email or birth date fails the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = """
import logging
from datetime import date

from django.db.models.signals import post_save

from clients.models import Client

log = logging.getLogger("sample")


def test_work():
    person = Client(given_name="Zebulonia", family_name="Quarrington", email="zq@x.test",
                    date_of_birth=date(1971, 2, 3))
    post_save.send(sender=Client, instance=person, created=True)  # as a save would
    log.warning("Referral 12 sent for client 34")
    log.warning("LEAK")
"""


def run(tmp_path: Path, leak: str) -> tuple[subprocess.CompletedProcess, Path]:
    (tmp_path / "test_sample.py").write_text(SAMPLE.replace("LEAK", leak))
    log = tmp_path / "logs" / "run.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.ops.phi_logs",
            f"--phi-log={log}",
            f"--rootdir={tmp_path}",
            "-c",
            str(ROOT / "pyproject.toml"),
            str(tmp_path / "test_sample.py"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, log


def test_quiet_logs_pass_and_are_json_lines(tmp_path):
    result, log = run(tmp_path, "Nothing to see")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"message": "Referral 12 sent for client 34", "logger": "sample"}.items() <= lines[
        0
    ].items()
    assert "no client data" in result.stdout


def test_a_created_clients_name_fails_the_run(tmp_path):
    for leak, kind in [
        ("Zebulonia Quarrington", "name"),
        ("mail to zq@x.test", "email"),
        ("born 02/03/1971", "birth date"),
        ("Imani Okafor", "name"),  # a demo client, known from demo/ itself
        ("Demo17 Rivera", "name"),
    ]:
        result, _ = run(tmp_path, leak)
        assert result.returncode == 1, (leak, result.stdout)
        assert f"a client's {kind}" in result.stdout
        assert leak not in result.stdout  # the report says where, not what
