"""Reads for the client pages: duplicate detection, search, the profile, disclosures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from consent.categories import Category
from organizations.models import Network, Organization

from .models import Client, ClientIdentifier, LeadNavigatorAssignment, PossibleDuplicate
from .normalize import NICKNAMES, digits, fold, normalize_name


class Strength:
    LIKELY = "likely"
    POSSIBLE = "possible"


@dataclass(frozen=True)
class Match:
    """A client record that may be the person being entered, and why."""

    client: Client
    strength: str  # Strength.LIKELY or Strength.POSSIBLE
    reason: str

    @property
    def is_likely(self) -> bool:
        return self.strength == Strength.LIKELY


def _zip5(zip_code: str) -> str:
    return digits(zip_code)[:5]


def _phone10(phone: str) -> str:
    return digits(phone)[-10:]


def _given_keys(name: str) -> set[str]:
    """The whole name's key and its first word's key: "Maria Elena" also matches "Maria"."""
    keys = {normalize_name(name)}
    words = fold(name).split(" ")
    if words and words[0]:
        keys.add(NICKNAMES.get(words[0], words[0]))
    keys.discard("")
    return keys


def _family_matches(typed: str, typed_key: str, candidate: Client) -> bool:
    """Same family name once case, accents and hyphens are gone; or one of two surnames
    ("García" for "García López": many people with two surnames use only the first)."""
    if typed_key and typed_key == candidate.family_name_key:
        return True
    typed_words = set(fold(typed).split(" ")) - {""}
    their_words = set(fold(candidate.family_name).split(" ")) - {""}
    if not typed_words or not their_words:
        return False
    return typed_words <= their_words or their_words <= typed_words


def _given_matches(typed_keys: set[str], candidate: Client) -> bool:
    theirs = _given_keys(candidate.given_name)
    if candidate.preferred_name:
        theirs |= _given_keys(candidate.preferred_name)
    return bool(typed_keys & theirs)


def client_possible_duplicates(
    *,
    network: Network,
    given_name: str,
    family_name: str,
    date_of_birth: date | None,
    phone: str,
    zip_code: str,
) -> list[Match]:
    """Records across the whole network that may be this person (likely ones first).

    Deliberately not limited to what the caller may see: the page then shows a hidden match
    only as "a record may exist" with its lead navigator's organization.

    Rules (names compared after case, accents, hyphens and common nicknames):
    same date of birth, family and given name: likely; same date of birth and family name
    plus phone or ZIP: likely; same phone and family name: possible; same date of birth,
    given name and ZIP: possible.
    """
    phone10 = _phone10(phone)
    zip5 = _zip5(zip_code)
    # Every rule needs the same date of birth or the same phone, so candidates come from
    # the (network, date_of_birth) and phone_digits indexes; a family-name-only candidate
    # could never score.
    wanted = Q()
    if date_of_birth is not None:
        wanted |= Q(date_of_birth=date_of_birth)
    if len(phone10) == 10:
        wanted |= Q(phone_digits=phone10)
    if not wanted:
        return []
    # A tombstone is not a person on file: its survivor is.
    candidates = (
        Client.objects.current()
        .filter(wanted, network=network)
        .select_related("lead_navigator__organization")
    )

    family_key = normalize_name(family_name)
    given_keys = _given_keys(given_name)
    matches: list[Match] = []
    for candidate in candidates:
        same_dob = date_of_birth is not None and candidate.date_of_birth == date_of_birth
        same_phone = len(phone10) == 10 and candidate.phone_digits == phone10
        same_zip = bool(zip5) and _zip5(candidate.zip_code) == zip5
        same_family = _family_matches(family_name, family_key, candidate)
        same_given = _given_matches(given_keys, candidate)

        if same_dob and same_family and same_given:
            match = Match(candidate, Strength.LIKELY, "Same name and date of birth")
        elif same_dob and same_family and same_phone:
            match = Match(candidate, Strength.LIKELY, "Same family name, date of birth and phone")
        elif same_dob and same_family and same_zip:
            match = Match(candidate, Strength.LIKELY, "Same family name, date of birth and ZIP")
        elif same_phone and same_family:
            match = Match(candidate, Strength.POSSIBLE, "Same family name and phone")
        elif same_dob and same_given and same_zip:
            match = Match(candidate, Strength.POSSIBLE, "Same given name, date of birth and ZIP")
        else:
            continue
        matches.append(match)
    matches.sort(key=lambda m: (not m.is_likely, m.client.pk))
    return matches


def client_ids_visible(org: Organization, ids, category: Category | None = None) -> set[int]:
    """Which of these client ids the organization may see (the category, or any)."""
    ids = list(ids)
    if not ids:
        return set()
    # A set: the model's ordering (by name) would only cost a sort.
    return set(
        Client.objects.visible_to(org, category)
        .filter(pk__in=ids)
        .order_by()
        .values_list("pk", flat=True)
    )


def client_search(
    *,
    organization: Organization,
    name: str = "",
    date_of_birth: date | None = None,
    phone: str = "",
    identifier: str = "",
) -> QuerySet[Client]:
    """Clients whose demographics the organization may see, matching every given term.

    Only demographics-visible clients are searched, so a name search can never confirm
    that a hidden person is on file. Name words match given, family or preferred names
    after case, accents, hyphens and nicknames ("bill garcia" finds William García-López).
    """
    clients = Client.objects.visible_to(organization, Category.DEMOGRAPHICS).current()
    for typed in name.split():
        # "García-López" folds to "garcia lopez"; the stored keys have no spaces.
        word = fold(typed).replace(" ", "")
        if not word:
            continue
        clients = clients.filter(
            Q(given_name_key__startswith=normalize_name(typed))
            | Q(given_name_key__startswith=word)
            | Q(family_name_key__contains=word)
            | Q(preferred_name__icontains=typed)
        )
    if date_of_birth is not None:
        clients = clients.filter(date_of_birth=date_of_birth)
    if phone:
        clients = clients.filter(phone_digits=_phone10(phone))
    if identifier:
        clients = clients.filter(
            Exists(ClientIdentifier.objects.filter(client_id=OuterRef("pk"), value=identifier))
        )
    return clients.select_related("lead_navigator__organization")


def client_profile_identifiers(client: Client) -> QuerySet[ClientIdentifier]:
    return client.identifiers.select_related("organization").order_by(
        "organization__name", "system", "value"
    )


def client_lead_history(client: Client) -> QuerySet[LeadNavigatorAssignment]:
    return client.lead_assignments.select_related(
        "membership__user", "membership__organization"
    ).order_by("-started_at", "-id")


def client_current_assignment(client: Client) -> LeadNavigatorAssignment | None:
    return (
        client.lead_assignments.filter(ended_at__isnull=True)
        .select_related("membership__user", "membership__organization")
        .first()
    )


def possible_duplicates_open(org: Organization) -> QuerySet[PossibleDuplicate]:
    """The organization's duplicates queue: open entries about records it leads or holds
    (PossibleDuplicate.objects.visible_to), newest first."""
    return (
        PossibleDuplicate.objects.visible_to(org)
        .filter(status=PossibleDuplicate.Status.OPEN)
        .select_related(
            "client__lead_navigator__organization",
            "match__lead_navigator__organization",
            "created_by_organization",
        )
        .order_by("-created_at", "-id")
    )


def client_record_ids(client: Client) -> list[int]:
    """The ids whose audit rows are the client's trail: its own and those of the records
    merged into it (audit rows are append-only, so a merge is read, not rewritten)."""
    return [client.pk, *client.merged_records.order_by("pk").values_list("pk", flat=True)]


def client_merged_records(client: Client) -> QuerySet[Client]:
    """The tombstones merged into this record, for its history (oldest merge first)."""
    return client.merged_records.select_related("merged_by", "merged_by_organization").order_by(
        "merged_at", "pk"
    )


def client_to_write(
    org: Organization, pk: int, category: Category = Category.DEMOGRAPHICS
) -> Client | None:
    """The record a write that names client `pk` goes to (a referral, an assessment, a
    release sent by a system): the record itself, or, when it was merged into another, the
    survivor, so that an integration that kept the old id is led on rather than refused.
    None when `org` may not see (`category` of) the record it would write to."""
    visible = Client.objects.visible_to(org, category).select_related("network")
    found = visible.filter(pk=pk).first()
    if found is not None and found.merged_into_id is not None:
        found = visible.current().filter(pk=found.merged_into_id).first()
    return found
