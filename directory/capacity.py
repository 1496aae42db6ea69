"""A program's capacity: open, waitlist or closed (the IG's value set
SDOHCC-ValueSetCapacityStatus, from the temporary code system in `organizations.sdoh`).

How many referrals a program holds open is the referrals app's to say (which statuses hold
a place). The directory sits below referrals and cannot import it, so referrals registers
its counter here when it loads (`referrals.apps`) and the directory asks through
`with_capacity`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from .models import Program

OpenReferralCounter = Callable[["QuerySet[Program]"], "QuerySet[Program]"]

_open_referral_counter: OpenReferralCounter | None = None


class CapacityState(models.TextChoices):
    """A program's capacity as people read it (open / waitlist / closed); the values are the
    IG's capacity status codes. `additional-assessment-required` is not a state a program
    is in, so Linkage does not use it."""

    OPEN = "capacity", gettext_lazy("Open")
    WAITLIST = "waitlist", gettext_lazy("Waitlist")
    CLOSED = "no-capacity", gettext_lazy("Closed")


def capacity_state(
    *, accepting: bool, manual_waitlist: bool, capacity: int | None, open_referrals: int
) -> CapacityState:
    """The capacity state of a program.

    Not accepting referrals: closed. Program staff put it on the waitlist by hand: waitlist.
    A capacity is set and the program holds that many open referrals (or more): waitlist,
    new referrals queue. Otherwise open.
    """
    if not accepting:
        return CapacityState.CLOSED
    if manual_waitlist:
        return CapacityState.WAITLIST
    if capacity is not None and open_referrals >= capacity:
        return CapacityState.WAITLIST
    return CapacityState.OPEN


def count_open_referrals_with(counter: OpenReferralCounter) -> None:
    """Register the function that annotates `open_referrals` on a queryset of programs."""
    global _open_referral_counter
    _open_referral_counter = counter


def with_capacity(programs: QuerySet[Program]) -> QuerySet[Program]:
    """`programs` with what `Program.capacity_state` needs (`open_referrals`), in the same
    query."""
    if _open_referral_counter is None:
        raise ImproperlyConfigured("The referrals app registers the open-referral counter.")
    return _open_referral_counter(programs)
