"""Merging duplicate client records (issue 14): a navigator who may see both records merges
them; every kind of record moves to the survivor; the other becomes a tombstone that pages
redirect from; the merge is audited on both ids and shown on the survivor; measures count
the person once; an organization that cannot see both records changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import Assessment
from audit.models import AuditEvent
from clients.models import Client, ClientIdentifier, LeadNavigatorAssignment, PossibleDuplicate
from clients.services import client_lead_navigator_assign, client_merge
from consent.models import Release
from metrics.models import OutcomeMeasure, OutcomeResult, Rollup
from organizations.models import Membership
from organizations.roles import Role
from referrals.models import Referral, ReferralNote
from referrals.services import referral_note_add
from tests.clients.conftest import client_ids
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    assessment_for,
    member,
    referral_for,
    release_for,
)
from tests.metrics import helpers as metric_helpers

pytestmark = pytest.mark.django_db

QUEUE = "/clients/duplicates/"


def make_duplicate(tenant, **fields) -> Client:
    """A second record of the tenant's client, created by the HCO (as an EHR would)."""
    return ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        given_name=tenant.client.given_name,
        family_name=tenant.client.family_name,
        date_of_birth=tenant.client.date_of_birth,
        **fields,
    )


def released(tenant, duplicate: Client):
    """The duplicate's release naming the CBO for what a referral carries."""
    return release_for(
        duplicate,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=tenant.hco_navigator,
    )


def queue(tenant, duplicate: Client, survivor: Client | None = None) -> PossibleDuplicate:
    return PossibleDuplicate.objects.create(
        client=duplicate,
        match=survivor or tenant.client,
        strength="likely",
        reason="Same given name, family name and date of birth",
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
    )


def merge(tenant, duplicate: Client, *, actor=None, organization=None) -> Client:
    return client_merge(
        survivor=tenant.client,
        duplicate=duplicate,
        actor=actor or tenant.hco_navigator,
        organization=organization or tenant.hco,
    )


def merged_pair(tenant) -> Client:
    """A duplicate merged into the tenant's client; returns the tombstone."""
    duplicate = make_duplicate(tenant)
    merge(tenant, duplicate)
    duplicate.refresh_from_db()
    return duplicate


def _snapshot(duplicate: Client) -> dict:
    return {
        "client": Client.objects.filter(pk=duplicate.pk).values().get(),
        "identifiers": list(ClientIdentifier.objects.filter(client=duplicate).values("pk")),
        "referrals": list(Referral.objects.filter(client=duplicate).values("pk")),
        "releases": list(Release.objects.filter(client=duplicate).values("pk")),
        "assessments": list(Assessment.objects.filter(client=duplicate).values("pk")),
        "queue": list(PossibleDuplicate.objects.values("pk", "status", "client", "match")),
        "audit": AuditEvent.objects.count(),
    }


# --- every kind of record moves -------------------------------------------------------------


def test_every_kind_of_record_moves_to_the_survivor(tenant):
    survivor = tenant.client
    duplicate = make_duplicate(tenant)
    mrn = ClientIdentifier.objects.create(
        client=duplicate, organization=tenant.hco, system="MRN", value="DUP-1"
    )
    release = released(tenant, duplicate)
    assessment = assessment_for(duplicate, organization=tenant.hco, actor=tenant.hco_navigator)
    referral = referral_for(
        tenant, client=duplicate, program=ProgramFactory(organization=tenant.cbo)
    )
    note = referral_note_add(
        referral=referral, author=tenant.hco_navigator, organization=tenant.hco, body="Called."
    )
    client_lead_navigator_assign(
        client=duplicate,
        membership=Membership.objects.get(user=tenant.hco_navigator),
        actor=tenant.hco_navigator,
    )
    entry = queue(tenant, duplicate)

    assert merge(tenant, duplicate) == survivor

    assert ClientIdentifier.objects.get(pk=mrn.pk).client_id == survivor.pk
    assert Release.objects.get(pk=release.pk).client_id == survivor.pk
    assert Assessment.objects.get(pk=assessment.pk).client_id == survivor.pk
    assert Referral.objects.get(pk=referral.pk).client_id == survivor.pk
    # Notes (and events, outcomes) hang on the referral: they follow it.
    assert ReferralNote.objects.get(pk=note.pk).referral.client_id == survivor.pk
    # The survivor had no lead navigator: it takes the duplicate's, with its history.
    survivor.refresh_from_db()
    assert survivor.lead_navigator.user == tenant.hco_navigator
    assert LeadNavigatorAssignment.objects.filter(client=duplicate).count() == 0
    assert survivor.lead_assignments.filter(ended_at__isnull=True).count() == 1
    entry.refresh_from_db()
    assert entry.status == PossibleDuplicate.Status.MERGED
    assert entry.resolved_by == tenant.hco_navigator
    assert entry.resolved_by_organization == tenant.hco

    duplicate.refresh_from_db()
    assert duplicate.is_tombstone and duplicate.merged_into_id == survivor.pk
    assert duplicate.merged_by == tenant.hco_navigator
    assert duplicate.merged_by_organization == tenant.hco
    assert duplicate.lead_navigator is None

    # Audited once, on both ids, with counts (never values).
    (event,) = AuditEvent.objects.filter(detail__merged=duplicate.pk)
    assert client_ids(event) == sorted([survivor.pk, duplicate.pk])
    assert event.detail["survivor"] == survivor.pk
    moved = {k: v for k, v in event.detail.items() if k.startswith("moved_")}
    assert moved == {
        "moved_assessments": 1,
        "moved_identifiers": 1,
        "moved_referrals": 1,
        "moved_releases": 1,
    }
    assert event.detail["possible_duplicates_closed"] == [entry.pk]


def test_the_survivor_keeps_its_own_lead_navigator(tenant):
    survivor = tenant.client
    duplicate = make_duplicate(tenant)
    hco_nav = Membership.objects.get(user=tenant.hco_navigator)
    client_lead_navigator_assign(client=survivor, membership=hco_nav, actor=tenant.hco_navigator)
    client_lead_navigator_assign(client=duplicate, membership=hco_nav, actor=tenant.hco_navigator)
    merge(tenant, duplicate)
    # Two assignments now, one current: the database's one-current-lead rule holds.
    assert survivor.lead_assignments.count() == 2
    assert survivor.lead_assignments.filter(ended_at__isnull=True).count() == 1


def test_other_queue_entries_follow_the_duplicate(tenant):
    duplicate = make_duplicate(tenant)
    third = make_duplicate(tenant)
    other = queue(tenant, third, survivor=duplicate)
    merge(tenant, duplicate)
    other.refresh_from_db()
    assert (other.client_id, other.match_id) == (third.pk, tenant.client.pk)
    assert other.status == PossibleDuplicate.Status.OPEN


def test_earlier_tombstones_point_straight_at_the_new_survivor(tenant):
    first = make_duplicate(tenant)
    second = make_duplicate(tenant)
    client_merge(
        survivor=second, duplicate=first, actor=tenant.hco_navigator, organization=tenant.hco
    )
    merge(tenant, second)
    first.refresh_from_db()
    assert first.merged_into_id == tenant.client.pk


def test_a_duplicate_outcome_result_is_counted_once(tenant):
    measure = OutcomeMeasure.objects.create(
        partnership=tenant.partnership,
        name="HbA1c",
        loinc_code="4548-4",
        unit="%",
        goal="below",
        threshold=Decimal("8"),
    )
    duplicate = make_duplicate(tenant)
    day = date(2026, 3, 1)
    kept, twice, other = (
        OutcomeResult.objects.create(
            measure=measure,
            client=c,
            organization=tenant.hco,
            recorded_by=tenant.hco_navigator,
            value=Decimal("7.1"),
            observed_on=d,
        )
        for c, d in ((tenant.client, day), (duplicate, day), (duplicate, date(2026, 4, 1)))
    )
    merge(tenant, duplicate)
    assert set(OutcomeResult.objects.filter(client=tenant.client).values_list("pk", flat=True)) == {
        kept.pk,
        twice.pk,
        other.pk,
    }
    counted = OutcomeResult.objects.counted().filter(client=tenant.client)
    assert set(counted.values_list("pk", flat=True)) == {kept.pk, other.pk}


# --- refusals write nothing -----------------------------------------------------------------


def test_open_referrals_to_the_same_program_refuse_the_merge(tenant):
    duplicate = make_duplicate(tenant)
    mine = referral_for(tenant)  # the survivor's open referral to the pantry
    released(tenant, duplicate)
    theirs = referral_for(tenant, client=duplicate)
    before = _snapshot(duplicate)
    with pytest.raises(ValidationError) as refused:
        merge(tenant, duplicate)
    message = " ".join(refused.value.messages)
    assert f"#{mine.pk}" in message and f"#{theirs.pk}" in message
    assert _snapshot(duplicate) == before


def test_closed_referrals_to_the_same_program_do_not_block(tenant):
    duplicate = make_duplicate(tenant)
    referral_for(tenant)
    released(tenant, duplicate)
    theirs = referral_for(tenant, client=duplicate)
    Referral.objects.filter(pk=theirs.pk).update(status="cancelled")
    merge(tenant, duplicate)
    assert Referral.objects.get(pk=theirs.pk).client_id == tenant.client.pk


def test_an_organization_that_cannot_see_both_records_cannot_merge(tenant):
    # The CBO sees the tenant's client under a release, but not the HCO's other record.
    duplicate = make_duplicate(tenant)
    cbo_nav = member(tenant.cbo, Role.NAVIGATOR, email="merge-nav@cbo.test")
    before = _snapshot(duplicate)
    with pytest.raises(PermissionDenied):
        merge(tenant, duplicate, actor=cbo_nav, organization=tenant.cbo)
    assert _snapshot(duplicate) == before


def test_staff_cannot_merge(tenant):
    duplicate = make_duplicate(tenant)
    before = _snapshot(duplicate)
    with pytest.raises(PermissionDenied):
        merge(tenant, duplicate, actor=tenant.hco_staff)
    assert _snapshot(duplicate) == before


def test_a_tombstone_cannot_be_merged_again(tenant):
    duplicate = merged_pair(tenant)
    with pytest.raises(ValidationError):
        merge(tenant, duplicate)


# --- the page: the queue's action ------------------------------------------------------------


def test_the_queue_offers_the_merge_and_merges_on_confirmation(client, login, tenant):
    duplicate = make_duplicate(tenant)
    entry = queue(tenant, duplicate)
    login(tenant.hco_navigator)
    page = client.get(QUEUE).content.decode()
    assert 'data-testid="merge-form"' in page and "Same person: merge" in page

    url = f"/clients/duplicates/{entry.pk}/merge/"
    before = _snapshot(duplicate)
    # Not confirmed: nothing changes.
    response = client.post(url, {"survivor": tenant.client.pk})
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert _snapshot(duplicate) == before
    # A survivor that is neither record: nothing changes.
    response = client.post(url, {"survivor": 999999, "confirm": "yes"})
    assert _snapshot(duplicate) == before

    response = client.post(url, {"survivor": tenant.client.pk, "confirm": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/clients/{tenant.client.pk}/"
    body = response.content.decode()
    assert f"Client record #{duplicate.pk} was merged into record #{tenant.client.pk}" in body
    assert 'data-testid="merged-history"' in body and tenant.hco.name in body
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == tenant.client.pk
    assert 'data-testid="duplicate-row"' not in client.get(QUEUE).content.decode()


def test_the_queue_lets_either_record_survive(client, login, tenant):
    duplicate = make_duplicate(tenant)
    entry = queue(tenant, duplicate)
    login(tenant.hco_navigator)
    client.post(
        f"/clients/duplicates/{entry.pk}/merge/", {"survivor": duplicate.pk, "confirm": "yes"}
    )
    tenant.client.refresh_from_db()
    assert tenant.client.merged_into_id == duplicate.pk
    # The release that named the CBO moved with everything else.
    assert Release.objects.get(pk=tenant.release.pk).client_id == duplicate.pk


def test_an_organization_that_cannot_see_both_records_gets_404(client, login, tenant, neighbour):
    # The neighbour leads the duplicate (so it sees the queue entry) but cannot see the
    # tenant's client: 404, nothing changes.
    duplicate = ClientFactory(
        created_by_organization=neighbour.organization, created_by=neighbour.navigator
    )
    entry = queue(tenant, duplicate)
    login(neighbour.navigator)
    before = _snapshot(duplicate)
    response = client.post(
        f"/clients/duplicates/{entry.pk}/merge/",
        {"survivor": duplicate.pk, "confirm": "yes"},
    )
    assert response.status_code == 404
    assert _snapshot(duplicate) == before
    tenant.client.refresh_from_db()
    assert not tenant.client.is_tombstone


def test_staff_get_403_from_the_merge_action(client, login, tenant):
    duplicate = make_duplicate(tenant)
    entry = queue(tenant, duplicate)
    login(tenant.hco_staff)
    before = _snapshot(duplicate)
    response = client.post(
        f"/clients/duplicates/{entry.pk}/merge/", {"survivor": tenant.client.pk, "confirm": "yes"}
    )
    assert response.status_code == 403
    assert _snapshot(duplicate) == before


def test_a_refused_merge_says_why_and_writes_nothing(client, login, tenant):
    duplicate = make_duplicate(tenant)
    referral_for(tenant)
    released(tenant, duplicate)
    referral_for(tenant, client=duplicate)
    entry = queue(tenant, duplicate)
    login(tenant.hco_navigator)
    before = _snapshot(duplicate)
    response = client.post(
        f"/clients/duplicates/{entry.pk}/merge/",
        {"survivor": tenant.client.pk, "confirm": "yes"},
        follow=True,
    )
    assert "open referral to the same program" in response.content.decode()
    after = _snapshot(duplicate)
    # The page itself is a read (audited); the merge wrote nothing.
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
    assert not AuditEvent.objects.filter(detail__merged=duplicate.pk).exists()


# --- the tombstone on pages -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "edit/", "disclosures/", "releases/new/"])
def test_the_tombstones_pages_redirect_to_the_survivor(client, login, tenant, suffix):
    duplicate = merged_pair(tenant)
    login(tenant.hco_admin)
    response = client.get(f"/clients/{duplicate.pk}/{suffix}")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{tenant.client.pk}/{suffix}"
    page = client.get(response["Location"]).content.decode()
    assert f"Client record #{duplicate.pk} was merged into record #{tenant.client.pk}" in page


def test_a_form_posted_to_a_tombstone_changes_nothing(client, login, tenant):
    duplicate = merged_pair(tenant)
    login(tenant.hco_navigator)
    response = client.post(
        f"/clients/{duplicate.pk}/identifiers/", {"system": "MRN", "value": "LATE-1"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{tenant.client.pk}/"
    assert not ClientIdentifier.objects.filter(value="LATE-1").exists()


def test_the_tombstone_is_not_found_by_search(client, login, tenant):
    duplicate = merged_pair(tenant)
    login(tenant.hco_navigator)
    response = client.post("/clients/", {"name": tenant.client.family_name})
    found = [c.pk for c in response.context["page"].object_list]
    assert tenant.client.pk in found and duplicate.pk not in found


def test_an_outsider_gets_404_for_the_tombstone(client, login, tenant, foreign_tenant):
    duplicate = merged_pair(tenant)
    login(foreign_tenant.hco_navigator)
    assert client.get(f"/clients/{duplicate.pk}/").status_code == 404


def test_the_survivors_trail_includes_the_tombstones_rows(client, login, tenant):
    duplicate = make_duplicate(tenant)
    login(tenant.hco_admin)
    client.get(f"/clients/{duplicate.pk}/")  # a read of the duplicate, audited on its id
    read = AuditEvent.objects.filter(clients__client_id=duplicate.pk, action="view").latest("id")
    merge(tenant, duplicate)
    response = client.get(f"/clients/{tenant.client.pk}/disclosures/")
    shown = [e.pk for e in response.context["page"].object_list]
    assert read.pk in shown
    merge_event = AuditEvent.objects.get(detail__merged=duplicate.pk)
    assert merge_event.pk in shown and shown.count(merge_event.pk) == 1


# --- measures count the person once ---------------------------------------------------------


def _clients_referred(run) -> int:
    """The network's "unique clients referred" for the month the helpers send in."""
    rows = Rollup.objects.filter(
        run=run,
        measure="clients_referred",
        period_kind="month",
        breakdown="",
        partnership=None,
        organization=None,
    )
    return sum(r.numerator for r in rows)


def test_measures_count_the_merged_person_once(tenant):
    duplicate = make_duplicate(tenant)
    program = ProgramFactory(organization=tenant.cbo)
    metric_helpers.referrals(tenant, [tenant.client], program=program)
    metric_helpers.referrals(tenant, [duplicate], program=ProgramFactory(organization=tenant.cbo))
    assert _clients_referred(metric_helpers.rollup(tenant)) == 2
    merge(tenant, duplicate)
    assert _clients_referred(metric_helpers.rollup(tenant)) == 1


def test_nothing_new_is_recorded_on_a_tombstone(tenant):
    # The faces lead callers to the survivor; the services refuse the tombstone outright.
    from datetime import timedelta

    from django.utils import timezone

    from clients.services import client_identifier_add
    from consent.services import release_create

    duplicate = merged_pair(tenant)
    with pytest.raises(ValidationError, match="merged into record"):
        client_identifier_add(
            client=duplicate,
            organization=tenant.hco,
            actor=tenant.hco_navigator,
            system="MRN",
            value="LATE-2",
        )
    with pytest.raises(ValidationError, match="merged into record"):
        assessment_for(duplicate, organization=tenant.hco, actor=tenant.hco_navigator)
    with pytest.raises(ValidationError, match="merged into record"):
        release_create(
            client=duplicate,
            organization=tenant.hco,
            captured_by=tenant.hco_navigator,
            recipients=[tenant.cbo],
            all_network_partners=False,
            categories=["demographics"],
            purpose="care_coordination",
            language="en",
            method="verbal",
            verbal_witness_name="Sam Witness",
            signer="client",
            effective_at=timezone.now(),
            expires_at=timezone.now() + timedelta(days=30),
        )
    with pytest.raises(ValidationError, match="merged into record"):
        referral_for(tenant, client=duplicate, program=ProgramFactory(organization=tenant.cbo))
    assert not ClientIdentifier.objects.filter(client=duplicate).exists()
    assert not Assessment.objects.filter(client=duplicate).exists()
    assert not Referral.objects.filter(client=duplicate).exists()
