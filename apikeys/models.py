"""API keys for integrations, and the responses remembered for `Idempotency-Key` retries."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from organizations.roles import Role


class ApiKeyQuerySet(models.QuerySet):
    def visible_to(self, org) -> ApiKeyQuerySet:
        """An organization sees (and manages) its own keys only."""
        return self.filter(organization=org)

    def usable(self) -> ApiKeyQuerySet:
        return self.filter(
            revoked_at__isnull=True, organization__is_active=True, user__is_active=True
        )


class ApiKey(models.Model):
    """One integration's key, bound to one organization and one role.

    The key acts through its own membership (a service user that cannot sign in), so the
    role's capabilities, the `visible_to` scopes and the consent policy apply to it exactly
    as to a person of that role, and the audit trail names the key's user as the actor.

    Only a salted SHA-256 of the secret is kept. A fast hash is enough here: the secret is
    32 random bytes (256 bits), so guessing it from the hash is infeasible however fast the
    hash is, while a deliberately slow password hash would add its cost to every request.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="api_keys"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField("label", max_length=100)
    # Public part of the key, shown in lists and used to find the row.
    prefix = models.CharField(max_length=16, unique=True)
    salt = models.CharField(max_length=32)
    secret_hash = models.CharField(max_length=64)
    user = models.OneToOneField(
        "organizations.User", on_delete=models.PROTECT, related_name="api_key"
    )
    membership = models.OneToOneField(
        "organizations.Membership", on_delete=models.PROTECT, related_name="api_key"
    )
    created_by = models.ForeignKey(
        "organizations.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_api_keys",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "organizations.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="revoked_api_keys",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        # The table api/ created before the model moved here (issue 13); renaming it would
        # only churn the database.
        db_table = "api_apikey"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API key {self.prefix} ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first successful response to a POST carrying an `Idempotency-Key`, replayed to
    retries of the same request by the same caller (a key's service user, or a person)."""

    user = models.ForeignKey(
        "organizations.User", on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "api_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_per_caller")
        ]

    def __str__(self) -> str:
        return f"Idempotency {self.key} ({self.method} {self.path})"
