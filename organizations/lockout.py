"""Sign-in lockout: django-axes' database handler, with a second rule per address.

Axes locks one account from one address after AXES_FAILURE_LIMIT failures
(AXES_LOCKOUT_PARAMETERS = username + address). Password spraying — a few guesses at each
of many accounts from one address — never reaches that limit for any one account, so an
address is also locked after AXES_ADDRESS_FAILURE_LIMIT failures across all accounts
within the cool-off. Axes has a single limit for every lockout parameter, hence this
handler rather than a second entry in AXES_LOCKOUT_PARAMETERS (which would lock a shared
clinic address after five typos by one person). A successful sign-in resets only that
account's count (AXES_RESET_ON_SUCCESS), so one known password does not clear the
address's.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Failures as axes counts them (compared with AXES_FAILURE_LIMIT), raised to that
        limit when the address is over its own."""
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        if failures < limit and address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return limit
        return failures


def address_failures(request) -> int:
    """Failed sign-ins from the request's address, across accounts, within the cool-off."""
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
