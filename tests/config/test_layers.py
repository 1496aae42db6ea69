"""The layer map of ARCHITECTURE.md is enforced: import-linter's contracts (pyproject.toml)
break when an app imports upwards, at module level or inside a function."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SKIP = shutil.ignore_patterns(
    ".venv", ".git", "node_modules", "static", "tests", "var", "*.sqlite3", "__pycache__"
)


def lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("scratch") / "linkage"
    shutil.copytree(ROOT, tree, ignore=SKIP)
    return tree


def add_import(tree: Path, module: str, line: str) -> None:
    path = tree / module
    path.write_text(path.read_text() + "\n\n" + line + "\n")


def test_the_tree_keeps_every_contract(scratch):
    result = lint(scratch)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # The ground reaching into the domain.
        (
            "organizations/selectors.py",
            "from referrals.models import Referral  # noqa",
            "The ground (organizations, audit) imports no domain, reader or face BROKEN",
        ),
        # The domain reaching a reader from inside a function.
        (
            "referrals/services.py",
            "def _wrong():\n    from metrics import selectors  # noqa\n\n    return selectors",
            "The domain never imports readers or faces (it announces changes instead) BROKEN",
        ),
        # Within the domain, a lower app importing a higher one.
        (
            "directory/selectors.py",
            "from referrals.selectors import with_open_referrals  # noqa",
            "Apps import only from the layers below them BROKEN",
        ),
    ],
)
def test_a_wrong_import_breaks_a_contract(scratch, tmp_path, module, line, contract):
    tree = tmp_path / "linkage"
    shutil.copytree(scratch, tree)
    add_import(tree, module, line)
    result = lint(tree)
    assert result.returncode != 0
    assert contract in result.stdout
