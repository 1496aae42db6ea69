"""Draft referrals refused for want of a release wait for the link; signing sends them."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from directory.models import Program
from referrals.models import Referral
from referrals.services import ConsentMissing
from referrals.transitions import referral_transition
from tests.consent_link.conftest import make_link
from tests.factories import ProgramFactory, ReferralFactory, referral_program

pytestmark = pytest.mark.django_db

SIGN = {"signer": "client", "esignature_name": "Quennell Ostrovar", "esignature_confirmed": "on"}


def _draft(tenant, client, program: Program) -> Referral:
    return ReferralFactory(
        client=client,
        program=program,
        sender_organization=tenant.hco,
        sender_user=tenant.hco_navigator,
        status="draft",
        sent_at=None,
    )


@pytest.fixture
def drafts(tenant, neighbour, unreleased_client):
    """Two drafts of the clinic for the client: to the food bank (the link's release will
    name it) and to the neighbour's shelter (it will not)."""
    pantry = _draft(tenant, unreleased_client, referral_program(tenant))
    shelter = _draft(
        tenant,
        unreleased_client,
        ProgramFactory(organization=neighbour.organization, name="Quillfeather Beds"),
    )
    # Both were refused for want of a release, as sending them now would be.
    for draft in (pantry, shelter):
        with pytest.raises(ConsentMissing):
            referral_transition(
                referral_id=draft.pk,
                move="send",
                actor=tenant.hco_navigator,
                organization=tenant.hco,
            )
    return pantry, shelter


def test_the_link_page_offers_the_clients_drafts(tenant, unreleased_client, drafts, login, client):
    pantry, shelter = drafts
    login(tenant.hco_navigator)
    page = client.get(f"/clients/{unreleased_client.pk}/release-links/new/?referral={pantry.pk}")
    body = page.content.decode()
    assert f"#{pantry.pk} · {pantry.program.name}" in body
    assert f"#{shelter.pk} · {shelter.program.name}" in body
    assert re.search(rf'value="{pantry.pk}"[^>]*checked', body)
    assert not re.search(rf'value="{shelter.pk}"[^>]*checked', body)
    response = client.post(
        f"/clients/{unreleased_client.pk}/release-links/new/",
        {
            "recipients": [tenant.cbo.pk],
            "categories": ["demographics", "social_needs", "referrals"],
            "purpose": "care_coordination",
            "channel": "email",
            "waiting_referrals": [pantry.pk, shelter.pk],
        },
    )
    assert response.status_code == 302
    link = unreleased_client.release_links.get()
    assert link.waiting_referral_ids == [pantry.pk, shelter.pk]


def test_only_the_organizations_own_drafts_can_wait(tenant, unreleased_client, drafts):
    pantry, _shelter = drafts
    someone_elses = ReferralFactory(
        client=unreleased_client, sender_organization=tenant.cbo, status="draft", sent_at=None
    )
    with pytest.raises(ValidationError) as refused:
        make_link(tenant, unreleased_client, waiting_referral_ids=[pantry.pk, someone_elses.pk])
    assert "waiting_referrals" in refused.value.message_dict


def test_signing_sends_the_waiting_referrals_and_keeps_the_others_as_drafts_with_why(
    tenant, unreleased_client, drafts, client, login, django_capture_on_commit_callbacks
):
    pantry, shelter = drafts
    link, _url, token = make_link(
        tenant, unreleased_client, waiting_referral_ids=[pantry.pk, shelter.pk]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/c/{token}/").status_code == 302
        assert client.post("/c/sign/", SIGN).status_code == 302
    pantry.refresh_from_db()
    shelter.refresh_from_db()
    link.refresh_from_db()
    assert pantry.status == Referral.Status.REQUESTED
    assert pantry.release == link.release
    assert pantry.sent_at is not None
    # The shelter is not named in the release: it stays a draft, and says why.
    assert shelter.status == Referral.Status.DRAFT
    assert "Quillfeather Shelter may not see this client" in shelter.status_reason
    assert link.waiting_results[str(pantry.pk)] == {"sent": True, "reason": ""}
    assert link.waiting_results[str(shelter.pk)]["sent"] is False
    login(tenant.hco_navigator)
    page = client.get(f"/release-links/{link.pk}/").content.decode()
    assert "Signed" in page
    assert "Quillfeather Shelter may not see this client" in page


def test_a_draft_sent_meanwhile_is_left_alone(
    tenant, unreleased_client, drafts, client, django_capture_on_commit_callbacks
):
    pantry, _shelter = drafts
    link, _url, token = make_link(tenant, unreleased_client, waiting_referral_ids=[pantry.pk])
    Referral.objects.filter(pk=pantry.pk).update(status="cancelled")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/c/{token}/").status_code == 302
        assert client.post("/c/sign/", SIGN).status_code == 302
    pantry.refresh_from_db()
    link.refresh_from_db()
    assert pantry.status == "cancelled"
    assert link.waiting_results[str(pantry.pk)]["sent"] is False


def test_a_refused_send_can_wait_for_a_link_and_goes_out_when_the_client_signs(
    tenant, unreleased_client, client, login, django_capture_on_commit_callbacks
):
    """From the refusal on the compose page: "keep as a draft and send the release by
    link" keeps the referral as an unsent draft (the receiver sees nothing), opens the link
    form with that draft ticked and the receiver named; the client signs; it is sent."""
    program = referral_program(tenant)
    login(tenant.hco_navigator)
    compose = f"/clients/{unreleased_client.pk}/referrals/new/"
    form = {"needs": ["food-insecurity"], "program": program.pk, "urgency": "routine"}
    refused = client.post(compose, {**form, "action": "send"})
    assert refused.status_code == 400
    assert 'data-testid="wait-for-link"' in refused.content.decode()
    assert not Referral.objects.filter(client=unreleased_client).exists()

    kept = client.post(compose, {**form, "action": "wait_for_link"})
    draft = Referral.objects.get(client=unreleased_client)
    assert draft.status == Referral.Status.DRAFT and draft.sent_at is None
    assert draft.ack_due_at is None and draft.release is None
    assert kept.status_code == 302
    assert kept["Location"] == (
        f"/clients/{unreleased_client.pk}/release-links/new/"
        f"?referral={draft.pk}&recipient={tenant.cbo.pk}"
    )
    # Not the receiver's yet: no notification, not in its inbox.
    assert not tenant.cbo_staff.notifications.filter(referral=draft).exists()
    login(tenant.cbo_staff)
    assert f"/referrals/{draft.pk}/" not in client.get("/referrals/inbox/").content.decode()

    login(tenant.hco_navigator)
    body = client.get(kept["Location"]).content.decode()
    assert re.search(rf'value="{draft.pk}"[^>]*checked', body)
    assert re.search(rf'value="{tenant.cbo.pk}"[^>]*checked', body)
    link, _url, token = make_link(tenant, unreleased_client, waiting_referral_ids=[draft.pk])
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/c/{token}/").status_code == 302
        assert client.post("/c/sign/", SIGN).status_code == 302
    draft.refresh_from_db()
    link.refresh_from_db()
    assert draft.status == Referral.Status.REQUESTED
    assert draft.sent_at is not None and draft.release == link.release is not None
    assert tenant.cbo_staff.notifications.filter(referral=draft).exists()
