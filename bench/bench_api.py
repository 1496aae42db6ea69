"""The REST API against its floor: `GET /api/v1/referrals/?page_size=50` and a referral's
detail, served by gunicorn (2 sync workers, loopback, PostgreSQL) with a staff key of the
receiving organization, against raw-cursor views that run the same SQL, write the same
audit rows and answer with the same JSON (bench/raw_views.py; checked once before timing).

Each route is driven at a fixed concurrency for a fixed time (threads with keep-alive
connections, reconnecting when the worker closes), raw and API taking turns over several
rounds so that a change of load on the machine touches both; the figure is the median over
the rounds of the API's requests/s over the raw view's.

20,000 referrals to one receiving organization (BENCH_API_REFERRALS to change it), from the
inbox bench's network; one client in ten has a release that leaves out referral details, so
the pages carry redacted referrals as well as whole ones.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import throwaway_database

BENCH_DB = "linkage_bench_api"
ROOT = Path(__file__).resolve().parent.parent
REFERRALS = int(os.environ.get("BENCH_API_REFERRALS", "20000"))
CONCURRENCY = int(os.environ.get("BENCH_API_CONCURRENCY", "16"))
SECONDS = float(os.environ.get("BENCH_API_SECONDS", "4"))
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "4"))
WARMUP_SECONDS = 1.5
LIST = "/api/v1/referrals/?page_size=50"
RAW = "/bench/raw"


def run() -> list[str]:
    import django
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_api sets up Django itself: run it with `python -m bench`.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    with throwaway_database(BENCH_DB, postgres_only=True):
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        key, detail_ids = _build()
        from django.db import connections

        connections.close_all()
        with _gunicorn() as port:
            load = _Load(port, key)
            _check_same_json(load, detail_ids)
            rates = _measure(load, detail_ids)
    list_ratio, detail_ratio = rates["list_ratio"], rates["detail_ratio"]
    return [
        f"bench: api_referral_list_rps = {rates['api_list']:.0f} req/s",
        f"bench: raw_referral_list_rps = {rates['raw_list']:.0f} req/s",
        f"bench: api_referral_list_to_raw_ratio = {list_ratio:.2f} x",
        f"bench: api_referral_detail_rps = {rates['api_detail']:.0f} req/s",
        f"bench: raw_referral_detail_rps = {rates['raw_detail']:.0f} req/s",
        f"bench: api_referral_detail_to_raw_ratio = {detail_ratio:.2f} x",
    ]


def _build() -> tuple[str, list[int]]:
    """The inbox bench's network with REFERRALS referrals to its food bank, some carrying
    coded concepts and free text, some of them redacted for the receiver; a staff key of
    the receiver. Returns the key and referral ids for the detail route."""
    from django.db import connection

    from apikeys.services import api_key_create
    from bench.bench_inbox import _add_referrals, _analyze, _build_world
    from referrals.models import Referral

    world = _build_world()
    _add_referrals(world, REFERRALS)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE referrals_referral SET reason = 'Needs groceries this week',
                   requested_service = '{"system": "http://snomed.info/sct",
                                         "code": "467771000124109", "display": "Pantry"}'
               WHERE id % 3 = 0"""
        )
        cursor.execute(
            """UPDATE referrals_referral SET outcome_note = 'Enrolled',
                   resulting_activity = '{"system": "http://snomed.info/sct", "code": "1",
                                          "display": "Food box", "performed": "2026-01-05"}'
               WHERE status = 'completed' AND id % 2 = 0"""
        )
        # One client in ten: the release leaves out referral details, so the receiver
        # sees those referrals' status and dates only.
        cursor.execute(
            "UPDATE consent_release SET covers_referrals = false WHERE client_id % 10 = 0"
        )
    _analyze()
    _, key = api_key_create(organization=world["receiver"], role="staff", name="bench")
    newest = Referral.objects.order_by("-id").values_list("id", flat=True)[:200]
    return key, list(newest)


class _gunicorn:
    """gunicorn serving the bench URLconf on a free loopback port, for a `with` block."""

    def __enter__(self) -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            # The throttle still runs (its cache reads and writes are part of the API's
            # cost); its limit is out of reach.
            "API_THROTTLE_RATE": "100000000/min",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn did not start.")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self.port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not listen within a minute.")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Load:
    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {key}", "Host": f"127.0.0.1:{port}"}

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=self.headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def rate(self, paths: list[str], seconds: float) -> float:
        """Requests/s over `seconds` with CONCURRENCY clients, each walking `paths`."""
        stop = time.perf_counter() + seconds
        done = [0] * CONCURRENCY
        failures: list[str] = []

        def client(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            i = n
            while time.perf_counter() < stop:
                conn.request("GET", paths[i % len(paths)], headers=self.headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"HTTP {response.status} for {paths[i % len(paths)]}")
                    return
                done[n] += 1
                i += 1
            conn.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CONCURRENCY)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise RuntimeError(failures[0])
        return sum(done) / elapsed


def _check_same_json(load: _Load, detail_ids: list[int]) -> None:
    """The API and the raw views answer with the same JSON (same keys in the same order,
    same values, same links), for the list page and for details, whole and redacted."""

    def both(path: str) -> tuple[bytes, bytes]:
        api, raw = load.get(path), load.get(RAW + path)
        if api[0] != 200 or raw[0] != 200:
            raise RuntimeError(f"{path}: API HTTP {api[0]}, raw HTTP {raw[0]}")
        return api[1], raw[1]

    api, raw = both(LIST)
    _same(LIST, api, raw)
    page = json.loads(api)["results"]
    if not page or not page[0]["needs"]:
        raise RuntimeError("The list page came back without referrals or needs.")
    redacted = [r["id"] for r in page if r["withheld"]]
    whole = [r["id"] for r in page if not r["withheld"]]
    if not redacted or not whole:
        raise RuntimeError("The bench's page should hold redacted and whole referrals.")
    for pk in [*redacted[:3], *whole[:3], detail_ids[-1]]:
        path = f"/api/v1/referrals/{pk}/"
        _same(path, *both(path))


def _same(path: str, api: bytes, raw: bytes) -> None:
    # Parsed and compared with key order: the same document, whatever the JSON library's
    # spacing or escapes.
    a = json.loads(api, object_pairs_hook=list)
    r = json.loads(raw, object_pairs_hook=list)
    if a != r:
        raise RuntimeError(f"{path}: the API and the raw view answer differently.")


def _measure(load: _Load, detail_ids: list[int]) -> dict[str, float]:
    """Mean requests/s of each target over the rounds, and each route's ratio: the median
    of the rounds' ratios, each taken between a raw run and the API run right after it (the
    machine's other load moves both alike)."""
    targets = {
        "raw_list": [RAW + LIST],
        "api_list": [LIST],
        "raw_detail": [f"{RAW}/api/v1/referrals/{pk}/" for pk in detail_ids],
        "api_detail": [f"/api/v1/referrals/{pk}/" for pk in detail_ids],
    }
    for paths in targets.values():
        load.rate(paths, WARMUP_SECONDS)
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(ROUNDS):
        for name, paths in targets.items():
            rates[name].append(load.rate(paths, SECONDS))
    out = {name: statistics.mean(values) for name, values in rates.items()}
    for route in ("list", "detail"):
        pairs = zip(rates[f"api_{route}"], rates[f"raw_{route}"], strict=True)
        out[f"{route}_ratio"] = statistics.median(api / raw for api, raw in pairs)
    return out
