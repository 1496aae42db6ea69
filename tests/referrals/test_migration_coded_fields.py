"""Migration 0006 moves what the FHIR facade kept as coded first lines of free text into the
referral's columns, and gives declines recorded before reasons were coded the reason
"other"."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import ProgramFactory, referral_for

BEFORE = [("referrals", "0005_reminder_release_expired")]
AFTER = [("referrals", "0006_decline_reason_requested_service_resulting_activity")]


@pytest.fixture
def back_to_latest():
    """Going back to referrals 0005 also unapplies every later migration that depends on it
    (in other apps too); the test database is shared by every test this worker runs after
    this one, so the whole schema goes forward again, whatever the test did."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_coded_lines_move_to_their_fields(tenant, back_to_latest):
    referral = referral_for(tenant)
    other = referral_for(tenant, program=ProgramFactory(organization=tenant.cbo), reason="Note")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("referrals", "Referral")
    old.objects.filter(pk=referral.pk).update(
        status="completed",
        outcome="need-met",
        reason="Requested service: Food pantry application "
        "[http://snomed.info/sct|467771000124109]\nMornings are best.",
        outcome_note="Resulting activity: Groceries for a week on 2030-01-02\nTwo boxes.",
    )
    old.objects.filter(pk=other.pk).update(status="rejected", reason="Requested service:")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("referrals", "Referral")
    moved = new.objects.get(pk=referral.pk)
    assert moved.requested_service == {
        "system": "http://snomed.info/sct",
        "code": "467771000124109",
        "display": "Food pantry application",
    }
    assert moved.reason == "Mornings are best."
    assert moved.resulting_activity == {
        "system": "",
        "code": "",
        "display": "Groceries for a week",
        "performed": "2030-01-02",
    }
    assert moved.outcome_note == "Two boxes."
    declined = new.objects.get(pk=other.pk)
    assert declined.decline_reason == "other"
    # A line without a code or words is left as it was.
    assert (declined.requested_service, declined.reason) == (None, "Requested service:")


@pytest.mark.django_db(transaction=True)
def test_the_schema_is_whole_again_for_the_tests_that_follow(tenant, back_to_latest):
    """Runs after the test above in the same worker (one file, loadfile): a client's merge
    columns (added after referrals 0005) are there again."""
    columns = {
        c.name
        for c in connection.introspection.get_table_description(
            connection.cursor(), "clients_client"
        )
    }
    assert "merged_into_id" in columns
    assert not MigrationExecutor(connection).migration_plan(
        MigrationExecutor(connection).loader.graph.leaf_nodes()
    )
