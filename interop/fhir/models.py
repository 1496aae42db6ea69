"""Procedures a receiving organization's system POSTs on their own, before the Task update
that names them as the referral's resulting activity."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

ID_PREFIX = "reported-"


class ReportedProcedureQuerySet(models.QuerySet):
    def visible_to(self, org) -> ReportedProcedureQuerySet:
        """Procedures of the referrals an organization sent or received (what each may see
        of one is the consent policy's answer for its referral)."""
        return self.filter(
            models.Q(referral__sender_organization_id=org.pk)
            | models.Q(referral__receiver_organization_id=org.pk)
        )


class ReportedProcedure(models.Model):
    """A Procedure POSTed by the referral's receiver (basedOn its ServiceRequest): many
    systems first create the Procedure, then PUT the Task with it as output. It is kept as
    sent (checked like a contained one) until a Task update reads it exactly as it reads a
    contained Procedure; `used_at` says when. FHIR id: `reported-<pk>` (the referral's own
    resulting activity is `Procedure/<referral id>`)."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    reported_by = models.ForeignKey(
        "organizations.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The Procedure as sent, without its id and meta (the server's).
    resource = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = ReportedProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.fhir_id

    @property
    def fhir_id(self) -> str:
        return f"{ID_PREFIX}{self.pk}"
