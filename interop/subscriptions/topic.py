"""The Task topic of the SDOH Clinical Care IG ("Checking Task Status"), as Linkage serves it
through the R5 Subscriptions backport on R4.

Topic: http://hl7.org/fhir/us/sdoh-clinicalcare/SubscriptionTopic/Task — a referral Task
was created or changed status (drafts excluded: the IG's `status:not=draft`). Filters
(`backport-filter-criteria`): `Task?owner=Organization/<id>` (Tasks the organization
receives), `Task?requester=Organization/<id>` (Tasks it sent), each only for the
subscriber's own organization, optionally with `status=<code>[,<code>...]`; no filter
means either side. Notes and finer business-status changes (opened, contacted) do not
notify: pollers see them through `Task?_lastUpdated=gt...`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from referrals.models import Referral
from referrals.workflow import Status

TOPIC_URL = "http://hl7.org/fhir/us/sdoh-clinicalcare/SubscriptionTopic/Task"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
SUBSCRIPTION_PROFILE = BACKPORT + "backport-subscription"
FILTER_CRITERIA = BACKPORT + "backport-filter-criteria"
PAYLOAD_CONTENT = BACKPORT + "backport-payload-content"
NOTIFICATION_PROFILE = BACKPORT + "backport-subscription-notification-r4"
STATUS_PROFILE = BACKPORT + "backport-subscription-status-r4"

# The IG's referral Task statuses (FHIR TaskStatus without ready and received), draft aside.
TASK_STATUSES = frozenset(s.value for s in Status) - {Status.DRAFT.value}
_ORG_REFERENCE = re.compile(r"^(?:.*/)?Organization/(?P<id>[0-9]{1,18})$")


class FilterRefused(ValueError):
    """A filter the topic does not offer, or about someone else's Tasks; the message
    says which."""


@dataclass
class Filters:
    match_owner: bool = True
    match_requester: bool = True
    statuses: list[str] = field(default_factory=list)


def is_topic(criteria: str) -> bool:
    """The topic's canonical, with or without a version (`...|3.0.0`)."""
    return criteria.split("|", 1)[0] == TOPIC_URL


def parse_filters(criteria: list[str], *, organization_id: int) -> Filters:
    """What the filter strings mean, or FilterRefused."""
    sides: set[str] = set()
    statuses: list[str] = []
    for text in criteria:
        resource, _, query = text.strip().partition("?")
        if resource != "Task" or not query:
            raise FilterRefused(
                f"Filter {text!r}: write it as Task?owner=Organization/{organization_id} "
                f"or Task?requester=Organization/{organization_id}."
            )
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name in {"owner", "requester"}:
                match = _ORG_REFERENCE.match(value.strip())
                if match is None or int(match["id"]) != organization_id:
                    raise FilterRefused(
                        f"Filter {name}={value!r}: subscribe only to your own organization's "
                        f"Tasks ({name}=Organization/{organization_id})."
                    )
                sides.add(name)
            elif name == "status":
                codes = [c.strip() for c in value.split(",") if c.strip()]
                unknown = [c for c in codes if c not in TASK_STATUSES]
                if not codes or unknown:
                    raise FilterRefused(
                        f"Filter status={value!r}: use referral Task statuses "
                        f"({', '.join(sorted(TASK_STATUSES))})."
                    )
                statuses += [c for c in codes if c not in statuses]
            else:
                raise FilterRefused(
                    f"Filter {name!r} is not offered: filter on owner, requester or status."
                )
    if sides == {"owner", "requester"}:
        raise FilterRefused(
            "Filter on owner or on requester, not both (a Task has one of each): create "
            "two subscriptions to hear about both sides."
        )
    return Filters(
        match_owner=not sides or "owner" in sides,
        match_requester=not sides or "requester" in sides,
        statuses=statuses,
    )


def matches(subscription, referral: Referral, status: str) -> bool:
    """Does a status change of `referral` to `status` belong to the subscription?"""
    if status == Status.DRAFT:
        return False
    if subscription.statuses and status not in subscription.statuses:
        return False
    org = subscription.organization_id
    return (subscription.match_owner and referral.receiver_organization_id == org) or (
        subscription.match_requester and referral.sender_organization_id == org
    )
