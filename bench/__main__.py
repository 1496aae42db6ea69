"""`python -m bench [name ...]`: run every bench/bench_*.py module's `run()` (or the named
ones) and print the lines it returns, each as `bench: <name> = <value> <unit>`.

Each module runs in a fresh interpreter: a benchmark points Django at its own throwaway
database before `django.setup()`, which can happen only once per process."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def module_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def run_one(name: str) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    module = importlib.import_module(f"bench.{name}")
    for line in module.run():
        print(line, flush=True)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--one":
        return run_one(argv[1])
    wanted = [a if a.startswith("bench_") else f"bench_{a}" for a in argv]
    names = [n for n in module_names() if not wanted or n in wanted]
    unknown = sorted(set(wanted) - set(module_names()))
    if unknown:
        print(f"No such benchmark: {', '.join(unknown)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        env = {**os.environ}
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        done = subprocess.run(
            [sys.executable, "-m", "bench", "--one", name], cwd=ROOT, env=env, check=False
        )
        if done.returncode:
            failed.append(name)
    if failed:
        print(f"Benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
