"""The referral detail page: what each side sees of the client, the do-not-contact banner,
the actions each side may take, conflicts, notes, contacts, assignment, the chain, audit;
a third organization sees nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from audit.models import AuditEvent
from organizations.roles import Role
from referrals import services
from referrals.models import Referral, ReferralEvent, ReferralNote
from tests.factories import (
    ClientFactory,
    OrganizationFactory,
    PartnershipFactory,
    ProgramFactory,
    ReferralFactory,
    member,
    referral_for,
    referral_program,
    release_for,
)

pytestmark = pytest.mark.django_db


def url(referral, action: str = "") -> str:
    return f"/referrals/{referral.pk}/{action + '/' if action else ''}"


def body_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def sent(tenant):
    """Sent through the real service by the HCO navigator to the CBO's pantry."""
    return referral_for(tenant, reason="Needs groceries before Friday; prefers mornings.")


@pytest.fixture
def third(tenant):
    """A third organization of the same network, in partnership, named in a release that
    covers everything: it still may not open a referral it is not party to."""
    org = OrganizationFactory(network=tenant.network, name="Third Street Shelter")
    PartnershipFactory(network=tenant.network, organizations=[tenant.hco, org])
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[org],
        categories=("demographics", "social_needs", "referrals"),
    )
    return member(org, Role.STAFF)


def move(client, referral, name, **data):
    return client.post(
        url(referral, "move"),
        {"move": name, "expected_status": data.pop("expected", referral.status), **data},
    )


def test_the_receiver_opening_it_is_recorded_once_and_the_sender_sees_it(
    client, login, tenant, sent
):
    login(tenant.hco_navigator)
    client.get(url(sent))
    sent.refresh_from_db()
    assert sent.opened_at is None  # the sender looking is not the receiver opening

    cbo = login(tenant.cbo_staff, HttpClient())
    assert cbo.get(url(sent)).status_code == 200
    cbo.get(url(sent))
    sent.refresh_from_db()
    assert sent.opened_at is not None
    assert sent.events.filter(kind=ReferralEvent.Kind.OPENED).count() == 1
    assert "Opened by the receiver" in body_of(client.get(url(sent)))


def test_the_receiver_sees_the_client_as_far_as_the_release_allows(client, login, tenant, sent):
    login(tenant.cbo_staff)
    body = body_of(client.get(url(sent)))
    person = tenant.client
    assert person.display_name in body
    assert person.date_of_birth.strftime("%m/%d/%Y") in body
    assert "Food Insecurity" in body
    assert "Needs groceries before Friday" in body


def test_without_a_release_for_demographics_the_client_is_only_a_number(client, login, tenant):
    person = ClientFactory(
        created_by_organization=tenant.hco, given_name="Ottoline", family_name="Brackwater"
    )
    release_for(person, organization=tenant.hco, recipients=[tenant.cbo], categories=("referrals",))
    row = ReferralFactory(
        client=person,
        program=referral_program(tenant),
        sender_user=tenant.hco_navigator,
        reason="Call after 5pm",
        needs=["housing-instability"],
    )
    login(tenant.cbo_staff)
    body = body_of(client.get(url(row)))
    assert "Brackwater" not in body
    assert person.date_of_birth.strftime("%m/%d/%Y") not in body
    assert person.phone not in body
    assert f"Client #{person.pk}" in body
    assert 'data-testid="client-hidden"' in body
    # Needs are social-needs data the release does not cover; the referral itself it does.
    assert "Housing Instability" not in body
    assert "Call after 5pm" in body
    # The sender (who created the record) sees all of it.
    hco = login(tenant.hco_navigator, HttpClient())
    sender_view = body_of(hco.get(url(row)))
    assert "Brackwater" in sender_view
    assert "Housing Instability" in sender_view


def test_the_detail_read_is_audited_with_the_categories_shown(client, login, tenant, sent):
    login(tenant.cbo_staff)
    client.get(url(sent))
    event = AuditEvent.objects.filter(object_type="referral", action="view").latest("id")
    assert event.object_ids == [sent.pk]
    assert event.organization_id == tenant.cbo.pk
    assert event.detail["categories"] == ["demographics", "referrals", "social_needs"]
    assert list(event.clients.values_list("client_id", flat=True)) == [tenant.client.pk]


def test_do_not_contact_is_shown_first_to_both_sides(client, login, tenant):
    flagged = referral_for(tenant, do_not_contact=True)
    for user in (tenant.cbo_staff, tenant.hco_navigator):
        c = login(user, HttpClient())
        body = body_of(c.get(url(flagged)))
        banner = body.index('data-testid="do-not-contact"')
        assert "Do not contact the client directly" in body
        if user == tenant.cbo_staff:
            assert banner < body.index('data-testid="actions"')
            assert banner < body.index('data-testid="client-summary"')
    plain = referral_for(tenant, program=ProgramFactory(organization=tenant.cbo))
    assert 'data-testid="do-not-contact"' not in body_of(client.get(url(plain)))


def test_each_side_is_offered_only_its_own_moves(client, login, tenant, sent):
    login(tenant.cbo_staff)
    receiver = body_of(client.get(url(sent)))
    for name in ("accept", "reject", "waitlist", "cancel"):
        assert f'data-testid="move-{name}"' in receiver
    assert 'data-testid="move-mark_error"' not in receiver
    assert 'data-testid="record-contact"' in receiver
    assert 'data-testid="assign"' in receiver

    hco = login(tenant.hco_navigator, HttpClient())
    sender = body_of(hco.get(url(sent)))
    assert set(re.findall(r'data-testid="move-([a-z_]+)"', sender)) == {"cancel", "mark_error"}
    assert 'data-testid="record-contact"' not in sender
    assert 'data-testid="assign"' not in sender
    # A move that is not the sender's is refused.
    assert move(hco, sent, "accept").status_code == 403
    sent.refresh_from_db()
    assert sent.status == "requested"


def test_accept_then_complete_with_an_outcome_closes_the_loop(client, login, tenant, sent):
    login(tenant.cbo_staff)
    client.get(url(sent))
    response = move(client, sent, "accept")
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.status == "accepted"
    response = move(
        client, sent, "complete", outcome="need-met", outcome_note="Enrolled in weekly pickup"
    )
    assert response.status_code == 302
    sent.refresh_from_db()
    assert (sent.status, sent.outcome) == ("completed", "need-met")

    hco = login(tenant.hco_navigator, HttpClient())
    body = body_of(hco.get(url(sent)))
    need_met = str(Referral.Outcome.NEED_MET.label)
    assert need_met in body
    assert "Enrolled in weekly pickup" in body
    titles = re.findall(r'data-testid="event" data-kind="[a-z]+">\s*<strong>([^<]+)</strong>', body)
    assert titles == [
        "Sent",
        "Opened by the receiver",
        "Accepted",
        f"Completed: {need_met}",
    ]


def test_a_reason_is_required_to_decline_and_an_outcome_to_complete(client, login, tenant, sent):
    login(tenant.cbo_staff)
    refused = move(client, sent, "reject", reason="Full")
    assert refused.status_code == 400
    assert "Choose why you decline." in body_of(refused)
    # The declining form stays open with the error beside the reason.
    assert '<details open data-testid="move-reject">' in body_of(refused)
    # "Other" says why in words.
    other = move(client, sent, "reject", decline_reason="other", reason="  ")
    assert other.status_code == 400
    assert "the reason “Other” needs an explanation" in body_of(other)
    assert '<details open data-testid="move-reject">' in body_of(other)
    sent.refresh_from_db()
    assert sent.status == "requested"

    move(client, sent, "accept")
    sent.refresh_from_db()
    no_outcome = move(client, sent, "complete")
    assert no_outcome.status_code == 400
    assert "Choose the outcome." in body_of(no_outcome)
    sent.refresh_from_db()
    assert sent.status == "accepted"

    declined = referral_for(tenant, program=ProgramFactory(organization=tenant.cbo))
    done = move(
        client, declined, "reject", decline_reason="outside-service-area", reason="North only"
    )
    assert done.status_code == 302
    declined.refresh_from_db()
    assert (declined.status, declined.decline_reason, declined.status_reason) == (
        "rejected",
        "outside-service-area",
        "North only",
    )
    # A coded reason needs no words.
    coded = referral_for(tenant, program=ProgramFactory(organization=tenant.cbo))
    assert move(client, coded, "reject", decline_reason="no-capacity").status_code == 302
    coded.refresh_from_db()
    assert (coded.decline_reason, coded.status_reason) == ("no-capacity", "")


def test_the_sender_sees_why_it_was_declined_on_the_page_and_in_the_timeline(
    client, login, tenant, sent
):
    login(tenant.cbo_staff)
    move(client, sent, "reject", decline_reason="not-eligible", reason="Over the income limit")
    hco = login(tenant.hco_navigator, HttpClient())
    body = body_of(hco.get(url(sent)))
    banner = re.search(r'data-testid="decline-reason">(.*?)</p>', body, re.S).group(1)
    assert "Not eligible" in banner and "Over the income limit" in banner
    titles = re.findall(r'data-testid="event" data-kind="[a-z]+">\s*<strong>([^<]+)</strong>', body)
    assert titles[-1] == "Declined: Not eligible"


def test_a_conflict_says_what_happened_and_shows_the_fresh_state(client, login, tenant, sent):
    colleague = member(tenant.cbo, Role.STAFF, first_name="Marisol", last_name="Quintero")
    login(tenant.cbo_staff)
    # The colleague accepts while this user still looks at the "requested" page.
    services.referral_transition(
        referral_id=sent.pk, move="accept", actor=colleague, organization=tenant.cbo
    )
    response = move(
        client, sent, "reject", decline_reason="no-capacity", reason="Full", expected="requested"
    )
    assert response.status_code == 409
    body = body_of(response)
    assert 'data-testid="conflict"' in body
    assert "Marisol Quintero" in body
    assert "was not made" in body
    assert re.search(r'data-testid="referral-status">Accepted<', body)
    sent.refresh_from_db()
    assert sent.status == "accepted"


def test_a_closed_referral_is_read_only_except_notes(client, login, tenant, sent):
    services.referral_transition(
        referral_id=sent.pk,
        move="cancel",
        actor=tenant.hco_navigator,
        organization=tenant.hco,
        reason="Client moved away",
    )
    login(tenant.cbo_staff)
    body = body_of(client.get(url(sent)))
    assert 'data-testid="closed-note"' in body
    assert 'data-testid="actions"' not in body
    assert 'data-testid="move-' not in body
    assert 'data-testid="record-contact"' not in body
    assert "Add note" in body
    # A move posted anyway (an old tab) is refused with the fresh state.
    assert move(client, sent, "accept", expected="requested").status_code == 409
    contact = client.post(url(sent, "contacts"), {"contact_type": "phone", "successful": "yes"})
    assert contact.status_code == 400
    assert "This referral is closed" in body_of(contact)
    assert client.post(url(sent, "notes"), {"body": "Closing our file too."}).status_code == 302
    assert ReferralNote.objects.filter(referral=sent).count() == 1


def test_notes_are_shared_by_sender_and_receiver_only(client, login, tenant, sent, third):
    login(tenant.hco_navigator)
    assert client.post(url(sent, "notes"), {"body": "She can come on Tuesdays."}).status_code == 302
    cbo = login(tenant.cbo_staff, HttpClient())
    assert "She can come on Tuesdays." in body_of(cbo.get(url(sent)))
    assert cbo.post(url(sent, "notes"), {"body": "Booked Tuesday 10am."}).status_code == 302
    assert "Booked Tuesday 10am." in body_of(client.get(url(sent)))

    outsider = login(third, HttpClient())
    assert outsider.get(url(sent)).status_code == 404
    assert outsider.post(url(sent, "notes"), {"body": "Let me in"}).status_code == 404
    assert ReferralNote.objects.filter(referral=sent).count() == 2
    empty = client.post(url(sent, "notes"), {"body": "   "})
    assert empty.status_code == 400
    assert "Write the note first." in body_of(empty)


def test_a_third_organization_gets_404_on_every_referral_route(client, login, tenant, sent, third):
    login(third)
    assert client.get(url(sent)).status_code == 404
    assert client.get(url(sent, "onward")).status_code == 404
    for action in ("move", "notes", "contacts", "assign", "onward"):
        assert client.post(url(sent, action), {"move": "accept"}).status_code == 404
    sent.refresh_from_db()
    assert sent.status == "requested"


def test_the_receiver_records_a_contact(client, login, tenant, sent):
    login(tenant.cbo_staff)
    response = client.post(
        url(sent, "contacts"),
        {"contact_type": "phone", "successful": "yes", "note": "Left the pantry hours"},
    )
    assert response.status_code == 302
    event = sent.events.get(kind=ReferralEvent.Kind.CONTACT)
    assert (event.contact_type, event.contact_successful) == ("phone", True)
    assert "Contacted by phone call: reached the client" in body_of(client.get(url(sent)))
    missing = client.post(url(sent, "contacts"), {"contact_type": "phone"})
    assert missing.status_code == 400
    assert "Say whether the client was reached." in body_of(missing)

    hco = login(tenant.hco_navigator, HttpClient())
    refused = hco.post(url(sent, "contacts"), {"contact_type": "phone", "successful": "yes"})
    assert refused.status_code == 403


def test_the_receiver_assigns_one_of_its_own_staff(client, login, tenant, sent):
    colleague = member(tenant.cbo, Role.STAFF, first_name="Ines", last_name="Dubois")
    login(tenant.cbo_staff)
    assert client.post(url(sent, "assign"), {"assignee": colleague.pk}).status_code == 302
    sent.refresh_from_db()
    assert sent.assigned_to == colleague
    assert "Assigned to Ines Dubois" in body_of(client.get(url(sent)))
    # Someone of another organization is not a choice.
    refused = client.post(url(sent, "assign"), {"assignee": tenant.hco_navigator.pk})
    assert refused.status_code == 400
    assert "Select a valid choice" in body_of(refused)
    sent.refresh_from_db()
    assert sent.assigned_to == colleague
    assert client.post(url(sent, "assign"), {"assignee": ""}).status_code == 302
    sent.refresh_from_db()
    assert sent.assigned_to is None


def test_the_chain_shows_on_both_referrals(client, login, tenant, sent):
    other_cbo = OrganizationFactory(network=tenant.network, name="Harbor Housing")
    release_for(
        tenant.client,
        organization=tenant.cbo,
        recipients=[other_cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    services.referral_transition(
        referral_id=sent.pk, move="accept", actor=tenant.cbo_staff, organization=tenant.cbo
    )
    onward = services.referral_send(
        client=tenant.client,
        program=ProgramFactory(organization=other_cbo, name="Rapid Rehousing"),
        sender_organization=tenant.cbo,
        sender_user=tenant.cbo_staff,
        needs=["housing-instability"],
        referred_from=sent,
    )
    login(tenant.cbo_staff)
    original = body_of(client.get(url(sent)))
    assert 'data-testid="onward"' in original
    assert "Rapid Rehousing" in original and "Harbor Housing" in original
    later = body_of(client.get(url(onward)))
    assert re.search(
        rf'data-testid="referred-from">Referred from:\s*<a href="/referrals/{sent.pk}/"', later
    )


def test_missing_or_unknown_move_is_a_clear_error(client, login, tenant, sent):
    login(tenant.cbo_staff)
    response = client.post(url(sent, "move"), {"move": "teleport", "expected_status": "requested"})
    assert response.status_code == 400
    assert "That action is not available" in body_of(response)
    assert Referral.objects.get(pk=sent.pk).status == "requested"
