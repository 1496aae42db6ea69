"""The referral write modules stack without a cycle (issue 13): `transitions` (the state
machine and its refusals) at the floor, `services` on it, `coordination` (routing) on top;
each uses only the public names of the modules below it, and one constructor in
`services` builds every referral."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import referrals

HERE = Path(referrals.__file__).parent
# Each module and the referral modules it may import (the ones below it).
BELOW = {
    "transitions": set(),
    "services": {"transitions"},
    "coordination": {"services", "transitions"},
}
STACKED = set(BELOW)


def _tree(name: str) -> ast.Module:
    return ast.parse((HERE / f"{name}.py").read_text())


def _referral_module(node: ast.ImportFrom) -> str | None:
    """The referrals module an import reads from ("" for the package itself)."""
    if node.level == 1:
        return node.module or ""
    if node.level == 0 and node.module and node.module.split(".")[0] == "referrals":
        return node.module.removeprefix("referrals").removeprefix(".")
    return None


def _imports(name: str) -> list[tuple[str, list[str]]]:
    """(stacked module, names taken from it) for every import of one, at any depth (a
    function-level import is a cycle too)."""
    found = []
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                module = alias.name.removeprefix("referrals.")
                if module in STACKED:
                    found.append((module, []))
        elif isinstance(node, ast.ImportFrom):
            module = _referral_module(node)
            names = [a.name for a in node.names]
            if module == "":  # from . import services
                found += [(n, []) for n in names if n in STACKED]
            elif module in STACKED:
                found.append((module, names))
    return found


@pytest.mark.parametrize("name", sorted(STACKED))
def test_each_module_imports_only_the_ones_below_it(name):
    imported = {module for module, _ in _imports(name)}
    assert imported <= BELOW[name], f"{name} imports {sorted(imported - BELOW[name])}"


@pytest.mark.parametrize("name", sorted(STACKED))
def test_no_private_name_crosses_a_module(name):
    private = [
        f"{module}.{n}" for module, names in _imports(name) for n in names if n.startswith("_")
    ]
    assert private == []


def _referral_constructions(name: str) -> list[str]:
    """The functions of `name` that call `Referral(...)`."""
    found = []
    for func in ast.walk(_tree(name)):
        if not isinstance(func, ast.FunctionDef):
            continue
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Referral"
            ):
                found.append(func.name)
    return found


def test_one_constructor_builds_every_referral():
    assert _referral_constructions("services") == ["_referral_create"]
    assert _referral_constructions("coordination") == []
    assert _referral_constructions("transitions") == []
