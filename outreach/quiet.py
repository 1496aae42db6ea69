"""Quiet hours: local wall-clock times (the network's time zone, settings.TIME_ZONE) when no
message goes out; one that falls due inside them waits for their end."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone


def quiet_until(start: time | None, end: time | None, now: datetime) -> datetime | None:
    """When the quiet hours around `now` end, or None when `now` is outside them (or none
    are set). A window may run over midnight (21:00-08:00)."""
    if start is None or end is None or start == end:
        return None
    local = timezone.localtime(now)
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date()
    if clock >= end:  # over midnight, before it: the window ends tomorrow morning
        day += timedelta(days=1)
    # Built from the local date and time, then made aware, so the end is the wall-clock
    # time the client chose even across a daylight-saving change.
    return timezone.make_aware(datetime.combine(day, end))
