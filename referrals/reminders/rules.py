"""The reminder rules that apply: a partnership's override, else the network's, else
Linkage's defaults (USERS.md: networks expect a response within 2 business days)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from django.db.models import Q
from django.utils import timezone

from organizations.models import Partnership

from ..models import Referral, ReminderRules


@dataclass(frozen=True)
class Rules:
    ack_business_days: int = 2
    update_every_days: int = 7
    follow_up_after_days: int = 14
    release_expiry_warning_days: int = 30
    escalate_after_overdue_count: int = 2

    def overlaid(self, row: ReminderRules | None) -> Rules:
        """These rules with the fields `row` sets (an empty field keeps ours)."""
        if row is None:
            return self
        values = {f: getattr(row, f) for f in RULE_FIELDS if getattr(row, f) is not None}
        return replace(self, **values)


DEFAULT_RULES = Rules()
RULE_FIELDS = tuple(f.name for f in fields(Rules))


def network_rules(network_id: int) -> Rules:
    """The network's rules (Linkage's defaults where it sets none)."""
    row = ReminderRules.objects.filter(network_id=network_id, partnership__isnull=True).first()
    return DEFAULT_RULES.overlaid(row)


def rules_for(referral: Referral) -> Rules:
    """The rules for one referral: the override of an active partnership that covers both
    the sender and the receiving program's organization, else the network's rules."""
    return rules_for_many([referral])[0]


def rules_for_many(referrals: Iterable[Referral]) -> list[Rules]:
    """`rules_for` of each referral, in order, in three queries whatever their number: the
    networks' rows, the active partnerships' overrides, and those partnerships' parties."""
    referrals = list(referrals)
    network_ids = {r.network_id for r in referrals}
    by_network = {
        row.network_id: row
        for row in ReminderRules.objects.filter(
            network_id__in=network_ids, partnership__isnull=True
        )
    }
    overrides = _overrides(network_ids)
    return [
        DEFAULT_RULES.overlaid(by_network.get(r.network_id)).overlaid(_override_for(r, overrides))
        for r in referrals
    ]


def _overrides(network_ids) -> list[tuple[ReminderRules, frozenset[int]]]:
    """Active partnerships' overrides in these networks, each with its parties' ids."""
    today = timezone.localdate()
    rows = list(
        ReminderRules.objects.filter(
            network_id__in=network_ids,
            partnership__status=Partnership.Status.ACTIVE,
        )
        .filter(
            Q(partnership__start_date__isnull=True) | Q(partnership__start_date__lte=today),
            Q(partnership__end_date__isnull=True) | Q(partnership__end_date__gte=today),
        )
        .order_by("partnership_id")
    )
    if not rows:
        return []
    parties: dict[int, set[int]] = {}
    through = Partnership.organizations.through.objects.filter(
        partnership_id__in=[r.partnership_id for r in rows]
    )
    for partnership_id, org_id in through.values_list("partnership_id", "organization_id"):
        parties.setdefault(partnership_id, set()).add(org_id)
    return [(r, frozenset(parties.get(r.partnership_id, ()))) for r in rows]


def _override_for(referral: Referral, overrides) -> ReminderRules | None:
    """The first (oldest) active partnership of the referral's network whose parties include
    the sender and the receiver. A logged inbound referral (no sender on Linkage) follows
    the network's rules."""
    if referral.sender_organization_id is None:
        return None
    pair = {referral.sender_organization_id, referral.receiver_organization_id}
    for row, parties in overrides:
        if row.network_id == referral.network_id and pair <= parties:
            return row
    return None
