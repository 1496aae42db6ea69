"""consent.policy: may organization O see category C of client X now?"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import Assessment
from clients.models import Client
from consent import policy
from consent.categories import Category
from consent.models import Release
from organizations.models import Partnership
from tests.consent.matrix import (
    CATEGORIES,
    RECIPIENT_TYPES,
    STATES,
    build_case,
    expected_visible,
    impossible,
)
from tests.factories import ClientFactory, OrganizationFactory, assessment_for, release_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("recipient_type", RECIPIENT_TYPES)
@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.value)
def test_policy_matrix(tenant, category, recipient_type, state):
    case = build_case(tenant, category, recipient_type, state)
    if impossible(category, recipient_type):
        assert case.release is None, "the database accepted SUD records for all partners"
        assert not Release.objects.filter(client=case.client).exists()
        assert not policy.may_see(case.viewer, category, case.client)
        return
    assert case.release is not None
    assert case.release.status_at() == state
    expected = expected_visible(category, recipient_type, state)

    assert policy.may_see(case.viewer, category, case.client) is expected
    assert (category in policy.visible_categories(case.viewer, case.client)) is expected
    in_list = Client.objects.visible_to(case.viewer, category).filter(pk=case.client.pk)
    assert in_list.exists() is expected
    # A release never reaches beyond its categories.
    for other in CATEGORIES:
        if other != category:
            assert not policy.may_see(case.viewer, other, case.client)
    # The organization that created the record sees the demographics it recorded; what
    # else is recorded about the client is others' to release (provenance).
    # (The clinic is an active partner: an "all partners" release in force names it too.)
    creator_sees = category == Category.DEMOGRAPHICS or (
        state == "active" and recipient_type.startswith("all_partners")
    )
    assert policy.may_see(tenant.hco, category, case.client) is creator_sees


def test_sud_with_all_partners_is_refused_by_the_database_even_beside_named_recipients(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        release_for(
            tenant.client,
            organization=tenant.hco,
            recipients=[tenant.cbo],
            categories=("sud",),
            all_network_partners=True,
        )


def test_creating_the_record_grants_its_demographics_not_what_others_recorded(tenant):
    client = ClientFactory(created_by_organization=tenant.cbo, created_by=tenant.cbo_staff)
    assert policy.visible_categories(tenant.cbo, client) == {Category.DEMOGRAPHICS}
    assert policy.visible_categories(tenant.hco, client) == set()
    assert not Client.objects.visible_to(tenant.cbo, Category.SOCIAL_NEEDS).filter(pk=client.pk)
    # The creator's own assessment is its own; another's needs a release naming it.
    own = assessment_for(client, organization=tenant.cbo, actor=tenant.cbo_staff)
    # The clinic screens the client under a release of the demographics to it.
    release_for(
        client, organization=tenant.cbo, recipients=[tenant.hco], captured_by=tenant.cbo_staff
    )
    other = assessment_for(client, organization=tenant.hco, actor=tenant.hco_navigator)
    assert policy.may_see_assessment(tenant.cbo, own)
    assert not policy.may_see_assessment(tenant.cbo, other)
    assert set(Assessment.objects.visible_to(tenant.cbo).filter(client=client)) == {own}
    release_for(
        client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("social_needs",),
        captured_by=tenant.hco_navigator,
    )
    assert policy.may_see_assessment(tenant.cbo, other)
    assert set(Assessment.objects.visible_to(tenant.cbo).filter(client=client)) == {own, other}


def test_release_stops_at_the_expiry_moment(tenant):
    expires = tenant.release.expires_at
    with time_machine.travel(expires - timedelta(seconds=1), tick=False):
        assert policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, tenant.client)
    with time_machine.travel(expires, tick=False):
        assert not policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, tenant.client)
        assert not Client.objects.visible_to(tenant.cbo).filter(pk=tenant.client.pk).exists()


def test_release_starts_at_the_effective_moment(tenant):
    start = timezone.now() + timedelta(days=3)
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(client, organization=tenant.hco, recipients=[tenant.cbo], effective_at=start)
    with time_machine.travel(start - timedelta(seconds=1), tick=False):
        assert not policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, client)
    with time_machine.travel(start, tick=False):
        assert policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, client)


def test_all_partners_access_ends_with_the_partnership(tenant):
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(client, organization=tenant.hco, all_network_partners=True)
    assert policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, client)
    Partnership.objects.filter(pk=tenant.partnership.pk).update(status=Partnership.Status.ENDED)
    assert not policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, client)


def test_a_named_organization_of_another_network_sees_nothing(tenant, foreign_tenant):
    # The form and the service refuse such a release; the policy refuses it even so.
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(client, organization=tenant.hco, recipients=[foreign_tenant.cbo])
    assert not policy.may_see(foreign_tenant.cbo, Category.DEMOGRAPHICS, client)
    assert not Client.objects.visible_to(foreign_tenant.cbo).filter(pk=client.pk).exists()


def test_revoked_release_does_not_hide_what_another_release_covers(tenant):
    second = release_for(
        tenant.client, organization=tenant.hco, recipients=[tenant.cbo], categories=("health",)
    )
    Release.objects.filter(pk=tenant.release.pk).update(revoked_at=timezone.now())
    assert policy.visible_categories(tenant.cbo, tenant.client) == {Category.HEALTH}
    assert second.is_active()


def test_an_organization_of_the_network_without_a_release_sees_nothing(tenant):
    stranger = OrganizationFactory(network=tenant.network, name="Bystander Org")
    assert not policy.may_see(stranger, Category.DEMOGRAPHICS, tenant.client)
    assert policy.visible_categories(stranger, tenant.client) == set()
