"""The append-only audit trail: every read of client data and every change.

Rows are never updated or deleted: the model refuses, and on PostgreSQL a trigger (migration
0002) refuses too, so not even a raw SQL statement from the application can rewrite history.
References to users, organizations and clients are plain ids without database constraints,
so that the trail outlives what it describes and never blocks a deletion elsewhere.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit row."""


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes refuse like single rows do (bulk_update goes through update too)."""

    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEventQuerySet(AppendOnlyQuerySet):
    def visible_to(self, org) -> AuditEventQuerySet:
        """An organization sees the events of its own people."""
        return self.filter(organization_id=org.pk)

    def about_client(self, client_id: int) -> AuditEventQuerySet:
        return self.filter(clients__client_id=client_id)


class AuditEvent(models.Model):
    """Who, acting for which organization, did what to which objects, when, from where."""

    class Action(models.TextChoices):
        VIEW = "view", gettext_lazy("Viewed")
        LIST = "list", gettext_lazy("Listed")
        SEARCH = "search", gettext_lazy("Searched")
        PRINT = "print", gettext_lazy("Printed")
        EXPORT = "export", gettext_lazy("Exported")
        CREATE = "create", gettext_lazy("Created")
        UPDATE = "update", gettext_lazy("Changed")
        REVOKE = "revoke", gettext_lazy("Revoked")
        DISCLOSE = "disclose", gettext_lazy("Disclosed")

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "organizations.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    # "client", "release", "assessment", "referral", ...
    object_type = models.CharField(max_length=40)
    # The objects shown or changed (a list page records every id it showed).
    object_ids = models.JSONField(default=list)
    # Which data categories were shown (consent categories), and other non-PHI context
    # such as the names of changed fields. Never values.
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "occurred_at"], name="audit_org_time"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type} {self.object_ids}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEventClient(models.Model):
    """Which clients an event touched, so a client's accounting of disclosures is one
    indexed query, whatever kind of object the event was about."""

    event = models.ForeignKey(AuditEvent, on_delete=models.DO_NOTHING, related_name="clients")
    client_id = models.BigIntegerField(db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "client_id"], name="audit_event_client_once")
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} / client {self.client_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")
