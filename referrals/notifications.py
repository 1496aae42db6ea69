"""Who is told what about a referral. Notifications are rows (in-app) plus an email queued
after the transaction commits; messages never name the client."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from consent import policy
from consent.categories import Category
from organizations.models import Membership, User

from .models import Notification, Referral
from .workflow import MIRRORS, TERMINAL


def _members_of(org_id: int | None) -> list[int]:
    if org_id is None:
        return []
    return list(
        Membership.objects.filter(organization_id=org_id, is_active=True).values_list(
            "user_id", flat=True
        )
    )


def _lead_navigator(referral: Referral) -> list[int]:
    """The client's lead navigator, when their organization is party to the referral or a
    release lets it see the client's referrals: a notification says a referral exists, to
    which program, and how it ended — referral details the policy guards."""
    client = referral.client
    if client.lead_navigator_id is None:
        return []
    lead = (
        Membership.objects.filter(pk=client.lead_navigator_id, is_active=True)
        .select_related("organization")
        .first()
    )
    if lead is None:
        return []
    party = lead.organization_id in (
        referral.sender_organization_id,
        referral.receiver_organization_id,
    )
    if not party and not policy.may_see(lead.organization, Category.REFERRALS, client):
        return []
    return [lead.user_id]


def _notify(
    referral: Referral,
    user_ids: Iterable[int],
    *,
    kind: str,
    message: Callable[[], str],
    actor=None,
):
    """`message` builds the text in the active language: each recipient's row (and so the
    email made from it) is written in the language that person picked."""
    skip = getattr(actor, "pk", None)
    recipients = sorted({u for u in user_ids if u is not None and u != skip})
    if not recipients:
        return []
    languages = dict(User.objects.filter(pk__in=recipients).values_list("pk", "language"))
    texts: dict[str, str] = {}
    for language in set(languages.values()):
        with translation.override(language or settings.LANGUAGE_CODE):
            texts[language] = message()
    rows = Notification.objects.bulk_create(
        [
            Notification(
                user_id=u, referral=referral, kind=kind, message=texts[languages.get(u, "")]
            )
            for u in recipients
            if u in languages
        ]
    )
    ids = [n.pk for n in rows]

    def queue():
        from config.broker import publish

        from .tasks import deliver_notification_email

        # After the commit: with the broker down the change stands and the person sees no
        # error; the emails are still unsent in the database and the sweep queues them.
        # Rows the same transaction already counted as emailed (the demo's months-old
        # history) are not queued only to be skipped.
        unsent = list(
            Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        if unsent:
            publish(deliver_notification_email, unsent)

    transaction.on_commit(queue)
    return rows


def _person_or_team(user_id: int | None, org_id: int | None) -> list[int]:
    """The person, while they still work at the organization; otherwise (they left, or
    nobody in particular) everyone there — never someone who has left."""
    team = _members_of(org_id)
    if user_id is not None and user_id in team:
        return [user_id]
    return team


def _receiver_people(referral: Referral) -> list[int]:
    return _person_or_team(referral.assigned_to_id, referral.receiver_organization_id)


def _sender_people(referral: Referral) -> list[int]:
    return _person_or_team(referral.sender_user_id, referral.sender_organization_id)


def referral_created(referral: Referral, *, actor: User | None = None) -> None:
    """The receiving organization's people, and the client's lead navigator (not the
    person who sent or logged it)."""

    def message() -> str:
        return gettext("New referral #%(id)s to %(program)s from %(sender)s.") % {
            "id": referral.pk,
            "program": referral.program_name,
            "sender": referral.sender_name,
        }

    _notify(
        referral,
        _members_of(referral.receiver_organization_id) + _lead_navigator(referral),
        kind="referral_created",
        message=message,
        actor=actor or referral.sender_user,
    )


def referral_moved(referral: Referral, *, before: str, actor: User | None, move: str = "") -> None:
    """A status change: the sender's person, the receiver's assignee (or everyone there),
    and — for outcomes — the client's lead navigator. The message says why when the reason
    is Linkage's own (a revoked release) or a code (an outcome, a decline reason), never a
    person's free text.

    A referral following the routed referral that fulfils it (`move` one of MIRRORS) tells
    only its sender: its receiver, the backbone, sent the routed referral and has just been
    told of that one's move, as has a lead navigator who may see it."""

    def message() -> str:
        status = referral.get_status_display().lower()
        if referral.business_status == Referral.BusinessStatus.WAITLISTED:
            status = gettext("on the waitlist")
        text = gettext("Referral #%(id)s to %(program)s is now %(status)s.") % {
            "id": referral.pk,
            "program": referral.program_name,
            "status": status,
        }
        if referral.outcome:
            text = text[:-1] + f": {referral.get_outcome_display().lower()}."
        elif referral.status == Referral.Status.REJECTED and referral.decline_reason:
            # The code, never the explanation (free text may name the client).
            text = text[:-1] + f": {referral.get_decline_reason_display().lower()}."
        elif actor is None and referral.status_reason:
            text = text[:-1] + f": {referral.status_reason[0].lower()}{referral.status_reason[1:]}"
        return text

    people = _sender_people(referral)
    mirrored = move in MIRRORS
    if not mirrored:
        people += _receiver_people(referral)
    if referral.status in TERMINAL:
        lead = _lead_navigator(referral)
        part = referral.subreferrals.order_by("-id").first() if mirrored else None
        if part is not None:
            lead = [u for u in lead if u not in _lead_navigator(part)]
        people += lead
    _notify(referral, people, kind="referral_status", message=message, actor=actor)


def referral_contact_recorded(referral: Referral, *, actor: User, successful: bool) -> None:
    """The sender's person: the receiver reached the client, or tried and could not (an
    attempt is never announced as a contact)."""

    def message() -> str:
        if successful:
            text = gettext("Referral #%(id)s to %(program)s: the receiver reached the client.")
        else:
            text = gettext(
                "Referral #%(id)s to %(program)s: the receiver tried to reach the client and "
                "could not."
            )
        return text % {"id": referral.pk, "program": referral.program_name}

    _notify(
        referral, _sender_people(referral), kind="referral_contact", message=message, actor=actor
    )


def referral_appointment_scheduled(referral: Referral, *, actor: User) -> None:
    """The sender's person: the receiver booked (or moved) the client's appointment."""

    def message() -> str:
        return gettext(
            "Referral #%(id)s to %(program)s: the receiver scheduled the client's appointment."
        ) % {"id": referral.pk, "program": referral.program_name}

    _notify(
        referral,
        _sender_people(referral),
        kind="referral_scheduled",
        message=message,
        actor=actor,
    )


def referral_note_added(referral: Referral, note) -> None:
    """The other side of the thread."""
    if note.organization_id == referral.sender_organization_id:
        people = _receiver_people(referral)
    else:
        people = _sender_people(referral)

    def message() -> str:
        return gettext("New note on referral #%(id)s from %(organization)s.") % {
            "id": referral.pk,
            "organization": note.organization.name,
        }

    _notify(referral, people, kind="referral_note", message=message, actor=note.author)


def referral_routed(referral: Referral, *, actor: User) -> None:
    """The backbone routed a referral it received to a program: the sender's person is
    told that it is on its way (the routed referral's own notification tells the
    program's people)."""

    def message() -> str:
        return gettext(
            "Referral #%(id)s to %(program)s was routed to a program by %(organization)s."
        ) % {
            "id": referral.pk,
            "program": referral.program_name,
            "organization": referral.receiver_organization.name,
        }

    _notify(
        referral, _sender_people(referral), kind="referral_routed", message=message, actor=actor
    )
