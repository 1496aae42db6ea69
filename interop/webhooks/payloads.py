"""What a webhook event says: ids, codes and statuses — never who the client is.

    {
      "id": "status-812",                       # the event; the same in every retry
      "type": "referral.status_changed",        # or "referral.note_added"
      "occurred_at": "2031-05-05T14:00:00Z",
      "organization": 3,                        # the receiving system's own organization
      "referral": {"id": 42, "status": "accepted", "previous_status": "requested",
                   "business_status": "", "outcome": null, "decline_reason": null,
                   "client": 9, "program": 7,
                   "sender_organization": 3, "receiver_organization": 4, "part_of": null,
                   "api_url": ".../api/v1/referrals/42/", "fhir_task_url": ".../fhir/r4/Task/42"},
      "note": {"id": 5, "organization": 4, "created_at": "..."},   # note events only
      "fhir_task": {...}                        # only if the endpoint asked for it
    }

Free text (reasons, outcome notes, note bodies) stays out: the receiving system reads it
through the API, where the read is audited. The outcome code (on completion), the decline
reason code (on a decline) and the Task are included only when the consent policy lets the
organization see the referral's details (its own referral, or a release covering referral
details); the Task never names the client.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse

from consent import policy
from organizations.models import Organization
from referrals.models import Referral


@dataclass(frozen=True)
class Event:
    """One announced change of a referral, as the fan-out read it from the database."""

    key: str  # "status-<ReferralEvent id>" / "note-<ReferralNote id>"
    type: str  # Delivery.EventType
    occurred_at: datetime
    referral: Referral
    status: str  # the status the event moved to (or the referral's, for a note)
    previous_status: str = ""
    business_status: str = ""
    note_id: int | None = None
    note_organization_id: int | None = None


def webhook_payload(event: Event, *, organization: Organization, include_task: bool) -> dict:
    referral = event.referral
    sight = policy.referral_sight(organization, referral)
    # The coded outcome and decline reason are what the receiver recorded.
    details = sight.receiver_record
    body: dict = {
        "id": event.key,
        "type": event.type,
        "occurred_at": _instant(event.occurred_at),
        "organization": organization.pk,
        "referral": {
            "id": referral.pk,
            "status": event.status,
            "previous_status": event.previous_status or None,
            "business_status": event.business_status,
            "outcome": (referral.outcome or None)
            if details and event.status == "completed"
            else None,
            "decline_reason": (referral.decline_reason or None)
            if details and event.status == "rejected"
            else None,
            "client": referral.client_id,
            "program": referral.program_id,
            "sender_organization": referral.sender_organization_id,
            "receiver_organization": referral.receiver_organization_id,
            "part_of": referral.part_of_id,
            "api_url": absolute(reverse("api-referral-detail", args=[referral.pk])),
            "fhir_task_url": absolute(f"/fhir/r4/Task/{referral.pk}"),
        },
    }
    if event.note_id is not None:
        body["note"] = {
            "id": event.note_id,
            "organization": event.note_organization_id,
            "created_at": _instant(event.occurred_at),
        }
    if include_task and sight.details:
        task = fhir_task(referral, organization, sight)
        if task is not None:
            body["fhir_task"] = task
    return body


def fhir_task(
    referral: Referral, organization: Organization, sight: policy.ReferralSight | None = None
) -> dict | None:
    """The referral's FHIR Task as the FHIR facade renders it, without the client's name
    and without free text (statusReason's text): a webhook body may be logged by the
    receiving side's proxies, so it carries codes only. None if the facade has no Task
    renderer (then the event goes without it)."""
    try:
        from interop.fhir.render import task_resource
    except ImportError:
        return None
    sight = sight or policy.referral_sight(organization, referral)
    return task_resource(referral, sight=replace(sight, demographics=False), free_text=False)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
