"""Consent by link: a one-time link for the client to sign a release on their own phone.

Staff make the link with the release's terms (`release_link_create`); outreach delivers it
when `release_link_created` fires. The client opens it, reads the release in their language,
types their name and confirms (`release_link_sign`): the release is captured by consent's
own `release_create`, as an e-signature, with the link's evidence (when, address, browser)
kept on the link. `release_link_signed` then lets referrals send what was waiting for it.

Only the token's SHA-256 is stored: a database reader cannot rebuild a working link, and a
tampered or made-up token finds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from organizations.models import Membership, Organization, User

from . import policy
from .categories import NAMED_RECIPIENTS_ONLY, Category
from .forms import add_months, expiry_moment
from .models import ConsentLink, Release
from .services import MESSAGES, release_create
from .signals import release_link_created, release_link_signed
from .text import agreement, language_or_default

# How long a link works (the issue: expiring). Long enough for a weekend, short enough that
# a forwarded or forgotten message soon stops being a way in.
LINK_LIFETIME = timedelta(hours=72)
TOKEN_BYTES = 32
USER_AGENT_MAX = 500

NO_CONTACT = {
    ConsentLink.Channel.SMS: "The client has no phone number on record to text the link to.",
    ConsentLink.Channel.EMAIL: "The client has no email address on record to send the link to.",
}


class LinkUnavailable(Exception):
    """The token finds no link that can still be signed. `gone`: it was a real link, now
    used or expired (410); otherwise unknown or tampered with (404). Neither says more."""

    def __init__(self, *, gone: bool):
        self.gone = gone
        super().__init__("gone" if gone else "unknown")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def link_url(token: str) -> str:
    return settings.SITE_URL + reverse("release_link_open", kwargs={"token": token})


def client_model():
    """The Client model. Consent sits below clients and never imports it (ARCHITECTURE.md):
    like the foreign keys, it is named, not imported."""
    return apps.get_model("clients", "Client")


def link_clients(org: Organization) -> QuerySet:
    """The clients `org` may make a link for: those whose demographics it may see."""
    return client_model().objects.visible_to(org, Category.DEMOGRAPHICS).select_related("network")


# --- Waiting referrals: a seam, because referrals sits above consent ------------------------

DraftFinder = Callable[[int, int], list[tuple[int, str]]]
_draft_finder: list[DraftFinder] = []


def waiting_drafts_with(finder: DraftFinder) -> None:
    """Referrals registers how to list a client's draft referrals of an organization
    ((id, label) pairs) that a link may hold until the release is signed."""
    _draft_finder[:] = [finder]


def waiting_drafts(client, organization: Organization) -> list[tuple[int, str]]:
    if not _draft_finder:
        return []
    return _draft_finder[0](client.pk, organization.pk)


# --- Writes ----------------------------------------------------------------------------------


def release_link_create(
    *,
    client,
    organization: Organization,
    actor: User,
    recipients: Iterable[Organization],
    all_network_partners: bool,
    categories: Iterable[Category | str],
    purpose: str,
    purpose_other: str = "",
    channel: str,
    waiting_referral_ids: Iterable[int] = (),
) -> tuple[ConsentLink, str]:
    """Make a one-time link for `client` to sign a release with these terms; returns the
    link and its URL (to hand to the client only: never stored, never logged).

    The release's own rules are checked now (as `release_create` will check them again at
    signing): a category, recipients or all partners, never SUD records to all partners,
    recipients active in the client's network, a purpose. Also: the organization may see
    the client, `actor` is its staff, the client has a number or address for the channel,
    and the waiting referrals are drafts of this organization for this client. Raises
    ValidationError (keyed by field) and writes nothing when one fails. Announces
    `release_link_created` after commit, for outreach to deliver the link."""
    recipients = list(recipients)
    categories = sorted({Category(c) for c in categories})
    purpose_other = purpose_other.strip()
    waiting = sorted({int(i) for i in waiting_referral_ids})
    if not policy.may_see(organization, Category.DEMOGRAPHICS, client):
        raise ValidationError("Your organization may not ask this client for a release.")
    client.ensure_current()
    if not Membership.objects.filter(
        user=actor, organization=organization, is_active=True
    ).exists():
        raise ValidationError("Only staff of the organization can send a release link.")

    errors: dict[str, list[str]] = {}
    if not categories:
        errors.setdefault("categories", []).append(MESSAGES["no_category"])
    if not recipients and not all_network_partners:
        errors.setdefault("recipients", []).append(MESSAGES["no_recipient"])
    if all_network_partners and NAMED_RECIPIENTS_ONLY.intersection(categories):
        errors.setdefault("all_network_partners", []).append(MESSAGES["part2_all_partners"])
    if any(r.network_id != client.network_id or not r.is_active for r in recipients):
        errors.setdefault("recipients", []).append(MESSAGES["recipient_outside"])
    if purpose not in Release.Purpose.values:
        errors.setdefault("purpose", []).append("Choose a purpose.")
    elif purpose == Release.Purpose.OTHER and not purpose_other:
        errors.setdefault("purpose_other", []).append(MESSAGES["purpose_other"])
    if channel not in ConsentLink.Channel.values:
        errors.setdefault("channel", []).append("Choose how to send the link.")
    elif not (client.phone if channel == ConsentLink.Channel.SMS else client.email):
        errors.setdefault("channel", []).append(NO_CONTACT[channel])
    if waiting and not set(waiting) <= {pk for pk, _ in waiting_drafts(client, organization)}:
        errors.setdefault("waiting_referrals", []).append(
            "Only your organization's draft referrals for this client can wait for the release."
        )
    if errors:
        raise ValidationError(errors)

    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        link = ConsentLink.objects.create(
            client=client,
            organization=organization,
            created_by=actor,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
            token_hash=token_hash(token),
            channel=channel,
            all_network_partners=all_network_partners,
            categories=[c.value for c in categories],
            purpose=purpose,
            purpose_other=purpose_other if purpose == Release.Purpose.OTHER else "",
            waiting_referral_ids=waiting,
        )
        link.recipients.set(recipients)
        audit_record(
            action=AuditEvent.Action.CREATE,
            object_type="release_link",
            object_ids=[link.pk],
            client_ids=[client.pk],
            actor=actor,
            organization=organization,
            detail={
                "categories": [c.value for c in categories],
                "channel": channel,
                "recipient_ids": sorted(r.pk for r in recipients),
                "waiting_referral_ids": waiting,
            },
        )
        url = link_url(token)
        link_id = link.pk
        transaction.on_commit(
            lambda: release_link_created.send(
                sender=ConsentLink, link_id=link_id, url=url, channel=channel
            )
        )
    return link, url


def link_for_token(token: str, at: datetime | None = None) -> ConsentLink:
    """The link this token opens, if it can still be signed; LinkUnavailable otherwise."""
    link = (
        ConsentLink.objects.filter(token_hash=token_hash(token))
        .select_related("client", "client__network", "organization")
        .first()
    )
    if link is None:
        raise LinkUnavailable(gone=False)
    if link.status_at(at) != "waiting":
        raise LinkUnavailable(gone=True)
    return link


def release_link_sign(
    *,
    token: str,
    esignature_name: str,
    esignature_confirmed: bool,
    signer: str = Release.Signer.CLIENT,
    representative_name: str = "",
    representative_relationship: str = "",
    language: str,
    ip: str | None,
    user_agent: str,
) -> Release:
    """The client signs the release their link offers: the release is recorded by
    `release_create` as an e-signature (signer and typed name as given, in the language
    read), effective now for the network's default term, captured for the link's
    organization by the person who made the link. Nobody of its staff was present, so none
    is named as such. The link is used up, keeping when, from which address and browser.

    Raises LinkUnavailable when the token opens no link that can be signed (already
    signed, even a moment ago by a double tap; expired; unknown), ValidationError (keyed
    by field) when the signature is incomplete or the terms no longer hold (a recipient
    left the network). Nothing is written then. Announces `release_link_signed` after
    commit."""
    with transaction.atomic():
        # Lock and re-check: two taps on "Sign" must make one release.
        found = ConsentLink.objects.select_for_update().filter(token_hash=token_hash(token))
        link = found.first()
        if link is None:
            raise LinkUnavailable(gone=False)
        now = timezone.now()
        if link.status_at(now) != "waiting":
            raise LinkUnavailable(gone=True)
        client = link.client
        today = timezone.localdate(now)
        release = release_create(
            client=client,
            organization=link.organization,
            captured_by=link.created_by,
            recipients=link.recipients.all(),
            all_network_partners=link.all_network_partners,
            categories=link.categories,
            purpose=link.purpose,
            purpose_other=link.purpose_other,
            language=language_or_default(language),
            method=Release.Method.ESIGNATURE,
            esignature_name=esignature_name,
            esignature_confirmed=esignature_confirmed,
            signer=signer,
            representative_name=representative_name,
            representative_relationship=representative_relationship,
            effective_at=now,
            expires_at=expiry_moment(add_months(today, client.network.release_default_months)),
        )
        # Signed on the client's own device: nobody of the organization was there.
        release.staff_present = None
        release.save(update_fields=["staff_present"])
        # One moment: the signature's, as the release records it.
        link.used_at = release.esignature_signed_at
        link.release = release
        link.signed_ip = ip
        link.signed_user_agent = (user_agent or "")[:USER_AGENT_MAX]
        link.save(update_fields=["used_at", "release", "signed_ip", "signed_user_agent"])
        audit_record(
            action=AuditEvent.Action.UPDATE,
            object_type="release_link",
            object_ids=[link.pk],
            client_ids=[client.pk],
            organization=link.organization,
            detail={"signed": True, "release_id": release.pk},
        )
        release_id, link_id = release.pk, link.pk
        transaction.on_commit(
            lambda: release_link_signed.send(
                sender=ConsentLink, release_id=release_id, link_id=link_id
            )
        )
    return release


def link_waiting_result(*, link_id: int, referral_id: int, sent: bool, reason: str = "") -> None:
    """Record what became of a referral that waited for the link's release (referrals calls
    this from its receiver): shown to the organization on the link's page."""
    with transaction.atomic():
        link = ConsentLink.objects.select_for_update().get(pk=link_id)
        results = dict(link.waiting_results)
        results[str(referral_id)] = {"sent": sent, "reason": reason}
        link.waiting_results = results
        link.save(update_fields=["waiting_results"])


# --- Reads -----------------------------------------------------------------------------------


def link_agreement(link: ConsentLink, language: str) -> dict:
    """The release the link offers, as the client reads it (consent/text.py), in
    `language`: dates as they will be if signed today."""
    today = timezone.localdate()
    client = link.client
    return agreement(
        language=language,
        organization_name=link.organization.name,
        network_name=client.network.name,
        recipient_names=[o.name for o in link.recipients.all()],
        all_partners=link.all_network_partners,
        categories=link.categories,
        purpose=link.purpose,
        purpose_other=link.purpose_other,
        effective=today,
        expires=add_months(today, client.network.release_default_months),
        signer=Release.Signer.CLIENT,
        method=Release.Method.ESIGNATURE,
    )


def link_language(link: ConsentLink, wanted: str | None) -> str:
    """The page's language: the one asked for (the switch), else the client's own when
    Spanish, else English."""
    if wanted in Release.Language.values:
        return wanted
    preferred = link.client.preferred_language
    return preferred if preferred == Release.Language.ES else Release.Language.EN
