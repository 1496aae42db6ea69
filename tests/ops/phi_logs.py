"""A pytest plugin: every log record of a test run written to a file as JSON lines, then
searched for the names, emails and birth dates of the clients the run created (the demo's
clients included), failing the run if one is found.

Inert unless asked for: `pytest -p tests.ops.phi_logs --phi-log=var/browser-logs.jsonl
tests/browser` (or list "tests.ops.phi_logs" in tests/conftest.py's pytest_plugins and pass
`--phi-log`). Under xdist each worker writes PATH with its id added and the names it saw;
the controller searches them all. The report names the file, line and kind of value found,
never the value.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import pytest

KEY = "phi_log_watch"


def pytest_addoption(parser):
    parser.getgroup("linkage").addoption(
        "--phi-log",
        metavar="PATH",
        help="write the run's log records to PATH (JSON lines) and fail the run if one holds "
        "a client's name, email or birth date",
    )


def pytest_configure(config):
    path = config.getoption("--phi-log")
    if path:
        config.pluginmanager.register(PhiLogWatch(Path(path), config), KEY)


def demo_values() -> list[tuple[str, str]]:
    """The demo's clients as demo/ and seed_demo name them, known without a database."""
    from demo import network as demo

    values = []
    for given, family, _age, _moves in demo.COMMUNITY_REFERRALS:
        values += [("name", f"{given} {family}"), ("name", family)]
        values.append(("email", f"{given.lower()}@{demo.COMMUNITY_EMAIL_DOMAIN}"))
    values += [("email domain", demo.HISTORY_EMAIL_DOMAIN), ("email domain", "community.demo")]
    values += [("name", f"Demo{i}") for i in range(demo.HISTORY_CLIENTS)]
    return values


def client_values(client) -> list[tuple[str, str]]:
    values = [("name", f"{client.given_name} {client.family_name}")]
    if client.email:
        values.append(("email", client.email))
    if client.date_of_birth:
        values += [
            ("birth date", client.date_of_birth.isoformat()),
            ("birth date", client.date_of_birth.strftime("%m/%d/%Y")),
        ]
    return values


def find(lines: list[str], values: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """(line number, kind) for every line holding a value (names as whole words)."""
    patterns = [
        (kind, re.compile(rf"(?<![\w.@-]){re.escape(value)}(?![\w-])")) for kind, value in values
    ]
    return [
        (number, kind)
        for number, line in enumerate(lines, 1)
        for kind, pattern in patterns
        if pattern.search(line)
    ]


class PhiLogWatch:
    def __init__(self, path: Path, config):
        self.config = config
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        self.base = path
        self.path = path.with_name(f"{path.stem}.{worker}{path.suffix}") if worker else path
        self.names_path = self.path.with_suffix(".clients.json")
        self.seen: list[tuple[str, str]] = []
        self.handler: logging.Handler | None = None

    def pytest_sessionstart(self, session):
        from django.conf import settings
        from django.db.models.signals import post_save

        from config.logs import JsonFormatter
        from config.request_id import RequestIdLogFilter

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handler = logging.FileHandler(self.path, mode="w", encoding="utf-8")
        formatter = dict(settings.LOGGING["formatters"]["json"])
        formatter.pop("()")
        self.handler.setFormatter(JsonFormatter(**formatter))
        self.handler.addFilter(RequestIdLogFilter())
        logging.getLogger().addHandler(self.handler)
        post_save.connect(self._client_saved, sender="clients.Client", weak=False)

    def _client_saved(self, sender, instance, **kwargs):
        self.seen += client_values(instance)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
        self.names_path.write_text(json.dumps(sorted(set(self.seen))))
        if hasattr(self.config, "workerinput"):
            return  # the controller searches every worker's file
        found = self.search()
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if found:
            if reporter:
                reporter.write_line("client data in the logs:", red=True)
                for where, kind in found[:50]:
                    reporter.write_line(f"  {where}: a client's {kind}", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif reporter:
            reporter.write_line(f"phi-log: no client data in {self.base}*")

    def search(self) -> list[tuple[str, str]]:
        pattern = f"{self.base.stem}*{self.base.suffix}"
        values = list(demo_values())
        for names in self.base.parent.glob(f"{self.base.stem}*.clients.json"):
            values += [tuple(v) for v in json.loads(names.read_text())]
        found = []
        for log in sorted(self.base.parent.glob(pattern)):
            lines = log.read_text(encoding="utf-8").splitlines()
            found += [(f"{log}:{number}", kind) for number, kind in find(lines, values)]
        return found
