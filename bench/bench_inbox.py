"""How the inbox page holds up as referrals pile up: 1,000 and then 100,000 referrals to
one receiving organization (sent by several clinics, in a network of several
organizations), the inbox rendered through Django's test client as a signed-in staff
member of the receiver, median of several renders each time.

The database is a throwaway one: with DATABASE_URL on PostgreSQL a `linkage_bench`
database on the same server (created, then dropped); otherwise a temporary SQLite file.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from bench.common import throwaway_database

BENCH_DB = "linkage_bench"
SMALL, LARGE = 1_000, 100_000
CLIENTS = 5_000
PROGRAMS = 5
BATCH = 5_000
WARMUP, RENDERS = 3, 15

# A network two years in: most referrals are closed; one in twenty is open (the work in
# hand, which the open tab counts exactly; closed ones are counted up to a cap).
STATUS_MIX = (
    ["completed"] * 55
    + ["rejected"] * 15
    + ["cancelled"] * 10
    + ["failed"] * 15
    + ["requested"] * 2
    + ["accepted"]
    + ["in-progress"]
    + ["on-hold"]
)
OPEN = {"requested", "accepted", "in-progress", "on-hold"}
NEEDS = [
    "food-insecurity",
    "housing-instability",
    "transportation-insecurity",
    "utility-insecurity",
]


def run() -> list[str]:
    """Build, measure at 1k and 100k, and return the figures as `bench:` lines."""
    import django
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_inbox sets up Django itself: run it with `python -m bench`.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    with throwaway_database(BENCH_DB):
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        world = _build_world()
        _add_referrals(world, SMALL)
        small, small_queries = _median_inbox_ms(world), _inbox_queries(world)
        _add_referrals(world, LARGE - SMALL)
        large, large_queries = _median_inbox_ms(world), _inbox_queries(world)
    return [
        f"bench: inbox_median_1k = {small:.1f} ms",
        f"bench: inbox_median_100k = {large:.1f} ms",
        f"bench: inbox_ratio_100k_to_1k = {large / small:.2f} x",
        f"bench: inbox_queries_1k = {small_queries} queries",
        f"bench: inbox_queries_100k = {large_queries} queries",
    ]


def _build_world() -> dict:
    from django.utils import timezone

    from clients.models import Client
    from clients.normalize import normalize_name
    from consent.models import Release
    from directory.models import Program
    from organizations.models import Membership, Network, Organization, User

    now = timezone.now()
    network = Network.objects.create(name="Bench Network", slug="bench-network")
    Organization.objects.create(
        network=network, name="Bench Backbone", slug="bench-backbone", kind="backbone"
    )
    clinics = [
        Organization.objects.create(
            network=network, name=f"Clinic {i}", slug=f"bench-clinic-{i}", kind="hco"
        )
        for i in range(3)
    ]
    receiver = Organization.objects.create(
        network=network, name="Bench Food Bank", slug="bench-food-bank", kind="cbo"
    )
    for i in range(3):
        Organization.objects.create(
            network=network, name=f"Other CBO {i}", slug=f"bench-cbo-{i}", kind="cbo"
        )

    def person(email: str, org: Organization, role: str) -> User:
        user = User.objects.create_user(email=email, first_name="Bench", last_name=email[:6])
        Membership.objects.create(user=user, organization=org, role=role)
        return user

    navigators = [person(f"nav{i}@bench.test", c, "navigator") for i, c in enumerate(clinics)]
    staff = [person(f"staff{i}@bench.test", receiver, "staff") for i in range(5)]
    programs = [
        Program.objects.create(organization=receiver, name=f"Program {i}") for i in range(PROGRAMS)
    ]

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
                date_of_birth=(now - timedelta(days=365 * 30 + i)).date(),
                zip_code="60601",
            )
        )
    clients = Client.objects.bulk_create(clients, batch_size=BATCH)
    # Every client has a release naming the receiver, as sending requires.
    releases = Release.objects.bulk_create(
        [
            Release(
                client=c,
                organization=c.created_by_organization,
                captured_by=c.created_by,
                purpose="care_coordination",
                method="esignature",
                esignature_name="Typed",
                esignature_confirmed=True,
                covers_demographics=True,
                covers_social_needs=True,
                covers_referrals=True,
                effective_at=now - timedelta(days=800),
                expires_at=now + timedelta(days=365),
            )
            for c in clients
        ],
        batch_size=BATCH,
    )
    Release.recipients.through.objects.bulk_create(
        [
            Release.recipients.through(release_id=r.pk, organization_id=receiver.pk)
            for r in releases
        ],
        batch_size=BATCH,
    )
    return {
        "now": now,
        "network": network,
        "clinics": clinics,
        "navigators": navigators,
        "receiver": receiver,
        "staff": staff,
        "programs": programs,
        "clients": clients,
        "made": 0,
        "open_made": 0,
    }


def _add_referrals(world: dict, count: int) -> None:
    from referrals.models import Referral, ReferralNeed

    now = world["now"]
    clients, programs = world["clients"], world["programs"]
    staff = world["staff"]
    start = world["made"]
    for first in range(start, start + count, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, start + count)):
            status = STATUS_MIX[(n * 37) % len(STATUS_MIX)]
            sent = now - timedelta(minutes=(n * 7919) % (2 * 365 * 24 * 60))
            if status in OPEN:
                # At most one open referral per client and program (a database rule): open
                # ones walk through the (client, program) pairs.
                k = world["open_made"]
                world["open_made"] += 1
                client = clients[k % len(clients)]
                program = programs[(k // len(clients)) % len(programs)]
            else:
                client = clients[(n * 131) % len(clients)]
                program = programs[n % len(programs)]
            rows.append(
                Referral(
                    network=world["network"],
                    client=client,
                    sender_organization_id=client.created_by_organization_id,
                    sender_user_id=client.created_by_id,
                    receiver_organization=world["receiver"],
                    program=program,
                    status=status,
                    urgency="urgent" if n % 10 == 0 else "routine",
                    outcome="need-met" if status == "completed" else "",
                    assigned_to=staff[n % len(staff)] if status != "requested" else None,
                    created_at=sent,
                    updated_at=sent,
                    sent_at=sent,
                    opened_at=None if status == "requested" else sent,
                    closed_at=None if status in OPEN else sent + timedelta(days=3),
                    ack_due_at=sent + timedelta(days=2) if status == "requested" else None,
                    update_due_at=(
                        sent + timedelta(days=7) if status in {"accepted", "in-progress"} else None
                    ),
                )
            )
        made = Referral.objects.bulk_create(rows, batch_size=BATCH)
        ReferralNeed.objects.bulk_create(
            [
                ReferralNeed(referral_id=r.pk, code=code)
                for i, r in enumerate(made)
                for code in NEEDS[: 1 + (first + i) % 2]
            ],
            batch_size=BATCH,
        )
    world["made"] = start + count
    _analyze()


def _analyze() -> None:
    """Fresh planner statistics (and, on PostgreSQL, a visibility map for index-only
    scans), as autovacuum would provide on a live system."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def _median_inbox_ms(world: dict) -> float:
    from django.test import Client as HttpClient

    browser = HttpClient()
    browser.force_login(world["staff"][0])
    timings = []
    for i in range(WARMUP + RENDERS):
        started = time.perf_counter()
        response = browser.get("/referrals/inbox/")
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or b'data-testid="referral-row"' not in response.content:
            raise RuntimeError(f"The inbox did not render its rows (HTTP {response.status_code}).")
        if i >= WARMUP:
            timings.append(elapsed)
    return statistics.median(timings)


def _inbox_queries(world: dict) -> int:
    """The statements one render of the inbox sends (a page's worth whatever the table's
    size, if the page stays O(page))."""
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    browser = HttpClient()
    browser.force_login(world["staff"][0])
    browser.get("/referrals/inbox/")
    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/referrals/inbox/")
    if response.status_code != 200:
        raise RuntimeError(f"The inbox did not render (HTTP {response.status_code}).")
    return len(queries.captured_queries)
