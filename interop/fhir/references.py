"""Who is asking, and what a reference in their input points at.

Every domain object a reference resolves to comes through the caller's scopes
(`visible_to`, the consent policy): a reference to something the caller may not see reads
exactly like a reference to nothing, so input cannot probe another tenant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assessments.models import Assessment
from clients.models import Client
from clients.selectors import client_to_write
from directory.models import Program
from organizations.models import Organization, User
from referrals.models import Referral

from .errors import invalid

_RELATIVE = re.compile(r"^(?P<kind>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/\S+)?$")


@dataclass
class Caller:
    """The organization a request acts for (an API key's, or the signed-in person's active
    one), the acting user, and the request (for the audit trail and absolute URLs)."""

    request: Any
    organization: Organization
    user: User
    membership: Any  # organizations.Membership (a person's, or the API key's)
    base_url: str  # ".../fhir/r4/"
    # Answers worth computing once per request (the consent policy's, for a page).
    memo: dict = field(default_factory=dict)


@dataclass
class Target:
    """What a reference points at: a resource on this server (kind and id), an entry of the
    same transaction Bundle, or a resource contained in the referring one."""

    kind: str
    id: str = ""
    entry: Any = None  # transaction.Entry
    contained: dict | None = None


@dataclass
class Resolver:
    caller: Caller
    entries: dict[str, Any] = field(default_factory=dict)  # fullUrl -> Entry

    def target(
        self,
        reference: dict | None,
        *,
        where: str,
        kinds: tuple[str, ...],
        contained: dict[str, dict] | None = None,
    ) -> Target:
        """Resolve `reference` (a FHIR Reference) to a Target of one of `kinds`;
        FhirError 422 naming `where` when it is missing, malformed, elsewhere or of
        another kind."""
        text = (reference or {}).get("reference", "")
        wanted = " or ".join(kinds)
        if not text:
            raise invalid(
                f"{where}: give a reference to a {wanted}.", expression=where, code="required"
            )
        if text.startswith("#"):
            found = (contained or {}).get(text[1:])
            if found is None or found.get("resourceType") not in kinds:
                raise invalid(f"{where}: {text} is not a contained {wanted}.", expression=where)
            return Target(found["resourceType"], contained=found)
        if text in self.entries:
            entry = self.entries[text]
            if entry.kind not in kinds:
                raise invalid(
                    f"{where}: {text} is a {entry.kind} in this Bundle, not a {wanted}.",
                    expression=where,
                )
            return Target(entry.kind, entry=entry)
        if text.startswith(self.caller.base_url):
            text = text[len(self.caller.base_url) :]
        match = _RELATIVE.match(text)
        if match is None:
            raise invalid(
                f"{where}: {text!r} is not a reference Linkage can follow: use {wanted}/<id> "
                "of this server, a fullUrl of this Bundle, or #<id> of a contained resource.",
                expression=where,
            )
        if match["kind"] not in kinds:
            raise invalid(
                f"{where}: must reference a {wanted}, not {match['kind']}.", expression=where
            )
        return Target(match["kind"], match["id"])

    # -- domain objects, through the caller's scopes -------------------------------------

    def _pk(self, target: Target, where: str, prefix: str = "") -> int:
        raw = target.id[len(prefix) :] if target.id.startswith(prefix) else ""
        if not raw.isdigit():
            raise _unknown(target, where)
        return int(raw)

    def client(self, target: Target, *, where: str) -> Client:
        """A patient the caller may see the demographics of (as a referral needs)."""
        if target.entry is not None:
            return target.entry.result
        # A merged Patient's id reaches the survivor (clients.selectors.client_to_write).
        found = client_to_write(self.caller.organization, self._pk(target, where))
        if found is None:
            raise _unknown(target, where)
        return found

    def organization(self, target: Target, *, where: str) -> Organization:
        found = (
            Organization.objects.visible_to(self.caller.organization)
            .filter(pk=self._pk(target, where))
            .first()
        )
        if found is None:
            raise invalid(
                f"{where}: Organization/{target.id} is not an organization of your network.",
                expression=where,
            )
        return found

    def program(self, target: Target, *, where: str) -> Program:
        found = (
            Program.objects.visible_to(self.caller.organization)
            .filter(pk=self._pk(target, where))
            .select_related("organization")
            .first()
        )
        if found is None:
            raise invalid(
                f"{where}: HealthcareService/{target.id} is not a program of your network's "
                "directory.",
                expression=where,
            )
        return found

    def referral(self, target: Target, *, where: str) -> Referral:
        found = (
            Referral.objects.visible_to(self.caller.organization)
            .filter(pk=self._pk(target, where))
            .select_related("client", "program", "receiver_organization", "sender_organization")
            .first()
        )
        if found is None:
            raise _unknown(target, where)
        return found

    def assessment(self, target: Target, *, where: str) -> Assessment:
        found = (
            Assessment.objects.visible_to(self.caller.organization)
            .filter(pk=self._pk(target, where, prefix="assessment-"))
            .first()
        )
        if found is None:
            raise _unknown(target, where)
        return found


def _unknown(target: Target, where: str):
    return invalid(
        f"{where}: {target.kind}/{target.id} is not known here (or not shared with you).",
        expression=where,
    )
