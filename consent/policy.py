"""The sharing policy: what may organization O see of a client, and of one referral,
assessment, release or note about that client, at time T?

This module is the only place that decision is made. Pages (timelines and print views
too), REST serializers, the FHIR facade, webhook and subscription payloads, emails, CSV
exports and the disclosures report all ask it; querysets use `client_q` / `released_q` /
`recorded_q` so lists obey the same rule in SQL.

The rule (ARCHITECTURE.md, Consent and Tenancy):
- Provenance: an organization always sees what it recorded itself. Creating a client record
  means recording the client's demographics, so the creator sees those; it does not grant
  sight of what other organizations recorded about the client.
- What another organization recorded (its assessments, its referrals' details, notes and
  outcomes; the client's demographics when someone else created the record) needs a release
  in force at T (effective, not expired, not revoked) that covers the category and names O
  as a recipient — or names "all active partners in the network", which covers every
  organization that is party to an active partnership in the client's network at T,
  except for substance-use-disorder records (42 CFR Part 2: named recipients only).
- A referral's two parties always see its status and dates, so the loop closes; the
  referral's author (its sender, or the receiver that logged it) recorded its details.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from organizations.models import Organization, Partnership

from .categories import FIELD_FOR, NAMED_RECIPIENTS_ONLY, Category
from .models import Release

if TYPE_CHECKING:
    from collections.abc import Iterable

# The categories the creator of a client record recorded by creating it.
RECORDED_BY_CREATOR = frozenset({Category.DEMOGRAPHICS})


def release_in_force(release: Release, at: datetime | None = None) -> bool:
    """The one "release in force" test for a release already loaded (querysets use
    `Release.objects.active_at`): effective, not expired, not revoked at `at`."""
    return release.is_active(at or timezone.now())


def is_active_partner(org: Organization, at: datetime | None = None) -> bool:
    """Party to a partnership that is active at `at` in its network."""
    return _active_partnerships(org, at or timezone.now()).exists()


def _active_partnerships(org: Organization, at: datetime) -> QuerySet[Partnership]:
    day = timezone.localdate(at)
    return Partnership.objects.filter(
        network_id=org.network_id,
        organizations=org,
        status=Partnership.Status.ACTIVE,
    ).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=day),
        Q(end_date__isnull=True) | Q(end_date__gte=day),
    )


def covering_releases(
    org: Organization,
    category: Category | str | None,
    at: datetime | None = None,
    *,
    partner: bool | None = None,
) -> QuerySet[Release]:
    """Releases in force at `at` that let `org` see `category` (any category when None) of
    clients in its network. `partner`: `is_active_partner(org, at)` when the caller knows."""
    at = at or timezone.now()
    releases = Release.objects.active_at(at).filter(client__network_id=org.network_id)
    recipient = Q(recipients=org)
    if category is not None:
        category = Category(category)
        releases = releases.covering(category)
    # The database refuses an all-partners release covering SUD records, so "any category"
    # through all partners never includes them.
    if partner is None:
        partner = is_active_partner(org, at)
    if (category is None or category not in NAMED_RECIPIENTS_ONLY) and partner:
        recipient |= Q(all_network_partners=True)
    return releases.filter(recipient).distinct()


def released_categories(org: Organization, client, at: datetime | None = None) -> set[Category]:
    """The categories of `client` that a release in force lets `org` see (one query):
    what `org` may see of what other organizations recorded."""
    if org is None or client is None or client.network_id != org.network_id:
        return set()
    at = at or timezone.now()
    releases = Release.objects.active_at(at).filter(client_id=client.pk)
    if is_active_partner(org, at):
        releases = releases.filter(Q(recipients=org) | Q(all_network_partners=True))
    else:
        releases = releases.filter(recipients=org)
    seen: set[Category] = set()
    for release in releases.distinct().prefetch_related("recipients"):
        named = any(r.pk == org.pk for r in release.recipients.all())
        for category in release.categories:
            if category in NAMED_RECIPIENTS_ONLY and not named:
                continue
            seen.add(category)
    return seen


def visible_categories(org: Organization, client, at: datetime | None = None) -> set[Category]:
    """Every category of `client` that `org` may see at `at` as the client's record: what a
    release lets it see, and the demographics if it created the record."""
    if org is None or client is None:
        return set()
    seen = released_categories(org, client, at)
    if client.created_by_organization_id == org.pk:
        seen |= RECORDED_BY_CREATOR
    return seen


def may_see(
    org: Organization, category: Category | str, client, at: datetime | None = None
) -> bool:
    """May `org` see `category` of `client` at `at` (default: now), as recorded by others
    (or, for demographics, by the record's creator)?"""
    if org is None or client is None:
        return False
    category = Category(category)
    if category in RECORDED_BY_CREATOR and client.created_by_organization_id == org.pk:
        return True
    if client.network_id != org.network_id:
        return False
    return covering_releases(org, category, at).filter(client_id=client.pk).exists()


def may_see_recorded(
    org: Organization,
    category: Category | str,
    client,
    recorded_by_id: int | None,
    at: datetime | None = None,
) -> bool:
    """May `org` see one record of `category` about `client` that organization
    `recorded_by_id` recorded? Its own records always; others' under a release."""
    if org is None:
        return False
    return recorded_by_id == org.pk or may_see(org, category, client, at)


def client_q(
    org: Organization, category: Category | str | None = None, at: datetime | None = None
) -> Q:
    """A filter on Client rows: the clients `org` may see (`category`, or any category when
    None) at `at`. For `Client.objects.filter(client_q(org))`."""
    released = released_q(org, category, at, client_field="pk")
    if category is None or Category(category) in RECORDED_BY_CREATOR:
        return Q(created_by_organization_id=org.pk) | released
    return released


def record_keeping_q(org: Organization, category: Category | str, at: datetime | None = None) -> Q:
    """A filter on Client rows: the clients about whom `org` keeps records of `category`
    (an outcome measure's health results): those whose record it created, and those a
    release in force lets it see that category of. A release revoked since hides the
    records again from all but the record's creator."""
    return Q(created_by_organization_id=org.pk) | released_q(org, category, at, client_field="pk")


def released_q(
    org: Organization,
    category: Category | str | None,
    at: datetime | None = None,
    *,
    client_field: str = "client_id",
) -> Q:
    """A filter on rows about a client (`client_field` names its column): those whose
    client's `category` a release in force lets `org` see."""
    covered = covering_releases(org, category, at).filter(client_id=OuterRef(client_field))
    return Q(Exists(covered.values("pk")))


def recorded_q(
    org: Organization,
    category: Category | str,
    at: datetime | None = None,
    *,
    recorder_field: str = "organization_id",
    client_field: str = "client_id",
) -> Q:
    """A filter on records of `category` about clients: those `org` recorded itself, and
    those of other organizations that a release in force lets it see."""
    return Q(**{recorder_field: org.pk}) | released_q(org, category, at, client_field=client_field)


# --- One referral ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralSight:
    """What one organization may see of one referral. Both parties always see its status
    and dates; the rest follows provenance and releases."""

    viewer_id: int | None
    party: bool
    demographics: bool
    # The needs and the details the referral's author recorded (reason, requested service,
    # the program asked for), and what the other party recorded (reasons of its moves,
    # outcome note, resulting activity, notes, contacts).
    needs: bool
    details: bool
    # What the receiver recorded when closing the referral (the coded outcome or decline
    # reason, the outcome note, the resulting activity): the receiver always, others with
    # `details`.
    receiver_record: bool
    withheld: tuple[str, ...] = field(default=())

    @property
    def redacted(self) -> bool:
        return not (self.needs and self.details)

    @property
    def categories(self) -> list[str]:
        """The client categories shown (for the audit trail)."""
        shown = [Category.REFERRALS.value] if self.details else []
        if self.demographics:
            shown.append(Category.DEMOGRAPHICS.value)
        if self.needs:
            shown.append(Category.SOCIAL_NEEDS.value)
        return sorted(shown)

    def shows_entry(self, organization_id: int | None) -> bool:
        """A timeline entry, note or contact recorded by `organization_id`: its own always,
        the other party's with the referral's details."""
        return self.details or (organization_id is not None and organization_id == self.viewer_id)


def referral_author_id(referral) -> int | None:
    """The organization that put the referral on record: its sender, or the receiver that
    logged a referral arriving by fax or phone."""
    return _author_id(referral.sender_organization_id, referral.receiver_organization_id)


def _author_id(sender_id: int | None, receiver_id: int | None) -> int | None:
    return sender_id or receiver_id


@dataclass(frozen=True, slots=True)
class ReferralParties:
    """The columns of one referral (and of its client) that decide what an organization may
    see of it: enough to answer for a page read as rows (`values()`, a raw cursor) rather
    than as model instances."""

    pk: int
    client_id: int
    client_created_by_organization_id: int | None
    sender_organization_id: int | None
    receiver_organization_id: int | None


def referral_sight(
    org: Organization | None, referral, at: datetime | None = None, *, categories=None
) -> ReferralSight:
    """What `org` may see of `referral` at `at`. `categories` may pass the client's
    `visible_categories` when the caller already has them."""
    if org is None:
        return ReferralSight(None, False, False, False, False, False)
    if categories is None:
        categories = visible_categories(org, referral.client, at)
    return _referral_sight(
        org, referral.sender_organization_id, referral.receiver_organization_id, categories
    )


def _referral_sight(
    org: Organization, sender_id: int | None, receiver_id: int | None, categories
) -> ReferralSight:
    # The one rule for a referral, whichever entry point (one referral, a page of
    # instances, a page of rows) gathered the categories.
    party = org.pk in (sender_id, receiver_id)
    author = org.pk == _author_id(sender_id, receiver_id)
    demographics = Category.DEMOGRAPHICS in categories
    needs = author or Category.SOCIAL_NEEDS in categories
    details = author or Category.REFERRALS in categories
    receiver_record = details or org.pk == receiver_id
    withheld = []
    if not demographics:
        withheld.append(
            "The client's name and contact details: no release in force lets your "
            "organization see them."
        )
    if not needs:
        withheld.append(
            "The needs: the sender recorded them, and no release in force lets your "
            "organization see the client's social needs."
        )
    if not details:
        withheld.append(
            "The referral's details (reasons, notes, outcome note): another organization "
            "recorded them, and no release in force names your organization for referral "
            "details. Its status and dates stay visible."
        )
    return ReferralSight(
        org.pk, party, demographics, needs, details, receiver_record, tuple(withheld)
    )


def referral_sights(
    org: Organization, referrals: Iterable, at: datetime | None = None
) -> dict[int, ReferralSight]:
    """`referral_sight` for a whole page of referrals (clients loaded with them) in a fixed
    number of queries (two), whatever the page's length."""
    return referral_sights_for_parties(
        org,
        [
            ReferralParties(
                r.pk,
                r.client_id,
                r.client.created_by_organization_id,
                r.sender_organization_id,
                r.receiver_organization_id,
            )
            for r in referrals
        ],
        at,
    )


def referral_sights_for_parties(
    org: Organization | None, parties: Iterable[ReferralParties], at: datetime | None = None
) -> dict[int, ReferralSight]:
    """`referral_sight` for a page of referrals given as rows (`ReferralParties`), keyed by
    referral id, in a fixed number of queries (two, none for an empty page) whatever the
    page's length: the consent decision made once per page, not once per referral."""
    parties = list(parties)
    client_ids = {p.client_id for p in parties}
    released: dict[int, set[Category]] = {pk: set() for pk in client_ids}
    shown = (Category.DEMOGRAPHICS, Category.SOCIAL_NEEDS, Category.REFERRALS)
    if org is not None and client_ids:
        # None of these categories is named-recipients-only: every release in force that
        # reaches `org` counts for the categories it covers.
        rows = covering_releases(org, None, at).filter(client_id__in=client_ids)
        columns = [FIELD_FOR[c] for c in shown]
        for client_id, *covers in rows.values_list("client_id", *columns):
            released[client_id].update(c for c, yes in zip(shown, covers, strict=True) if yes)
    out: dict[int, ReferralSight] = {}
    # A page holds few distinct answers (the same parties, the same releases): each is
    # built once and shared (ReferralSight is immutable).
    memo: dict[tuple, ReferralSight] = {}
    for p in parties:
        if org is None:
            out[p.pk] = referral_sight(None, None)
            continue
        categories = released[p.client_id]
        if p.client_created_by_organization_id == org.pk:
            categories = categories | RECORDED_BY_CREATOR
        key = (p.sender_organization_id, p.receiver_organization_id, frozenset(categories))
        sight = memo.get(key)
        if sight is None:
            sight = memo[key] = _referral_sight(
                org, p.sender_organization_id, p.receiver_organization_id, categories
            )
        out[p.pk] = sight
    return out


def redact_referral_fields(sight: ReferralSight, values: dict[str, Any]) -> dict[str, Any]:
    """Blank the referral fields `sight` does not show (for serializers and payloads that
    build a dict of the referral's fields). Unknown keys pass through."""
    hidden: set[str] = set()
    if not sight.needs:
        hidden |= {"needs"}
    if not sight.details:
        # The reason of the last move may be either party's (a sender's cancel reason):
        # shown with the details only.
        hidden |= {"reason", "requested_service", "notes", "status_reason"}
    if not sight.receiver_record:
        hidden |= {"outcome_note", "resulting_activity", "outcome", "decline_reason"}
    out = dict(values)
    for key in hidden & set(out):
        # Blank as the field's type blanks: a list empty, text empty, an object null.
        current = out[key]
        out[key] = [] if isinstance(current, list) else "" if isinstance(current, str) else None
    return out


def visible_entries(sight: ReferralSight, entries: Iterable, *, attr: str = "organization_id"):
    """The timeline entries or notes `sight` shows, in order; the others are left out
    (their existence shows through the referral's status and dates)."""
    return [e for e in entries if sight.shows_entry(getattr(e, attr, None))]


# --- Assessments, releases ---------------------------------------------------------------


def may_see_assessment(org: Organization, assessment, at: datetime | None = None) -> bool:
    """The administering organization sees its assessment; another organization under a
    release covering the client's social needs."""
    return may_see_recorded(
        org, Category.SOCIAL_NEEDS, assessment.client, assessment.organization_id, at
    )


@dataclass(frozen=True)
class ReleaseSight:
    """What one organization may see of a release it captured or is named in: its terms
    always; the client's and the signers' names (demographics) only to the capturing
    organization or under the policy now."""

    terms: bool
    names: bool


def release_sight(org: Organization, release: Release, at: datetime | None = None) -> ReleaseSight:
    if org is None:
        return ReleaseSight(False, False)
    captured = release.organization_id == org.pk
    return ReleaseSight(
        terms=True,
        names=captured or may_see(org, Category.DEMOGRAPHICS, release.client, at),
    )
