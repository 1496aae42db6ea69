"""Writes for networks, organizations and memberships (used by commands, pages and seeds)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext

from .models import Membership, Network, Organization, Partnership, User
from .roles import Role


@dataclass(frozen=True)
class Outcome:
    """What a provisioning call did, for commands to print."""

    obj: object
    created: bool
    changed: bool = False


def network_get_or_create(*, name: str) -> Outcome:
    network, created = Network.objects.get_or_create(
        name=name, defaults={"slug": _unique_slug(Network, name)}
    )
    return Outcome(network, created)


@transaction.atomic
def organization_get_or_create(
    *, network: Network, name: str, kind: str, sub_kind: str = ""
) -> Outcome:
    """Create an organization in a network, or return the one with that name.

    Raises ValidationError for an unknown kind, a sub-kind that does not belong to the
    kind, a second backbone in a network, or an existing organization of another kind.
    """
    organization_kind_validate(kind=kind, sub_kind=sub_kind)
    existing = Organization.objects.filter(network=network, name=name).first()
    if existing is not None:
        if existing.kind != kind:
            raise ValidationError(
                f"{name!r} already exists in {network} as {existing.get_kind_display()}."
            )
        return Outcome(existing, created=False)
    if kind == Organization.Kind.BACKBONE:
        current = network.backbone
        if current is not None:
            raise ValidationError(f"{network} already has a backbone organization: {current}.")
    org = Organization.objects.create(
        network=network,
        name=name,
        kind=kind,
        sub_kind=sub_kind,
        slug=_unique_slug(Organization, f"{name}"),
    )
    return Outcome(org, created=True)


def organization_kind_validate(*, kind: str, sub_kind: str = "") -> None:
    """ValidationError unless `kind` is known and `sub_kind` (if any) belongs to it."""
    if kind not in Organization.Kind.values:
        raise ValidationError(
            f"Unknown kind {kind!r}. Choose one of: {', '.join(Organization.Kind.values)}."
        )
    allowed = Organization.SUB_KINDS_BY_KIND[Organization.Kind(kind)]
    if sub_kind and sub_kind not in allowed:
        names = ", ".join(sorted(allowed)) or "none"
        raise ValidationError(f"Sub-kind {sub_kind!r} does not fit kind {kind!r} ({names}).")


def organization_find(identifier: str) -> Organization:
    """An organization by slug or by exact name (case-insensitive); ValidationError when
    none or several match."""
    by_slug = Organization.objects.filter(slug=identifier).first()
    if by_slug is not None:
        return by_slug
    matches = list(Organization.objects.filter(name__iexact=identifier)[:2])
    if not matches:
        raise ValidationError(f"No organization named or slugged {identifier!r}.")
    if len(matches) > 1:
        raise ValidationError(f"Several organizations are named {identifier!r}; use the slug.")
    return matches[0]


@transaction.atomic
def membership_add(
    *,
    organization: Organization,
    email: str,
    role: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
) -> Outcome:
    """Add a person to an organization with a role, creating their account if needed.

    An existing account keeps its password; an existing membership gets the new role.
    """
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}. Choose one of: {', '.join(Role.values)}.")
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    user_created = False
    if user is None:
        if not password:
            raise ValidationError(f"{email} has no account yet: a password is required.")
        candidate = User(email=email, username=email, first_name=first_name, last_name=last_name)
        validate_password(password, candidate)
        user = User.objects.create_user(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
        user_created = True
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    changed = False
    if not created and (membership.role != role or not membership.is_active):
        membership.role = role
        membership.is_active = True
        membership.save(update_fields=["role", "is_active"])
        changed = True
    return Outcome(membership, created=created or user_created, changed=changed)


@transaction.atomic
def partnership_get_or_create(
    *,
    network: Network,
    name: str,
    organizations: list[Organization],
    status: str = Partnership.Status.ACTIVE,
    **fields,
) -> Outcome:
    """A partnership between organizations of one network."""
    foreign = [o for o in organizations if o.network_id != network.pk]
    if foreign:
        raise ValidationError(
            f"{', '.join(map(str, foreign))} belong(s) to another network than {network}."
        )
    partnership, created = Partnership.objects.get_or_create(
        network=network, name=name, defaults={"status": status, **fields}
    )
    if created:
        partnership.organizations.set(organizations)
    return Outcome(partnership, created)


def _unique_slug(model, text: str) -> str:
    base = slugify(text)[:70] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def partnership_grant_view(*, partnership: Partnership, user: User) -> bool:
    """Let one person see one partnership their organization is not party to.

    Only people working in the partnership's network can be granted; returns False when
    the grant already existed.
    """
    from guardian.shortcuts import assign_perm

    if not user.memberships.filter(
        is_active=True, organization__network_id=partnership.network_id
    ).exists():
        raise ValidationError(f"{user.email} works for no organization in {partnership.network}.")
    if user.has_perm("organizations.view_partnership", partnership):
        return False
    assign_perm("organizations.view_partnership", user, partnership)
    return True


def partnership_may_manage(*, partnership: Partnership, organization: Organization) -> bool:
    """Who may change what a partnership covers: an org admin acting for one of its
    organizations, or for the network's backbone (checked with the capability by the view)."""
    if organization.network_id != partnership.network_id:
        return False
    return organization.is_backbone or partnership.organizations.filter(pk=organization.pk).exists()


def user_set_language(*, user: User, language: str) -> None:
    """Keep the interface language a person picked ("" follows the browser).

    Raises ValidationError for a language the site does not offer.
    """
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError(gettext("Unknown language."), code="invalid_language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
