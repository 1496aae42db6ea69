"""The read replica (config/db_router.py): a second database on the same server stands in for
it, the test itself copying the rows streaming replication would."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connections, router
from django.utils import timezone

from clients.models import Client
from config.db_router import REPLICA, replica_reads
from metrics import selectors
from metrics.models import PeriodKind, Rollup, RollupRun
from tests.factories import PartnershipFactory

MONTH = date(2026, 3, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def replica(tmp_path):
    """A "replica" alias on its own, empty database holding the rollup table only (any read
    of another table there fails), added after the test database is set up."""
    primary = connections["default"].settings_dict
    vendor = connections["default"].vendor
    if vendor == "postgresql":
        name = f"{primary['NAME']}_replica"
        with connections["default"]._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
    else:
        name = str(tmp_path / "replica.sqlite3")
    connections.settings[REPLICA] = {**primary, "NAME": name, "ATOMIC_REQUESTS": False}
    # Connected here: the test case only lets its declared aliases connect on first use, and
    # this one did not exist when it was declared.
    connections[REPLICA].connect()
    with connections[REPLICA].schema_editor() as editor:
        editor.create_model(Rollup)
    yield connections[REPLICA]
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    if vendor == "postgresql":
        with connections["default"]._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def replicate() -> None:
    """What streaming replication does, for the rollup table: the replica = the primary."""
    rows = list(Rollup.objects.using("default").all())
    Rollup.objects.using(REPLICA).all().delete()
    Rollup.objects.using(REPLICA).bulk_create(rows)


def rollup(partnership, run, value: float) -> Rollup:
    return Rollup.objects.create(
        network_id=partnership.network_id,
        run=run,
        partnership=partnership,
        period_kind=PeriodKind.MONTH,
        period_start=MONTH,
        measure="closed_loop_rate",
        numerator=int(value * 100),
        denominator=100,
        value=value,
    )


def test_rollup_reads_go_to_the_replica_and_everything_else_to_default(replica):
    partnership = PartnershipFactory()
    run = RollupRun.objects.create(
        network=partnership.network, status=RollupRun.Status.DONE, finished_at=timezone.now()
    )
    row = rollup(partnership, run, 0.5)
    replicate()
    # A write the replica has not received yet: the dashboards' reads do not see it...
    Rollup.objects.filter(pk=row.pk).update(value=0.75)
    assert Rollup.objects.using("default").get(pk=row.pk).value == 0.75
    # ...because they read the replica (the run, on default only, still comes from default:
    # the replica has no such table).
    assert selectors.partnership_measure_value(partnership, "closed_loop_rate", MONTH) == 0.5
    assert Rollup.objects.get(pk=row.pk).value == 0.5
    replicate()
    assert selectors.partnership_measure_value(partnership, "closed_loop_rate", MONTH) == 0.75

    # A rollup read from the replica saves to default, and its relations read from default.
    replica_row = Rollup.objects.get(pk=row.pk)
    assert replica_row._state.db == REPLICA
    assert replica_row.partnership == partnership
    replica_row.value = 0.9
    replica_row.save()
    assert Rollup.objects.using("default").get(pk=row.pk).value == 0.9
    assert Rollup.objects.using(REPLICA).get(pk=row.pk).value == 0.75

    assert router.db_for_read(RollupRun) == "default"
    assert router.db_for_read(Client) == "default"
    assert router.db_for_write(Rollup) == "default"
    assert not router.allow_migrate(REPLICA, "metrics", model_name="rollup")
    assert router.allow_migrate("default", "metrics", model_name="rollup")


def test_a_csv_export_reads_everything_from_the_replica_and_writes_to_default(replica):
    with replica_reads():
        assert router.db_for_read(Client) == REPLICA
        assert router.db_for_read(RollupRun) == REPLICA
        assert router.db_for_write(Client) == "default"
        # The replica holds only the rollup table here: the read really went there.
        with pytest.raises(Exception, match=r"(?i)rollup.?run"):
            RollupRun.objects.count()
    assert router.db_for_read(Client) == "default"
    assert RollupRun.objects.count() == 0


def test_without_a_replica_the_router_leaves_everything_on_default():
    assert REPLICA not in connections.settings
    assert router.db_for_read(Rollup) == "default"
    with replica_reads():
        assert router.db_for_read(Client) == "default"
