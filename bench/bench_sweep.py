"""The reminder sweep at 1,000,000 referrals, 1,000 of them due: its time (median of
several runs, the same due set restored between runs) and its query count, and a sweep
with nothing due. The sweep's reads are range scans of due-moment indexes, so these
figures follow the number due, not the table size.

A network a few years in: 10 receiving CBOs with 100 programs each, 1,000 clients; one
referral in ten open (due in the coming weeks), the rest completed and followed up.

The database is a throwaway one: with DATABASE_URL on PostgreSQL a `linkage_bench_sweep`
database on the same server (created, then dropped; rows made by INSERT ... SELECT over
generate_series); otherwise a temporary SQLite file (batched executemany).
Queueing is measured apart from the broker: the sweep is given a publisher that records
the ids it would hand over.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from bench.common import throwaway_database

BENCH_DB = "linkage_bench_sweep"
REFERRALS = int(os.environ.get("BENCH_SWEEP_REFERRALS", "1000000"))
DUE = 1_000
CBOS, PROGRAMS_PER_CBO, CLIENTS = 10, 100, 1_000
RUNS = 5
SQLITE_BATCH = 20_000


def run() -> list[str]:
    import django
    from django.apps import apps

    if apps.ready:
        raise RuntimeError("bench_sweep sets up Django itself: run it with `python -m bench`.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    with throwaway_database(BENCH_DB):
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        started = time.perf_counter()
        world = _build_world()
        _add_referrals(world)
        _analyze()
        built = time.perf_counter() - started
        due_ms, queries = _median_sweep_ms(world)
        idle_ms, idle_queries = _idle_sweep_ms()
    return [
        f"bench: sweep_build_{_size()}_referrals = {built:.1f} s",
        f"bench: sweep_1k_due_of_{_size()} = {due_ms:.1f} ms",
        f"bench: sweep_1k_due_of_{_size()}_queries = {queries} queries",
        f"bench: sweep_nothing_due_of_{_size()} = {idle_ms:.1f} ms",
        f"bench: sweep_nothing_due_of_{_size()}_queries = {idle_queries} queries",
    ]


def _size() -> str:
    return "1m" if REFERRALS == 1_000_000 else str(REFERRALS)


def _build_world() -> dict:
    from django.utils import timezone

    from clients.models import Client
    from directory.models import Program
    from organizations.models import Membership, Network, Organization, User

    network = Network.objects.create(name="Bench Network", slug="bench-network")
    backbone = Organization.objects.create(
        network=network, name="Bench Backbone", slug="bench-backbone", kind="backbone"
    )
    clinic = Organization.objects.create(
        network=network, name="Bench Clinic", slug="bench-clinic", kind="hco"
    )
    cbos = Organization.objects.bulk_create(
        [
            Organization(network=network, name=f"CBO {i}", slug=f"bench-cbo-{i}", kind="cbo")
            for i in range(CBOS)
        ]
    )
    users = User.objects.bulk_create(
        [User(email=f"bench{i}@bench.test", username=f"bench{i}@bench.test") for i in range(23)]
    )
    sender, admin, *staff = users
    Membership.objects.bulk_create(
        [
            Membership(user=sender, organization=clinic, role="navigator"),
            Membership(user=admin, organization=backbone, role="org_admin"),
            *(
                Membership(user=staff[k], organization=cbos[k // 2], role="staff")
                for k in range(2 * CBOS)
            ),
        ]
    )
    programs = Program.objects.bulk_create(
        [
            Program(organization=cbo, name=f"Program {c}-{p}")
            for c, cbo in enumerate(cbos)
            for p in range(PROGRAMS_PER_CBO)
        ]
    )
    born = timezone.now().date() - timedelta(days=40 * 365)
    clients = Client.objects.bulk_create(
        [
            Client(
                network=network,
                created_by_organization=clinic,
                created_by=sender,
                given_name=f"Given{i}",
                family_name=f"Family{i}",
                given_name_key=f"given{i}",
                family_name_key=f"family{i}",
                date_of_birth=born,
            )
            for i in range(CLIENTS)
        ]
    )
    return {
        "network": network.pk,
        "clinic": clinic.pk,
        "sender": sender.pk,
        "programs": [p.pk for p in programs],
        "receivers": [p.organization_id for p in programs],
        "clients": [c.pk for c in clients],
    }


def _add_referrals(world: dict) -> None:
    """REFERRALS rows: row i goes to program i mod 1000 for client (i div 1000) mod 1000, so
    no client has two open referrals to one program. One in ten is open (requested or in
    progress, due 1 to 30 days from now); of those, the first DUE are overdue since
    minutes to hours ago. The rest are completed and followed up already."""
    from django.db import connection

    if connection.vendor == "postgresql":
        _add_referrals_postgresql(world)
    else:
        _add_referrals_sqlite(world)


def _add_referrals_postgresql(world: dict) -> None:
    from django.db import connection

    programs = ",".join(map(str, world["programs"]))
    receivers = ",".join(map(str, world["receivers"]))
    clients = ",".join(map(str, world["clients"]))
    n_programs, n_clients = len(world["programs"]), len(world["clients"])
    # Only integers from the database go into the text.
    sql = f"""
        INSERT INTO referrals_referral (
            network_id, client_id, sender_organization_id, sender_user_id, external_sender,
            source, receiver_organization_id, program_id, reason, urgency, do_not_contact,
            status, business_status, status_reason, decline_reason, outcome, outcome_note,
            created_at, updated_at, sent_at, closed_at, ack_due_at, update_due_at,
            follow_up_due_at, reminder_due_at, waiting_since, overdue_count
        )
        SELECT
            {world["network"]}, (ARRAY[{clients}])[1 + (i / {n_programs}) % {n_clients}],
            {world["clinic"]}, {world["sender"]}, '', 'platform',
            (ARRAY[{receivers}])[1 + i % {n_programs}], (ARRAY[{programs}])[1 + i % {n_programs}],
            '', 'routine', false,
            CASE WHEN open THEN (CASE WHEN i % 20 = 0 THEN 'requested' ELSE 'in-progress' END)
                 ELSE 'completed' END,
            '', '', '', CASE WHEN open THEN '' ELSE 'need-met' END, '',
            made, made, made, CASE WHEN open THEN NULL ELSE made + interval '3 days' END,
            CASE WHEN open AND i % 20 = 0 THEN due END,
            CASE WHEN open AND i % 20 <> 0 THEN due END,
            CASE WHEN open THEN NULL ELSE made + interval '17 days' END,
            CASE WHEN open THEN due END,
            CASE WHEN open THEN made END,
            0
        FROM (
            SELECT i, i % 10 = 0 AS open,
                   now() - interval '400 days' + (i * interval '30 seconds') AS made,
                   CASE WHEN i % 10 = 0 AND i < {DUE * 10}
                        THEN now() - (i * interval '1 second') - interval '1 minute'
                        ELSE now() + ((1 + i % 30) * interval '1 day') END AS due
            FROM generate_series(0, {REFERRALS - 1}) AS i
        ) AS rows
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _add_referrals_sqlite(world: dict) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    programs, receivers, clients = world["programs"], world["receivers"], world["clients"]
    columns = (
        "network_id, client_id, sender_organization_id, sender_user_id, external_sender, "
        "source, receiver_organization_id, program_id, reason, urgency, do_not_contact, "
        "status, business_status, status_reason, decline_reason, outcome, outcome_note, "
        "created_at, "
        "updated_at, sent_at, closed_at, ack_due_at, update_due_at, follow_up_due_at, "
        "reminder_due_at, waiting_since, overdue_count"
    )
    marks = ", ".join(["%s"] * 27)
    sql = f"INSERT INTO referrals_referral ({columns}) VALUES ({marks})"  # noqa: S608

    def row(i: int):
        is_open = i % 10 == 0
        made = now - timedelta(days=400) + timedelta(seconds=30 * i)
        if is_open and i < DUE * 10:
            due = now - timedelta(seconds=i + 60)
        else:
            due = now + timedelta(days=1 + i % 30)
        requested = is_open and i % 20 == 0
        return (
            world["network"],
            clients[(i // len(programs)) % len(clients)],
            world["clinic"],
            world["sender"],
            "",
            "platform",
            receivers[i % len(programs)],
            programs[i % len(programs)],
            "",
            "routine",
            False,
            ("requested" if requested else "in-progress") if is_open else "completed",
            "",
            "",
            "",
            "" if is_open else "need-met",
            "",
            made,
            made,
            made,
            None if is_open else made + timedelta(days=3),
            due if requested else None,
            due if is_open and not requested else None,
            None if is_open else made + timedelta(days=17),
            due if is_open else None,
            made if is_open else None,
            0,
        )

    for start in range(0, REFERRALS, SQLITE_BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                sql, [row(i) for i in range(start, min(start + SQLITE_BATCH, REFERRALS))]
            )


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _due_set() -> list[int]:
    from django.utils import timezone

    from referrals.models import Referral

    return list(
        Referral.objects.filter(reminder_due_at__lte=timezone.now()).values_list("pk", flat=True)
    )


def _restore(due: list[int]) -> None:
    """Put the due set back as it was before the sweep: no reminders, the clock at the
    deadline, no overdue count."""
    from django.db.models import F, Q

    from referrals.models import Referral, Reminder

    Reminder.objects.all().delete()
    Referral.objects.filter(pk__in=due).update(
        reminder_due_at=F("ack_due_at"), overdue_count=0, escalated_at=None
    )
    Referral.objects.filter(Q(pk__in=due), ack_due_at__isnull=True).update(
        reminder_due_at=F("update_due_at")
    )


def _median_sweep_ms(world: dict) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from referrals.models import Reminder
    from referrals.reminders.sweep import reminders_sweep

    due = _due_set()
    if len(due) != min(DUE, REFERRALS // 10):
        raise RuntimeError(f"Expected {DUE} referrals due, found {len(due)}.")
    timings, queries = [], 0
    for _ in range(RUNS):
        _restore(due)
        handed = Handed()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            reminders_sweep(publish=handed)
        timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
        made = (
            Reminder.objects.filter(kind="ack_overdue").count()
            + Reminder.objects.filter(kind="update_overdue").count()
        )
        if made != len(due) or len(handed.ids) < len(due):
            raise RuntimeError(f"The sweep made {made} overdue reminders for {len(due)} due.")
    _restore(due)
    return statistics.median(timings), queries


class Handed:
    """The sweep's publisher here: records the ids instead of talking to a broker."""

    def __init__(self):
        self.ids: list[int] = []

    def __call__(self, task, ids) -> list[int]:
        self.ids += ids
        return list(ids)


def _idle_sweep_ms() -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from referrals.models import Referral
    from referrals.reminders.sweep import reminders_sweep

    Referral.objects.filter(reminder_due_at__lte=timezone.now()).update(
        reminder_due_at=timezone.now() + timedelta(days=1)
    )
    timings, queries = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            reminders_sweep(publish=Handed())
        timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured.captured_queries)
    return statistics.median(timings), queries
