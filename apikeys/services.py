"""Creating and revoking API keys, checking their secrets, and forgetting old idempotency
records."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from organizations.models import Membership, Organization, User
from organizations.roles import Role

from .models import ApiKey, IdempotencyRecord

KEY_PREFIX = "lk"

# How fresh a key's `last_used_at` is kept: admins read it in minutes and days ("3 minutes
# ago", "never"), so one write a minute tells them the same as one per request did.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str, salt: str) -> str:
    """The salted SHA-256 kept for a key's secret."""
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    """`lk_<prefix>_<secret>` -> (prefix, secret); None when it is not shaped like a key."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def secret_matches(api_key: ApiKey, secret: str) -> bool:
    """Whether `secret` is the key's, compared in constant time."""
    return hmac.compare_digest(api_key.secret_hash, hash_secret(secret, api_key.salt))


def api_key_mark_used(*, api_key: ApiKey, now: datetime) -> bool:
    """Record that `api_key` was used at `now`, at most once a minute
    (LAST_USED_RESOLUTION). Returns whether it wrote.

    A write on every request would cost each API call an UPDATE, and its row lock would
    queue a busy integration's concurrent requests behind one another. The in-memory check
    skips the statement within the minute; the conditional UPDATE lets only one of several
    requests arriving together (in different workers) write."""
    last = api_key.last_used_at
    if last is not None and last <= now < last + LAST_USED_RESOLUTION:
        return False
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    # A clock that went back (last use "in the future") is corrected too.
    stale |= Q(last_used_at__gt=now)
    written = ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now)
    if written:
        api_key.last_used_at = now
    return bool(written)


@transaction.atomic
def api_key_create(
    *, organization: Organization, role: str, name: str, created_by: User | None = None
) -> tuple[ApiKey, str]:
    """A new key for `organization` acting with `role`. Returns the key row and the full
    key, which is shown once and never stored (only its salted hash is)."""
    name = name.strip()
    errors = {}
    if not name:
        errors["name"] = "Give the key a label (the integration it is for)."
    if role not in Role.values:
        errors["role"] = f"Unknown role {role!r}; one of: {', '.join(Role.values)}."
    if not organization.is_active:
        errors["organization"] = "The organization is not active."
    if errors:
        raise ValidationError(errors)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    # The key's own user: it cannot sign in (no usable password) and exists so that the
    # key acts through an ordinary membership and is named as the actor in the audit trail.
    user = User.objects.create_user(
        email=f"api-key-{prefix}@api-keys.invalid",
        password=None,
        first_name="API key",
        last_name=name[:150],
    )
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    api_key = ApiKey.objects.create(
        organization=organization,
        role=role,
        name=name,
        prefix=prefix,
        salt=salt,
        secret_hash=hash_secret(secret, salt),
        user=user,
        membership=membership,
        created_by=created_by,
    )
    audit_record(
        action="create",
        object_type="api_key",
        object_ids=[api_key.pk],
        actor=created_by,
        organization=organization,
        detail={"role": role},
    )
    return api_key, f"{KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: User | None) -> ApiKey:
    """Revoke a key now: the next request with it gets 401. Revoking twice changes nothing."""
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is not None:
        return api_key
    api_key.revoked_at = timezone.now()
    api_key.revoked_by = actor
    api_key.save(update_fields=["revoked_at", "revoked_by"])
    Membership.objects.filter(pk=api_key.membership_id).update(is_active=False)
    User.objects.filter(pk=api_key.user_id).update(is_active=False)
    audit_record(
        action="revoke",
        object_type="api_key",
        object_ids=[api_key.pk],
        actor=actor,
        organization=api_key.organization,
    )
    return api_key


def idempotency_records_prune(*, older_than: timedelta) -> int:
    """Forget remembered responses older than `older_than` (clients retry within minutes;
    keeping them longer only grows the table). Returns how many were deleted."""
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
