"""Audit rows cannot be changed or deleted: not by the model, not in bulk, not by raw SQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AppendOnlyError, AuditEvent, AuditEventClient
from audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(tenant):
    return audit_record(
        action="view",
        object_type="client",
        object_ids=[tenant.client.pk],
        client_ids=[tenant.client.pk],
        actor=tenant.hco_navigator,
        organization=tenant.hco,
        detail={"categories": ["demographics"]},
    )


def test_an_event_cannot_be_saved_again_or_deleted(event):
    event.action = "update"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_bulk_update_and_delete_are_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="update")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    event.action = "update"
    # bulk_update opens its own atomic block without a savepoint; ours keeps the test's
    # transaction usable after the refusal.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "view"


def test_the_client_index_rows_are_append_only_too(event):
    row = AuditEventClient.objects.get(event=event)
    row.client_id = 999
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AuditEventClient.objects.filter(event=event).update(client_id=999)
    with pytest.raises(AppendOnlyError):
        AuditEventClient.objects.filter(event=event).delete()
    assert list(
        AuditEventClient.objects.filter(event=event).values_list("client_id", flat=True)
    ) == [event.clients.get().client_id]
    assert AuditEventClient.objects.get(pk=row.pk).client_id != 999


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger exists on PostgreSQL only (CI runs on PostgreSQL)",
)
def test_the_database_refuses_raw_update_and_delete(event):
    statements = [
        ("UPDATE audit_auditevent SET action = 'update' WHERE id = %s", event.pk),
        ("DELETE FROM audit_auditevent WHERE id = %s", event.pk),
        ("UPDATE audit_auditeventclient SET client_id = 999 WHERE event_id = %s", event.pk),
        ("DELETE FROM audit_auditeventclient WHERE event_id = %s", event.pk),
    ]
    for sql, pk in statements:
        # Each statement in its own savepoint: the failure rolls back only that savepoint,
        # and the test's transaction stays usable for the next one.
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT action FROM audit_auditevent WHERE id = %s", [event.pk])
        assert cursor.fetchone() == ("view",)
        cursor.execute(
            "SELECT count(*) FROM audit_auditeventclient WHERE event_id = %s", [event.pk]
        )
        assert cursor.fetchone() == (1,)
    # Appending still works after the refusals.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditeventclient (event_id, client_id) VALUES (%s, %s)",
            [event.pk, 424242],
        )
    assert event.clients.count() == 2
