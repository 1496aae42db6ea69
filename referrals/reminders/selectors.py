"""Reads for the reminder pages: the backbone's stalled referrals and the network's rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from clients.models import Client
from consent.categories import Category
from organizations.models import Organization, Partnership

from ..models import NetworkHoliday, Referral, ReminderRules
from .rules import DEFAULT_RULES, network_rules


def stalled_referrals(org: Organization, now: datetime) -> QuerySet[Referral]:
    """The network's overdue referrals at `now` (the one rule, `Referral.objects.overdue`):
    the referrals the receivers' inboxes flag as overdue, so the backbone's list and count
    agree with them. Those the sweep escalated (overdue the network's number of times) come
    first, then the longest waiting — for the backbone only (anyone else: none)."""
    if not org.is_backbone:
        return Referral.objects.none()
    return (
        Referral.objects.filter(network_id=org.network_id)
        .overdue(now)
        .select_related("program", "sender_organization", "receiver_organization", "assigned_to")
        .order_by(
            F("escalated_at").asc(nulls_last=True),
            F("waiting_since").asc(nulls_last=True),
            "sent_at",
            "id",
        )
    )


def stalled_counts(org: Organization, now: datetime) -> tuple[int, int]:
    """How many of the network's referrals are overdue at `now`, and how many of those were
    escalated: one query, for the backbone's dashboard."""
    counts = (
        stalled_referrals(org, now)
        .order_by()
        .aggregate(overdue=Count("pk"), escalated=Count("pk", filter=Q(escalated_at__isnull=False)))
    )
    return counts["overdue"], counts["escalated"]


def client_names_visible(org: Organization, client_ids: Iterable[int]) -> dict[int, str]:
    """The names of those clients whose demographics `org` may see now (consent.policy), in
    one query; the others are left out."""
    ids = set(client_ids)
    if not ids:
        return {}
    rows = Client.objects.visible_to(org, Category.DEMOGRAPHICS).filter(pk__in=ids)
    return {
        pk: f"{given} {family}"
        for pk, given, family in rows.values_list("pk", "given_name", "family_name")
    }


def rules_page(org: Organization) -> dict:
    """The network's rules in force, its holidays from a month ago on, and every
    partnership of the network with its override (if any)."""
    network_id = org.network_id
    row = ReminderRules.objects.filter(network_id=network_id, partnership__isnull=True).first()
    rules = network_rules(network_id)
    since = timezone.localdate() - timedelta(days=31)
    holidays = NetworkHoliday.objects.visible_to(org).filter(date__gte=since).order_by("date")
    partnerships = (
        Partnership.objects.visible_to(org)
        .select_related("reminder_rules")
        .prefetch_related("organizations")
        .order_by("name")
    )
    return {
        "network_row": row,
        "rules": rules,
        "defaults": DEFAULT_RULES,
        "holidays": holidays,
        "partnerships": [(p, _override(p)) for p in partnerships],
    }


def _override(partnership: Partnership) -> ReminderRules | None:
    try:
        return partnership.reminder_rules
    except ReminderRules.DoesNotExist:
        return None
