"""Business days on a network's calendar: weekends and the network's holidays are skipped."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from django.utils import timezone

# How far ahead holidays are read for one computation: the longest rule (30 business days)
# plus every weekend and a generous number of holidays in between.
_HOLIDAY_HORIZON = timedelta(days=120)


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: datetime, days: int, holidays: Collection[date] = ()) -> datetime:
    """`start` plus `days` business days, at the same local time of day.

    Days are counted on the local calendar (TIME_ZONE), so "2 business days after Friday
    9:00" is Tuesday 9:00 as people read it, whatever daylight saving does in between;
    weekends and `holidays` (local dates) do not count."""
    moment = timezone.localtime(start)
    added = 0
    while added < days:
        moment += timedelta(days=1)
        if is_business_day(moment.date(), holidays):
            added += 1
    # Adding days to an aware datetime keeps the wall time; zoneinfo gives the offset of
    # the new date, so the result is right across a daylight-saving change.
    return moment


def network_holidays(network_id: int | None, since: date) -> frozenset[date]:
    """The network's holidays from `since` on (far enough for any rule)."""
    from ..models import NetworkHoliday

    if network_id is None:
        return frozenset()
    return frozenset(
        NetworkHoliday.objects.filter(
            network_id=network_id, date__gte=since, date__lte=since + _HOLIDAY_HORIZON
        ).values_list("date", flat=True)
    )


def holidays_by_network(network_ids, since: date) -> dict[int, frozenset[date]]:
    """`network_holidays` for several networks in one query."""
    from ..models import NetworkHoliday

    found: dict[int, set[date]] = {n: set() for n in network_ids}
    rows = NetworkHoliday.objects.filter(network_id__in=list(found), date__gte=since)
    for network_id, day in rows.values_list("network_id", "date"):
        found[network_id].add(day)
    return {n: frozenset(days) for n, days in found.items()}
