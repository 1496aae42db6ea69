"""The referral pages (function views; reads in selectors, writes in services)."""

from .compose import referral_log_inbound, referral_new, referral_onward
from .detail import (
    referral_appointment,
    referral_assign,
    referral_contact,
    referral_detail,
    referral_move,
    referral_note,
)
from .lists import referral_inbox, referral_sent
from .notifications import (
    notification_bell,
    notification_list,
    notification_read,
    notification_read_all,
)
from .routing import referral_route

__all__ = [
    "notification_bell",
    "notification_list",
    "notification_read",
    "notification_read_all",
    "referral_appointment",
    "referral_assign",
    "referral_contact",
    "referral_detail",
    "referral_inbox",
    "referral_log_inbound",
    "referral_move",
    "referral_new",
    "referral_note",
    "referral_onward",
    "referral_route",
    "referral_sent",
]
