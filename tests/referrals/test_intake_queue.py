"""The intake queue (issue 14): a referral sent to an organization without a program
waits there; the receiver chooses one of its programs when accepting."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as WebClient

from directory.models import Program
from referrals.models import Referral
from referrals.selectors import with_open_referrals
from referrals.services import DuplicateReferral, referral_send, referral_transition
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def _intake(tenant, **fields) -> Referral:
    return referral_send(
        client=tenant.client,
        program=None,
        receiver_organization=tenant.cbo,
        sender_organization=tenant.hco,
        sender_user=tenant.hco_navigator,
        needs=["food-insecurity"],
        **fields,
    )


@pytest.fixture
def programs(tenant) -> list[Program]:
    return [ProgramFactory(organization=tenant.cbo, capacity=5) for _ in range(2)]


def _open_count(program: Program) -> int:
    return with_open_referrals(Program.objects.filter(pk=program.pk)).get().open_referrals


def test_a_second_intake_referral_for_the_client_is_a_duplicate(tenant, programs):
    first = _intake(tenant)
    assert first.program_id is None
    with pytest.raises(DuplicateReferral) as refused:
        _intake(tenant)
    assert refused.value.existing.pk == first.pk
    assert "program to be chosen" in refused.value.messages[0]


def test_capacity_is_unaffected_until_the_program_is_chosen(tenant, programs):
    referral = _intake(tenant)
    assert [_open_count(p) for p in programs] == [0, 0]
    referral_transition(
        referral_id=referral.pk,
        move="accept",
        actor=tenant.cbo_staff,
        organization=tenant.cbo,
        program=programs[0],
    )
    assert [_open_count(p) for p in programs] == [1, 0]


def test_choosing_a_program_the_client_already_has_open_is_a_duplicate(tenant, programs):
    direct = referral_send(
        client=tenant.client,
        program=programs[0],
        sender_organization=tenant.hco,
        sender_user=tenant.hco_navigator,
        needs=["food-insecurity"],
    )
    queued = _intake(tenant)
    with pytest.raises(DuplicateReferral) as refused:
        referral_transition(
            referral_id=queued.pk,
            move="accept",
            actor=tenant.cbo_staff,
            organization=tenant.cbo,
            program=programs[0],
        )
    assert refused.value.existing.pk == direct.pk


def test_an_organization_without_open_programs_takes_no_intake(tenant):
    Program.objects.filter(organization=tenant.cbo).update(accepting_referrals=False)
    with pytest.raises(ValidationError, match="not accepting referrals"):
        _intake(tenant)


def test_the_database_refuses_an_accepted_referral_without_program(tenant, programs):
    from django.db import IntegrityError, transaction

    referral = _intake(tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(status="accepted")


def test_compose_offers_the_organization_and_the_receiver_picks_on_accept(
    client, login, tenant, programs
):
    login(tenant.hco_navigator)
    url = f"/clients/{tenant.client.pk}/referrals/new/"
    page = client.get(url).content.decode()
    assert "Send to the organization; let them choose the program" in page
    assert f'value="org-{tenant.cbo.pk}"' in page
    response = client.post(
        url,
        {
            "action": "send",
            "needs": ["food-insecurity"],
            "program": f"org-{tenant.cbo.pk}",
            "urgency": "routine",
            "reason": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    referral = Referral.objects.get(client=tenant.client, receiver_organization=tenant.cbo)
    assert referral.program_id is None

    client = WebClient()  # the receiver's own session
    login(tenant.cbo_staff, client)
    detail = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert "Program: to be chosen (intake)" in detail
    assert 'data-testid="intake-program-picker"' in detail
    inbox = client.get("/referrals/inbox/", {"intake": "on"}).content.decode()
    assert f"#{referral.pk}" in inbox
    move = {"move": "accept", "expected_status": "requested"}
    refused = client.post(f"/referrals/{referral.pk}/move/", move)
    assert refused.status_code == 400
    assert "Choose the program" in refused.content.decode()
    client.post(f"/referrals/{referral.pk}/move/", {**move, "program": programs[1].pk})
    referral.refresh_from_db()
    assert (referral.status, referral.program_id) == ("accepted", programs[1].pk)
