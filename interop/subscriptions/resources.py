"""The Subscription resource as Linkage reads and writes it: the backport's R4 profile
(http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription).

    {"resourceType": "Subscription", "status": "requested", "reason": "...",
     "criteria": "http://hl7.org/fhir/us/sdoh-clinicalcare/SubscriptionTopic/Task",
     "_criteria": {"extension": [{"url": ".../backport-filter-criteria",
                                  "valueString": "Task?requester=Organization/3"}]},
     "channel": {"type": "rest-hook", "endpoint": "https://ehr.example.org/fhir-hook",
                 "payload": "application/fhir+json",
                 "_payload": {"extension": [{"url": ".../backport-payload-content",
                                             "valueCode": "id-only"}]},
                 "header": ["Authorization: Bearer ..."]}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from interop.fhir.errors import FhirError, Issue, invalid, required
from interop.fhir.validation import moment, resource_of

from . import topic
from .models import Subscription
from .notifications import instant

FHIR_JSON = "application/fhir+json"
MAX_HEADERS = 10
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
# Headers Linkage sets itself (framing, content, identification).
_RESERVED_HEADERS = {
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "user-agent",
    "x-linkage-delivery",
}


@dataclass
class SubscriptionInput:
    topic: str
    filter_criteria: list[str]
    filters: topic.Filters
    endpoint: str
    headers: list[str] = field(default_factory=list)
    content: str = Subscription.Content.ID_ONLY
    end: datetime | None = None
    reason: str = ""


def _extensions(element: dict | None, url: str) -> list[dict]:
    return [e for e in (element or {}).get("extension", []) if e.get("url") == url]


def read_subscription(data, *, organization_id: int) -> SubscriptionInput:
    """A Subscription from a client, checked against what Linkage supports (FhirError 4xx
    with an OperationOutcome naming the element otherwise)."""
    data = resource_of(data, expected="Subscription")
    if data.get("status") not in {"requested", "active"}:
        raise invalid(
            "Subscription.status: create a subscription as requested (or active).",
            expression="Subscription.status",
            code="value",
        )
    criteria = (data.get("criteria") or "").strip()
    if not topic.is_topic(criteria):
        raise invalid(
            f"Subscription.criteria: Linkage offers one topic, {topic.TOPIC_URL} (referral "
            "Task created or changed status).",
            expression="Subscription.criteria",
            code="not-supported",
        )
    filter_criteria = [
        (e.get("valueString") or "").strip()
        for e in _extensions(data.get("_criteria"), topic.FILTER_CRITERIA)
    ]
    try:
        filters = topic.parse_filters(filter_criteria, organization_id=organization_id)
    except topic.FilterRefused as error:
        raise invalid(
            str(error), expression="Subscription.criteria.extension", code="not-supported"
        ) from None
    channel = data.get("channel") or {}
    if channel.get("type") != "rest-hook":
        raise invalid(
            "Subscription.channel.type: only rest-hook is offered.",
            expression="Subscription.channel.type",
            code="not-supported",
        )
    endpoint = (channel.get("endpoint") or "").strip()
    if not endpoint:
        raise required(
            "Subscription.channel.endpoint: give the URL to notify.",
            expression="Subscription.channel.endpoint",
        )
    payload = (channel.get("payload") or "").split(";", 1)[0].strip()
    if payload != FHIR_JSON:
        raise invalid(
            f"Subscription.channel.payload: notifications are sent as {FHIR_JSON}.",
            expression="Subscription.channel.payload",
            code="not-supported",
        )
    contents = [
        e.get("valueCode") for e in _extensions(channel.get("_payload"), topic.PAYLOAD_CONTENT)
    ]
    content = contents[0] if contents else Subscription.Content.ID_ONLY
    if content not in Subscription.Content.values:
        raise invalid(
            f"Subscription.channel.payload content {content!r} is not offered: use id-only "
            "(then read the Task) or empty.",
            expression="Subscription.channel.payload.extension",
            code="not-supported",
        )
    end = None
    if data.get("end"):
        end = moment(data["end"], where="Subscription.end")
        if end <= timezone.now():
            raise invalid("Subscription.end is in the past.", expression="Subscription.end")
    return SubscriptionInput(
        topic=criteria,
        filter_criteria=filter_criteria,
        filters=filters,
        endpoint=endpoint,
        headers=_headers(channel.get("header") or []),
        content=content,
        end=end,
        reason=(data.get("reason") or "").strip()[:300],
    )


def _headers(lines: list[str]) -> list[str]:
    if len(lines) > MAX_HEADERS:
        raise invalid(
            f"Subscription.channel.header: at most {MAX_HEADERS} headers.",
            expression="Subscription.channel.header",
        )
    out = []
    for index, line in enumerate(lines):
        where = f"Subscription.channel.header[{index}]"
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _HEADER_NAME.match(name) or not value:
            raise invalid(f"{where}: write a header as “Name: value”.", expression=where)
        if any(c in value for c in "\r\n\0") or len(value) > 2000:
            raise invalid(f"{where}: the value has line breaks or is too long.", expression=where)
        if name.lower() in _RESERVED_HEADERS:
            raise invalid(f"{where}: Linkage sets {name} itself.", expression=where)
        out.append(f"{name}: {value}")
    return out


def endpoint_refused(error: ValidationError) -> FhirError:
    messages = error.message_dict.get("url") if hasattr(error, "error_dict") else error.messages
    return FhirError(
        422,
        [
            Issue(
                f"Subscription.channel.endpoint: {' '.join(messages)}",
                "business-rule",
                expression=("Subscription.channel.endpoint",),
            )
        ],
    )


def subscription_resource(subscription: Subscription) -> dict:
    """The subscription as read back. Header values are not shown (they are the
    subscriber's credentials): only their names."""
    resource: dict = {
        "resourceType": "Subscription",
        "id": str(subscription.pk),
        "meta": {
            "profile": [topic.SUBSCRIPTION_PROFILE],
            "lastUpdated": instant(subscription.updated_at),
        },
        "status": subscription.current_status(),
        "reason": subscription.reason or "Referral Task changes",
        "criteria": subscription.topic,
        "channel": {
            "type": "rest-hook",
            "endpoint": subscription.endpoint,
            "payload": subscription.payload_type,
            "_payload": {
                "extension": [{"url": topic.PAYLOAD_CONTENT, "valueCode": subscription.content}]
            },
        },
    }
    if subscription.filter_criteria:
        resource["_criteria"] = {
            "extension": [
                {"url": topic.FILTER_CRITERIA, "valueString": text}
                for text in subscription.filter_criteria
            ]
        }
    if subscription.headers:
        resource["channel"]["header"] = [
            f"{line.partition(':')[0]}: ***" for line in subscription.headers
        ]
    if subscription.end:
        resource["end"] = instant(subscription.end)
    if subscription.current_status() == Subscription.Status.ERROR and subscription.error:
        resource["error"] = subscription.error
    elif subscription.disabled_reason:
        resource["error"] = subscription.disabled_reason
    return resource
