"""Writes for reminders: the network's rules, partnership overrides, holidays, and each
person's email preference. Changes are audited (field names only)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from audit.services import audit_record
from organizations.models import Network, Organization, Partnership, User

from ..models import NetworkHoliday, NotificationPreference, ReminderRules
from .rules import RULE_FIELDS


def _require_backbone_of(network: Network, organization: Organization) -> None:
    if not organization.is_backbone or organization.network_id != network.pk:
        raise PermissionDenied(gettext("Only the network's backbone sets its reminder rules."))


@transaction.atomic
def reminder_rules_set(
    *,
    network: Network,
    values: dict[str, int | None],
    actor: User,
    organization: Organization,
    partnership: Partnership | None = None,
) -> ReminderRules | None:
    """Set the network's rules, or (with `partnership`) that partnership's override.

    An empty value means "the default": Linkage's for the network, the network's for a
    partnership. An override left with no value at all is removed. Referrals keep the due
    moments they were given; the new rules apply from their next send, acceptance or
    update."""
    _require_backbone_of(network, organization)
    if partnership is not None and partnership.network_id != network.pk:
        raise ValidationError(gettext("That partnership is in another network."))
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown rule(s): {', '.join(sorted(unknown))}.")
    row = ReminderRules.objects.select_for_update().filter(
        network=network, partnership=partnership
    ).first() or ReminderRules(network=network, partnership=partnership)
    changed = [f for f in RULE_FIELDS if f in values and getattr(row, f) != values[f]]
    for field in changed:
        setattr(row, field, values[field])
    row.full_clean(exclude=["network", "partnership"])
    detail = {"fields": changed, "partnership": partnership.pk if partnership else None}
    if partnership is not None and all(getattr(row, f) is None for f in RULE_FIELDS):
        if row.pk is not None:
            audit_record(
                action="update",
                object_type="reminder_rules",
                object_ids=[row.pk],
                actor=actor,
                organization=organization,
                detail={**detail, "removed": True},
            )
            row.delete()
        return None
    row.updated_at = timezone.now()
    row.save()
    if changed:
        audit_record(
            action="update",
            object_type="reminder_rules",
            object_ids=[row.pk],
            actor=actor,
            organization=organization,
            detail=detail,
        )
    return row


@transaction.atomic
def network_holiday_add(
    *, network: Network, day: date, name: str, actor: User, organization: Organization
) -> NetworkHoliday:
    """A holiday the network's business days skip (from the next due moment computed)."""
    _require_backbone_of(network, organization)
    name = name.strip()
    if not name:
        raise ValidationError({"name": gettext("Name the holiday.")})
    try:
        with transaction.atomic():
            holiday = NetworkHoliday.objects.create(network=network, date=day, name=name)
    except IntegrityError:
        raise ValidationError(
            {
                "date": gettext("%(date)s is a holiday already.")
                % {"date": date_format(day, "M j, Y")}
            }
        ) from None
    audit_record(
        action="create",
        object_type="network_holiday",
        object_ids=[holiday.pk],
        actor=actor,
        organization=organization,
        detail={"date": day.isoformat()},
    )
    return holiday


@transaction.atomic
def network_holiday_remove(
    *, holiday: NetworkHoliday, actor: User, organization: Organization
) -> None:
    _require_backbone_of(holiday.network, organization)
    audit_record(
        action="update",
        object_type="network_holiday",
        object_ids=[holiday.pk],
        actor=actor,
        organization=organization,
        detail={"date": holiday.date.isoformat(), "removed": True},
    )
    holiday.delete()


@transaction.atomic
def notification_preference_set(*, user: User, email_mode: str) -> NotificationPreference:
    """Each notification emailed at once, or one digest a day (in-app is always on)."""
    if email_mode not in NotificationPreference.EmailMode.values:
        raise ValidationError({"email_mode": gettext("Choose how you want notification emails.")})
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_mode": email_mode, "updated_at": timezone.now()}
    )
    return preference
