"""What a reminder says. Numbers, programs, organizations and dates only — never the
client's name — so an email in the wrong inbox discloses nothing about a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

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
    # "Dec 6, 2026" in English; the month's name in the active language otherwise.
    return date_format(timezone.localtime(moment), "M j, Y")


def _who(referral: Referral) -> str:
    who = referral.receiver_organization.name
    if referral.assigned_to_id:
        who += " " + gettext("(assigned to %(person)s)") % {"person": referral.assigned_to}
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
    values = {
        "id": r.pk,
        "program": r.program_name,
        "sender": r.sender_name,
        "due": day(reminder.due_at),
    }
    if kind == Kind.ACK_OVERDUE and r.status in ACK_STAGE:
        text = (
            gettext(
                "Overdue: referral #%(id)s to %(program)s from %(sender)s is waiting for your "
                "answer (it was due %(due)s). Accept or decline it."
            )
            % values
        )
    elif kind == Kind.UPDATE_OVERDUE and r.status in UPDATE_STAGE:
        text = (
            gettext(
                "Overdue: referral #%(id)s to %(program)s from %(sender)s needs an update (it was "
                "due %(due)s). Record a contact or move it on."
            )
            % values
        )
    elif kind == Kind.FOLLOW_UP_DUE and r.status in FOLLOW_UP_STAGE:
        text = gettext(
            "Follow up: referral #%(id)s to %(program)s was completed on %(closed)s. Check in "
            "with the client about how it went."
        ) % {**values, "closed": day(r.closed_at or reminder.due_at)}
    elif kind == Kind.ESCALATION and r.status in ACK_STAGE:
        text = gettext(
            "Stalled: referral #%(id)s to %(program)s from %(sender)s has been overdue for an "
            "answer %(count)s times; waiting on %(who)s."
        ) % {**values, "count": r.overdue_count, "who": _who(r)}
    elif kind == Kind.ESCALATION and r.status in UPDATE_STAGE:
        text = gettext(
            "Stalled: referral #%(id)s to %(program)s from %(sender)s has been overdue for an "
            "update %(count)s times; waiting on %(who)s."
        ) % {**values, "count": r.overdue_count, "who": _who(r)}
    else:
        return None
    # The backbone's notification names the referral but does not link it (not its own).
    return Subject(message=_fit(text), referral_id=None if kind == Kind.ESCALATION else r.pk)


def _release_subject(reminder: Reminder, now: datetime) -> Subject | None:
    release = Release.objects.select_related("organization").filter(pk=reminder.object_id).first()
    # "In force" is the release's own rule (consent.models.Release.is_active), not a copy.
    if release is None or not release.is_active(now):
        return None
    text = gettext(
        "Release of information #%(id)s (captured by %(organization)s) expires on %(date)s. "
        "Renew it with the client to keep sharing."
    ) % {
        "id": release.pk,
        "organization": release.organization.name,
        "date": day(release.expires_at),
    }
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
    text = gettext(
        "Rescreening due: client #%(id)s was last screened with %(instrument)s on %(date)s by "
        "%(organization)s."
    ) % {
        "id": assessment.client_id,
        "instrument": assessment.instrument.title,
        "date": day(assessment.completed_at),
        "organization": assessment.organization.name,
    }
    return Subject(message=_fit(text))


def _fit(text: str) -> str:
    return text if len(text) <= MESSAGE_LENGTH else text[: MESSAGE_LENGTH - 1] + "…"
