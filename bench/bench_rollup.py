"""How long the nightly rollup takes at 1,000,000 referrals, against the same aggregates
written directly in SQL on the same data, and how fast the dashboard renders from the
rollup rows at that size; and how long the incremental rollup takes to apply today's
activity on 1,000 recent referrals, against the full recompute.

A network two years in: 10 clinics, 20 CBOs in 20 partnerships, 100,000 clients,
1,000,000 referrals, a contact on every third referral, 100,000 screenings. PostgreSQL
only (the comparison is with hand-written PostgreSQL): a throwaway `linkage_bench_rollup`
database on the DATABASE_URL server, created, then dropped.

BENCH_ROLLUP_KEEP=1 keeps that database between runs instead (building the 1,000,000
referrals takes minutes): a run creates and builds it when it does not exist or holds
another size of world, leaves it in place at the end, and the next run reuses it (the
timed steps all run again). The incremental step puts the referrals it changed back as
they were, so every run changes the same kind of activity. Drop it with
`dropdb linkage_bench_rollup` when done.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from urllib.parse import urlsplit, urlunsplit

from bench.common import throwaway_database

BENCH_DB = "linkage_bench_rollup"
KEEP = os.environ.get("BENCH_ROLLUP_KEEP", "") not in ("", "0")
REFERRALS = int(os.environ.get("BENCH_ROLLUP_REFERRALS", "1000000"))
CLIENTS = max(REFERRALS // 10, 100)
SCREENINGS = max(REFERRALS // 10, 100)
BATCH = 10_000
# Referrals changed before the incremental rollup is timed.
CHANGES = min(1_000, REFERRALS // 100)
STATUS_MIX = (
    ["completed"] * 50
    + ["rejected"] * 12
    + ["cancelled"] * 10
    + ["failed"] * 13
    + ["requested"] * 5
    + ["accepted"] * 4
    + ["in-progress"] * 4
    + ["on-hold"] * 2
)
OPEN = {"requested", "accepted", "in-progress", "on-hold"}
RACES = ["2106-3", "2054-5", "2028-9", "1002-5", "2076-8", "multiple", "declined", "unknown"]
ETHNICITIES = ["2186-5", "2135-2", "unknown"]
LANGUAGES = ["en", "es", "zh", "vi", "ar", "other"]
INSURANCE = ["medicaid", "medicare", "dual", "commercial", "marketplace", "uninsured", "unknown"]
OUTCOMES = ["need-met", "need-met", "need-partly-met", "need-not-met", "unable-to-contact"]

# The referral measures' aggregates as one would write them by hand: the scopes spelled
# out (a referral routed through the backbone counted once, as metrics/engine.py counts
# it), the same GROUPING SETS, the results kept in a table.
HANDWRITTEN = """
CREATE TEMP TABLE handwritten_{kind} AS
WITH b AS (
    SELECT r.id, r.network_id, r.client_id, r.sender_organization_id AS sender_id,
           r.receiver_organization_id AS receiver_id, r.status, r.outcome, r.sent_at,
           r.accepted_at, r.closed_at,
           date_trunc('{kind}', r.sent_at AT TIME ZONE %(tz)s)::date AS period_start,
           CASE WHEN c.ethnicity = '2135-2' THEN 'hispanic' ELSE c.race END AS race_eth,
           c.preferred_language AS language, c.insurance_type AS insurance,
           CASE WHEN EXTRACT(YEAR FROM AGE((r.sent_at AT TIME ZONE %(tz)s)::date,
                                           c.date_of_birth)) < 18 THEN '0-17'
                WHEN EXTRACT(YEAR FROM AGE((r.sent_at AT TIME ZONE %(tz)s)::date,
                                           c.date_of_birth)) < 65 THEN '18-64'
                ELSE '65+' END AS age_band,
           (r.status = 'requested' AND r.ack_due_at < now())
             OR (r.status IN ('accepted', 'in-progress') AND r.update_due_at < now()) AS overdue,
           EXISTS (SELECT 1 FROM referrals_referralevent e
                   WHERE e.referral_id = r.id AND e.kind = 'contact') AS contacted,
           r.part_of_id IS NULL AS top_level,
           COALESCE(lc.receiver_organization_id, r.receiver_organization_id) AS pair_receiver_id
    FROM referrals_referral r JOIN clients_client c ON c.id = r.client_id
    LEFT JOIN (SELECT part_of_id, MAX(id) AS child_id FROM referrals_referral
               WHERE part_of_id IS NOT NULL AND status <> 'entered-in-error'
               GROUP BY part_of_id) ch ON ch.part_of_id = r.id
    LEFT JOIN referrals_referral lc ON lc.id = ch.child_id
    WHERE r.sent_at IS NOT NULL AND r.status NOT IN ('draft', 'entered-in-error')
),
s AS (
    SELECT b.*, NULL::bigint AS partnership_id, NULL::bigint AS organization_id,
           TRUE AS as_sender, TRUE AS as_receiver FROM b WHERE top_level
    UNION ALL SELECT b.*, NULL, sender_id, TRUE, receiver_id = sender_id
      FROM b WHERE sender_id IS NOT NULL
    UNION ALL SELECT b.*, NULL, receiver_id, FALSE, TRUE
      FROM b WHERE receiver_id IS DISTINCT FROM sender_id
    UNION ALL SELECT b.*, p1.partnership_id, NULL, TRUE, TRUE FROM b
      JOIN organizations_partnership_organizations p1 ON p1.organization_id = b.sender_id
      JOIN organizations_partnership_organizations p2
        ON p2.partnership_id = p1.partnership_id AND p2.organization_id = b.pair_receiver_id
)
SELECT period_start, network_id, partnership_id, organization_id,
       race_eth, language, insurance, age_band,
       COUNT(*) FILTER (WHERE as_sender) AS sent,
       COUNT(*) FILTER (WHERE as_receiver) AS received,
       COUNT(*) FILTER (WHERE accepted_at IS NOT NULL) AS accepted,
       COUNT(*) FILTER (WHERE status = 'rejected') AS declined,
       COUNT(*) FILTER (WHERE status = 'completed') AS completed,
       COUNT(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       COUNT(*) FILTER (WHERE status = 'failed') AS failed,
       COUNT(*) AS total,
       COUNT(*) FILTER (WHERE status IN ('completed', 'rejected', 'failed', 'cancelled')
                        AND closed_at <= sent_at + INTERVAL '30 days') AS closed_loop,
       PERCENTILE_CONT(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM (accepted_at - sent_at)) / 86400.0)
           FILTER (WHERE accepted_at IS NOT NULL) AS median_accept,
       PERCENTILE_CONT(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(EPOCH FROM (closed_at - sent_at)) / 86400.0)
           FILTER (WHERE status = 'completed') AS median_complete,
       COUNT(*) FILTER (WHERE overdue) AS overdue,
       COUNT(*) FILTER (WHERE accepted_at IS NOT NULL
                        AND (status = 'failed' OR outcome = 'unable-to-contact')) AS unable,
       COUNT(DISTINCT client_id) AS clients_referred,
       COUNT(DISTINCT client_id) FILTER (WHERE status = 'completed') AS clients_served,
       COUNT(DISTINCT client_id) FILTER (WHERE accepted_at IS NOT NULL AND contacted)
           AS clients_engaged,
       COUNT(DISTINCT client_id) FILTER (WHERE status = 'completed' AND outcome = 'need-met')
           AS clients_need_met,
       COUNT(*) FILTER (WHERE status = 'completed' AND outcome = 'need-met') AS need_met
FROM s
GROUP BY period_start, network_id, partnership_id, organization_id,
         GROUPING SETS ((), (race_eth), (language), (insurance), (age_band))
"""


def run() -> list[str]:
    import django
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_rollup sets up Django itself: run it with `python -m bench`.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    database = (
        _kept_database(BENCH_DB) if KEEP else throwaway_database(BENCH_DB, postgres_only=True)
    )
    with database:
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        world = _existing_world() if KEEP else None
        if world is None:
            _reset_schema()
            call_command("migrate", verbosity=0, interactive=False)
            world = _build_world()
        rollup_s, referral_only_s, rows = _time_rollup(world)
        incremental_s, changed = _time_incremental(world)
        # On stderr as soon as known: the steps after it take minutes more.
        print(
            f"bench_rollup: full {rollup_s:.2f} s, incremental {incremental_s:.2f} s, "
            f"ratio {incremental_s / rollup_s:.3f} x",
            file=sys.stderr,
            flush=True,
        )
        handwritten_s = _time_handwritten()
        render_ms, queries = _time_dashboard(world)
    n = f"{REFERRALS // 1000}k" if REFERRALS < 1_000_000 else f"{REFERRALS // 1_000_000}m"
    return [
        f"bench: rollup_all_measures_{n} = {rollup_s:.1f} s",
        f"bench: rollup_referral_measures_{n} = {referral_only_s:.1f} s",
        f"bench: handwritten_sql_referral_measures_{n} = {handwritten_s:.1f} s",
        f"bench: rollup_to_handwritten_ratio = {referral_only_s / handwritten_s:.2f} x",
        f"bench: rollup_rows_{n} = {rows} rows",
        f"bench: rollup_incremental_{_count(changed)}_changes_of_{n} = {incremental_s:.2f} s",
        f"bench: rollup_incremental_to_full_ratio = {incremental_s / rollup_s:.3f} x",
        f"bench: dashboard_render_median_{n} = {render_ms:.1f} ms",
        f"bench: dashboard_queries = {queries} queries",
    ]


@contextmanager
def _kept_database(name: str) -> Iterator[None]:
    """Point DATABASE_URL at database `name` on the PostgreSQL server of DATABASE_URL,
    created if missing, and leave it there afterwards (BENCH_ROLLUP_KEEP)."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise RuntimeError("BENCH_ROLLUP_KEEP needs DATABASE_URL on a PostgreSQL server.")
    parts = urlsplit(url)
    admin = "postgresql://" + urlunsplit(parts._replace(path="/postgres")).split("://", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        os.environ["DATABASE_URL"] = url


def _existing_world() -> dict | None:
    """The kept database's world, when it holds one of this size."""
    from organizations.models import Network, User
    from referrals.models import Referral

    network = Network.objects.filter(slug="bench-network").first()
    if network is None or Referral.objects.filter(network=network).count() != REFERRALS:
        return None
    return {"network": network, "admin": User.objects.get(email="admin@bench.test")}


def _reset_schema() -> None:
    """An empty kept database to build the world in (a partly built or other-sized one)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def _count(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _build_world() -> dict:
    from django.db import connection
    from django.utils import timezone

    from assessments.loader import load_instruments
    from assessments.models import Assessment, Instrument, Need
    from clients.models import Client
    from clients.normalize import normalize_name
    from directory.models import Program
    from organizations.models import Membership, Network, Organization, Partnership, User
    from referrals.models import Referral, ReferralEvent, ReferralNeed

    now = timezone.now()
    network = Network.objects.create(name="Bench Network", slug="bench-network")
    backbone = Organization.objects.create(
        network=network, name="Bench Backbone", slug="bench-backbone", kind="backbone"
    )
    clinics = [
        Organization.objects.create(
            network=network, name=f"Clinic {i}", slug=f"clinic-{i}", kind="hco"
        )
        for i in range(10)
    ]
    cbos = [
        Organization.objects.create(network=network, name=f"CBO {i}", slug=f"cbo-{i}", kind="cbo")
        for i in range(20)
    ]
    for i, cbo in enumerate(cbos):
        p = Partnership.objects.create(network=network, name=f"Partnership {i}", status="active")
        p.organizations.set([clinics[i % 10], cbo])
    admin = User.objects.create_user(email="admin@bench.test")
    Membership.objects.create(user=admin, organization=backbone, role="org_admin")
    navigators = []
    for i, clinic in enumerate(clinics):
        user = User.objects.create_user(email=f"nav{i}@bench.test")
        Membership.objects.create(user=user, organization=clinic, role="navigator")
        navigators.append(user)
    programs = [Program.objects.create(organization=c, name=f"Program {c.pk}") for c in cbos]

    clients = []
    for i in range(CLIENTS):
        given, family = f"Given{i}", f"Family{i}"
        clinic = i % len(clinics)
        clients.append(
            Client(
                network=network,
                created_by_organization=clinics[clinic],
                created_by=navigators[clinic],
                given_name=given,
                family_name=family,
                given_name_key=normalize_name(given),
                family_name_key=normalize_name(family),
                date_of_birth=date(1940, 1, 1) + timedelta(days=(i * 97) % (365 * 80)),
                race=RACES[i % len(RACES)],
                ethnicity=ETHNICITIES[i % len(ETHNICITIES)],
                preferred_language=LANGUAGES[(i // 3) % len(LANGUAGES)],
                insurance_type=INSURANCE[(i // 7) % len(INSURANCE)],
            )
        )
    clients = Client.objects.bulk_create(clients, batch_size=BATCH)

    open_pairs = 0
    for first in range(0, REFERRALS, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, REFERRALS)):
            status = STATUS_MIX[(n * 37) % len(STATUS_MIX)]
            sent = now - timedelta(minutes=(n * 7919) % (2 * 365 * 24 * 60))
            if status in OPEN:
                k = open_pairs
                open_pairs += 1
                client = clients[k % len(clients)]
                program = programs[(k // len(clients)) % len(programs)]
            else:
                client = clients[(n * 131) % len(clients)]
                program = programs[n % len(programs)]
            accepted = status not in {"requested", "rejected"} and n % 9 != 0
            rows.append(
                Referral(
                    network=network,
                    client=client,
                    sender_organization_id=client.created_by_organization_id,
                    sender_user_id=client.created_by_id,
                    receiver_organization_id=program.organization_id,
                    program=program,
                    status=status,
                    outcome=OUTCOMES[n % len(OUTCOMES)] if status == "completed" else "",
                    created_at=sent,
                    updated_at=sent,
                    sent_at=sent,
                    accepted_at=sent + timedelta(hours=1 + n % 200) if accepted else None,
                    closed_at=None if status in OPEN else sent + timedelta(hours=24 + n % 1500),
                    ack_due_at=sent + timedelta(days=2) if status == "requested" else None,
                    update_due_at=sent + timedelta(days=7) if status in OPEN else None,
                )
            )
        made = Referral.objects.bulk_create(rows, batch_size=BATCH)
        ReferralNeed.objects.bulk_create(
            [ReferralNeed(referral_id=r.pk, code="food-insecurity") for r in made],
            batch_size=BATCH,
        )
        ReferralEvent.objects.bulk_create(
            [
                ReferralEvent(
                    referral_id=r.pk,
                    kind="contact",
                    organization_id=r.receiver_organization_id,
                    occurred_at=r.sent_at + timedelta(days=1),
                    contact_type=["phone", "text", "in-person"][i % 3],
                    contact_successful=True,
                )
                for i, r in enumerate(made)
                if i % 3 == 0
            ],
            batch_size=BATCH,
        )

    load_instruments()
    screening = Instrument.objects.get(key="ahc-hrsn-core", is_current=True)
    domains = ["living-situation", "food", "transportation", "utilities", "safety"]
    for first in range(0, SCREENINGS, BATCH):
        batch = []
        for n in range(first, min(first + BATCH, SCREENINGS)):
            client = clients[n % len(clients)]
            done = now - timedelta(minutes=(n * 7907) % (2 * 365 * 24 * 60))
            results = {
                d: {"status": "positive" if (n + j) % 4 == 0 else "negative", "score": None}
                for j, d in enumerate(domains)
            }
            batch.append(
                Assessment(
                    instrument=screening,
                    client=client,
                    organization_id=client.created_by_organization_id,
                    administered_by_id=client.created_by_id,
                    mode="in_person",
                    status="completed",
                    started_at=done,
                    completed_at=done,
                    domain_results=results,
                )
            )
        made = Assessment.objects.bulk_create(batch, batch_size=BATCH)
        Need.objects.bulk_create(
            [
                Need(assessment_id=a.pk, domain="food", category="food-insecurity")
                for a in made
                if a.domain_results["food"]["status"] == "positive"
            ],
            batch_size=BATCH,
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"network": network, "admin": admin}


def _time_rollup(world) -> tuple[float, float, int]:
    from django.db import connection
    from django.utils import timezone

    from metrics import engine
    from metrics.models import Rollup, RollupRun
    from metrics.services import rollup_run_execute_now

    if KEEP:
        # As in a fresh database: no earlier run whose rows the full run compares with
        # (that comparison would be timed too), no changes pending.
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE metrics_rollup, metrics_rollupchange")
        RollupRun.objects.all().delete()
    run = RollupRun.objects.create(network=world["network"])
    started = time.perf_counter()
    rollup_run_execute_now(run_id=run.pk)
    total = time.perf_counter() - started
    rows = Rollup.objects.filter(run=run).count()

    # The referral source alone, as the hand-written SQL covers it.
    dialect = engine.dialect()
    referral_sql = dict(engine.statements(dialect))["referral"]
    scratch = RollupRun.objects.create(network=world["network"], status="failed")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for kind in ("month", "quarter"):
            cursor.execute(
                referral_sql,
                engine.statement_params(
                    dialect,
                    networks=[world["network"].pk],
                    run=scratch.pk,
                    kind=kind,
                    now=timezone.now(),
                ),
            )
    referral_only = time.perf_counter() - started
    Rollup.objects.filter(run=scratch).delete()
    scratch.delete()
    return total, referral_only, rows


def _time_incremental(world) -> tuple[float, int]:
    """Today's activity on recent referrals — 1,000 of those sent in the last two weeks
    accepted, started or completed through the ORM (so the changes are recorded as the
    services' saves record them), a contact logged today on every third — applied to the
    full run's rows by the incremental rollup."""
    from django.db import transaction
    from django.utils import timezone

    from metrics.models import RollupChange
    from metrics.services import rollup_changes_apply
    from referrals.models import Referral, ReferralEvent

    now = timezone.now()
    RollupChange.objects.all().delete()
    recent = Referral.objects.filter(
        network=world["network"], sent_at__gte=now - timedelta(days=14), status__in=OPEN
    ).order_by("-sent_at")[:CHANGES]
    changed = 0
    recent = list(recent)
    # As they were, for a kept database's next run (put back below, without signals).
    originals = [
        Referral(
            pk=r.pk,
            status=r.status,
            accepted_at=r.accepted_at,
            outcome=r.outcome,
            closed_at=r.closed_at,
            updated_at=r.updated_at,
        )
        for r in recent
    ]
    events = []
    with transaction.atomic():
        for i, r in enumerate(recent):
            if r.status == "requested":
                r.status, r.accepted_at = "accepted", now
            elif r.status == "on-hold":
                r.status = "in-progress"
            else:
                r.status, r.outcome, r.closed_at = "completed", "need-met", now
            r.updated_at = now
            r.save(update_fields=["status", "accepted_at", "outcome", "closed_at", "updated_at"])
            if i % 3 == 0:
                event = ReferralEvent.objects.create(
                    referral=r,
                    kind="contact",
                    organization_id=r.receiver_organization_id,
                    occurred_at=now,
                    contact_type="phone",
                    contact_successful=True,
                )
                events.append(event.pk)
            changed += 1
    started = time.perf_counter()
    rollup_changes_apply(network_id=world["network"].pk)
    elapsed = time.perf_counter() - started
    if KEEP:
        Referral.objects.bulk_update(
            originals, ["status", "accepted_at", "outcome", "closed_at", "updated_at"]
        )
        ReferralEvent.objects.filter(pk__in=events)._raw_delete(ReferralEvent.objects.db)
        RollupChange.objects.all().delete()
    return elapsed, changed


def _tz() -> str:
    from django.conf import settings

    return settings.TIME_ZONE


def _time_handwritten() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for kind in ("month", "quarter"):
            cursor.execute(HANDWRITTEN.format(kind=kind), {"tz": _tz()})
    return time.perf_counter() - started


def _time_dashboard(world) -> tuple[float, int]:
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    browser = HttpClient()
    browser.force_login(world["admin"])
    # Admins pass a second factor: mark the session verified with the admin's device.
    device = TOTPDevice.objects.create(user=world["admin"], name="bench", confirmed=True)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    timings = []
    queries = 0
    for i in range(8):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = browser.get("/measures/")
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or b'data-table="summary"' not in response.content:
            raise RuntimeError(f"The dashboard did not render (HTTP {response.status_code}).")
        if i >= 2:
            timings.append(elapsed)
            queries = len(captured.captured_queries)
    return statistics.median(timings), queries
