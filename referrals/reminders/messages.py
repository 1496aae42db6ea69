"""What a reminder says. Numbers, programs, organizations and dates only — never the
client's name — so an email in the wrong inbox discloses nothing about a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from assessments.models import Assessment
from consent.models import Release

from ..models import Referral, Reminder
from .schedule import ACK_STAGE, FOLLOW_UP_STAGE, UPDATE_STAGE

MESSAGE_LENGTH = 300  # Notification.message


@dataclass(frozen=True)
class Subject:
    """A reminder made ready to deliver: its message, and the referral it concerns."""

    message: str
    referral_id: int | None = None


def path_for(kind: str, object_type: str, object_id: int) -> str:
    """The page a reminder points to. An escalation goes to the backbone, which is no party
    to the referral (and cannot open it): it points to the stalled-referrals list."""
    if kind == Reminder.Kind.ESCALATION:
        return reverse("stalled_referrals")
    name = {
        Reminder.ObjectType.REFERRAL: "referral_detail",
        Reminder.ObjectType.RELEASE: "release_detail",
        Reminder.ObjectType.ASSESSMENT: "assessment_result",
    }[object_type]
    return reverse(name, args=[object_id])


def day(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%b} {local.day}, {local.year}"


def _who(referral: Referral) -> str:
    who = referral.receiver_organization.name
    if referral.assigned_to_id:
        who += f" (assigned to {referral.assigned_to})"
    return who


def subject_for(reminder: Reminder, now: datetime) -> Subject | None:
    """The reminder's message, or None when it no longer applies: the referral was
    answered or updated since, the release revoked, the client rescreened."""
    if reminder.object_type == Reminder.ObjectType.REFERRAL:
        return _referral_subject(reminder)
    if reminder.object_type == Reminder.ObjectType.RELEASE:
        return _release_subject(reminder, now)
    if reminder.object_type == Reminder.ObjectType.ASSESSMENT:
        return _assessment_subject(reminder)
    return None


def _referral_subject(reminder: Reminder) -> Subject | None:
    r = (
        Referral.objects.select_related(
            "program", "sender_organization", "receiver_organization", "assigned_to"
        )
        .filter(pk=reminder.object_id)
        .first()
    )
    if r is None:
        return None
    kind, Kind = reminder.kind, Reminder.Kind
    label = f"referral #{r.pk} to {r.program_name}"
    if kind == Kind.ACK_OVERDUE and r.status in ACK_STAGE:
        text = (
            f"Overdue: {label} from {r.sender_name} is waiting for your answer (it was due "
            f"{day(reminder.due_at)}). Accept or decline it."
        )
    elif kind == Kind.UPDATE_OVERDUE and r.status in UPDATE_STAGE:
        text = (
            f"Overdue: {label} from {r.sender_name} needs an update (it was due "
            f"{day(reminder.due_at)}). Record a contact or move it on."
        )
    elif kind == Kind.FOLLOW_UP_DUE and r.status in FOLLOW_UP_STAGE:
        text = (
            f"Follow up: {label} was completed on {day(r.closed_at or reminder.due_at)}. "
            "Check in with the client about how it went."
        )
    elif kind == Kind.ESCALATION and (r.status in ACK_STAGE or r.status in UPDATE_STAGE):
        owed = "an answer" if r.status in ACK_STAGE else "an update"
        text = (
            f"Stalled: {label} from {r.sender_name} has been overdue for {owed} "
            f"{r.overdue_count} times; waiting on {_who(r)}."
        )
    else:
        return None
    # The backbone's notification names the referral but does not link it (not its own).
    return Subject(message=_fit(text), referral_id=None if kind == Kind.ESCALATION else r.pk)


def _release_subject(reminder: Reminder, now: datetime) -> Subject | None:
    release = Release.objects.select_related("organization").filter(pk=reminder.object_id).first()
    # "In force" is the release's own rule (consent.models.Release.is_active), not a copy.
    if release is None or not release.is_active(now):
        return None
    text = (
        f"Release of information #{release.pk} (captured by {release.organization.name}) "
        f"expires on {day(release.expires_at)}. Renew it with the client to keep sharing."
    )
    return Subject(message=_fit(text))


def _assessment_subject(reminder: Reminder) -> Subject | None:
    assessment = (
        Assessment.objects.select_related("instrument", "organization")
        .filter(pk=reminder.object_id)
        .first()
    )
    if assessment is None:
        return None
    newer = Assessment.objects.filter(
        client_id=assessment.client_id,
        instrument__key=assessment.instrument.key,
        status=Assessment.Status.COMPLETED,
        completed_at__gt=assessment.completed_at,
    )
    if newer.exists():
        return None
    text = (
        f"Rescreening due: client #{assessment.client_id} was last screened with "
        f"{assessment.instrument.title} on {day(assessment.completed_at)} by "
        f"{assessment.organization.name}."
    )
    return Subject(message=_fit(text))


def _fit(text: str) -> str:
    return text if len(text) <= MESSAGE_LENGTH else text[: MESSAGE_LENGTH - 1] + "…"
