"""The acceptance matrix again, through real pages: the release page, the client profile
and its releases section (the client_releases tag), as a member of the viewer organization."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest

from clients.models import PossibleDuplicate
from clients.services import client_lead_navigator_assign
from consent.categories import Category
from organizations.models import Membership
from organizations.roles import Role
from payments.models import PaymentTerm, Statement
from tests.consent.matrix import (
    CATEGORIES,
    RECIPIENT_TYPES,
    STATES,
    build_case,
    expected_visible,
    impossible,
)
from tests.factories import ClientFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("recipient_type", RECIPIENT_TYPES)
@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.value)
def test_pages_matrix(client, login, tenant, category, recipient_type, state):
    case = build_case(tenant, category, recipient_type, state)
    if impossible(category, recipient_type):
        assert case.release is None  # refused by the database; nothing to show
        return
    expected = expected_visible(category, recipient_type, state)
    named = recipient_type == "named"
    navigator = member(case.viewer, Role.NAVIGATOR)
    login(navigator)

    # The release page: its capturing organization and named recipients only, whatever
    # its state; the client's name only while the release lets the viewer see it.
    detail = client.get(f"/releases/{case.release.pk}/")
    assert detail.status_code == (200 if named else 404)
    if named:
        page = html.unescape(detail.content.decode())
        assert f'data-testid="release-status">{state.capitalize()}<' in page
        shows_name = expected and category == Category.DEMOGRAPHICS
        assert (case.client.family_name in page) is shows_name
        assert ('data-testid="client-hidden"' in page) is not shows_name

    # The client profile: found only while some category is visible; the details section
    # only for demographics; the releases section lists the release to named recipients.
    profile = client.get(f"/clients/{case.client.pk}/")
    assert profile.status_code == (200 if expected else 404)
    if expected:
        page = html.unescape(profile.content.decode())
        shows_details = category == Category.DEMOGRAPHICS
        assert ('data-testid="section-demographics"' in page) is shows_details
        assert (case.client.family_name in page) is shows_details
        assert 'data-testid="client-releases"' in page
        listed = f'data-testid="release-{case.release.pk}" data-status="{state}"' in page
        assert listed is named
        assert ('data-testid="capture-release"' in page) is shows_details

    # The duplicates queue: the viewer leads a record that may be the same person as the
    # clinic's; the clinic's record is named (and may be merged) only while the viewer may
    # see its demographics; otherwise it is only said to exist.
    own = ClientFactory(
        created_by_organization=case.viewer, created_by=navigator, given_name="Ownrec"
    )
    client_lead_navigator_assign(
        client=own, membership=Membership.objects.get(user=navigator), actor=navigator
    )
    entry = PossibleDuplicate.objects.create(
        client=case.client,
        match=own,
        strength="possible",
        reason="Same given name, date of birth and ZIP",
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
    )
    queue = html.unescape(client.get("/clients/duplicates/").content.decode())
    sees_both = expected and category == Category.DEMOGRAPHICS
    assert (case.client.family_name in queue) is sees_both
    assert ('data-testid="hidden-record"' in queue) is not sees_both
    assert ('data-testid="merge-form"' in queue) is sees_both
    # A merge posted anyway is refused unless the viewer sees both; refused, nothing moves.
    merged = client.post(
        f"/clients/duplicates/{entry.pk}/merge/",
        {"survivor": own.pk, "confirm": "yes"},
    )
    case.client.refresh_from_db()
    assert (case.client.merged_into_id == own.pk) is sees_both, merged.status_code

    # A payment statement the viewer is paid under, with a line for the clinic's client:
    # the page, its CSV and its printable page name the client only as the policy allows;
    # the line's referral date is there either way.
    client.logout()
    login(member(case.viewer, Role.ORG_ADMIN))
    term = PaymentTerm.objects.create(
        partnership=tenant.partnership,
        name="Viewer fee",
        kind=PaymentTerm.Kind.FEE_FOR_SERVICE,
        payer=tenant.hco,
        payee=case.viewer,
        effective_from=date(2031, 1, 1),
        unit_amount=Decimal("100.00"),
    )
    statement = Statement.objects.create(
        term=term,
        period_start=date(2031, 1, 1),
        period_end=date(2031, 1, 31),
        subtotal=Decimal("100.00"),
        total=Decimal("100.00"),
    )
    statement.lines.create(
        position=1,
        kind="referral",
        date=date(2031, 1, 5),
        client=case.client,
        description="Pantry referral",
        quantity=1,
        unit_amount=Decimal("100.00"),
        amount=Decimal("100.00"),
    )
    names = expected and category == Category.DEMOGRAPHICS
    for suffix in ("", "lines.csv", "print/"):
        face = client.get(f"/payments/statements/{statement.pk}/{suffix}")
        assert face.status_code == 200, suffix
        shown = html.unescape(face.content.decode())
        assert (case.client.family_name in shown) is names, suffix
        assert "Pantry referral" in shown
