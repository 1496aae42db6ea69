"""The acceptance matrix shared by the policy and page tests: every category by recipient
type by state of a release, and what the viewer should see."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from consent.categories import Category
from organizations.models import Organization
from tests.factories import ClientFactory, OrganizationFactory, PartnershipFactory, release_for

CATEGORIES = list(Category)
# What the faces matrix (test_faces_matrix.py) checked in this process: "cells" (recipient
# type x release state) and "faces" (pages, REST, FHIR, payloads, emails per cell); the
# session's summary line adds the workers' counts up (tests/conftest.py).
FACE_CHECKS: Counter = Counter()
# named: the viewer is named; all_partners_partner: "all partners" and the viewer is party
# to an active partnership; all_partners_outsider: "all partners", the viewer is in the
# network but in no partnership; not_named: another organization is named (the viewer is an
# active partner, which must not help it).
RECIPIENT_TYPES = ["named", "all_partners_partner", "all_partners_outsider", "not_named"]
STATES = ["active", "expired", "revoked", "not yet effective"]


@dataclass
class Case:
    viewer: Organization
    client: object
    release: object | None  # None when the database refused it (SUD to all partners)


def build_case(tenant, category: Category, recipient_type: str, state: str) -> Case:
    """A fresh client of the tenant's clinic with exactly one release, and a viewer
    organization of the same network that created nothing."""
    now = timezone.now()
    viewer = OrganizationFactory(network=tenant.network, name="Viewer Pantry")
    if recipient_type in {"all_partners_partner", "not_named"}:
        PartnershipFactory(
            network=tenant.network, name="Clinic + Viewer", organizations=[tenant.hco, viewer]
        )
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    dates = {
        "active": {"effective_at": now - timedelta(days=1), "expires_at": now + timedelta(days=90)},
        "expired": {
            "effective_at": now - timedelta(days=400),
            "expires_at": now - timedelta(days=1),
        },
        "revoked": {
            "effective_at": now - timedelta(days=10),
            "expires_at": now + timedelta(days=300),
            "revoked_at": now - timedelta(hours=1),
            "revoked_by": tenant.hco_navigator,
            "revocation_reason": "Client asked to stop.",
        },
        "not yet effective": {
            "effective_at": now + timedelta(days=2),
            "expires_at": now + timedelta(days=300),
        },
    }[state]
    all_partners = recipient_type.startswith("all_partners")
    recipients = {"named": [viewer], "not_named": [tenant.cbo]}.get(recipient_type, [])
    try:
        with transaction.atomic():
            release = release_for(
                client,
                organization=tenant.hco,
                captured_by=tenant.hco_navigator,
                recipients=recipients,
                categories=(category.value,),
                all_network_partners=all_partners,
                **dates,
            )
    except IntegrityError:
        release = None
    return Case(viewer=viewer, client=client, release=release)


def expected_visible(category: Category, recipient_type: str, state: str) -> bool:
    return state == "active" and recipient_type in {"named", "all_partners_partner"}


def impossible(category: Category, recipient_type: str) -> bool:
    """42 CFR Part 2: SUD records to "all partners" is refused by a database constraint."""
    return category == Category.SUD and recipient_type.startswith("all_partners")
