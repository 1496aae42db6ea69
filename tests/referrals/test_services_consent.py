"""A referral goes only where a release lets it go, and stops when the release is revoked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from consent.services import release_revoke
from organizations.models import Organization
from organizations.roles import Role
from referrals import services
from referrals.models import Notification, Referral, ReferralEvent
from referrals.services import (
    ConsentMissing,
    referral_record_contact,
    referral_transition,
    referrals_hold_for_release,
)
from tests.factories import OrganizationFactory, ProgramFactory, member, release_for

from .workflow_support import at_status, parties, send, transitions

pytestmark = pytest.mark.django_db


def nothing_written():
    assert Referral.objects.count() == 0
    assert ReferralEvent.objects.count() == 0
    assert Notification.objects.count() == 0
    assert not AuditEvent.objects.filter(object_type="referral").exists()


def test_sending_without_a_release_naming_the_receiver_is_refused(tenant):
    p = parties(tenant)
    shelter = OrganizationFactory(
        network=tenant.network, name="Harbor Shelter", kind=Organization.Kind.CBO
    )
    beds = ProgramFactory(organization=shelter, name="Beds", categories=["homelessness"])
    with pytest.raises(ConsentMissing) as refused:
        send(p, program=beds, needs=["homelessness"])
    message = str(refused.value.messages[0])
    assert "Harbor Shelter" in message
    assert "demographics and contact" in message
    assert "social needs and assessments" in message
    assert "referral details and outcomes" in message
    assert "release" in message
    assert refused.value.receiver == shelter
    assert set(refused.value.missing) == {"demographics", "social_needs", "referrals"}
    nothing_written()


def test_a_release_that_misses_a_carried_category_is_not_enough(tenant):
    p = parties(tenant)
    tenant.release.covers_referrals = False
    tenant.release.save(update_fields=["covers_referrals"])
    with pytest.raises(ConsentMissing) as refused:
        send(p)
    assert refused.value.missing == ["referrals"]
    message = refused.value.messages[0]
    assert "referral details and outcomes" in message
    assert "demographics" not in message
    nothing_written()


def test_an_all_partners_release_covers_a_partner(tenant):
    p = parties(tenant)
    tenant.release.recipients.clear()
    tenant.release.all_network_partners = True
    tenant.release.save(update_fields=["all_network_partners"])
    referral = send(p)
    assert referral.release == tenant.release


def test_a_referral_to_an_own_program_of_the_client_creator_needs_no_release(tenant):
    p = parties(tenant)
    clinic_program = ProgramFactory(organization=tenant.hco, name="Clinic pantry")
    referral = send(p, program=clinic_program)
    assert referral.release is None and referral.status == "requested"


def revoke(tenant):
    return release_revoke(
        release=tenant.release,
        actor=tenant.hco_navigator,
        organization=tenant.hco,
        reason="Client asked us to stop sharing.",
    )


@pytest.mark.parametrize("status", ["requested", "accepted", "in-progress"])
def test_revoking_the_release_puts_open_referrals_on_hold_and_tells_both_sides(
    tenant, status, django_capture_on_commit_callbacks, mailoutbox
):
    p = parties(tenant)
    referral = at_status(p, status)
    closed = at_status(p, "completed", program=ProgramFactory(organization=tenant.cbo))
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        revoke(tenant)
    referral.refresh_from_db()
    assert referral.status == "on-hold"
    assert "release of information was revoked" in referral.status_reason
    [event] = transitions(referral)
    assert (event.from_status, event.to_status) == (status, "on-hold")
    assert event.actor is None and event.organization is None
    assert "revoked" in event.reason
    assert Referral.objects.get(pk=closed.pk).status == "completed"
    told = set(Notification.objects.filter(referral=referral).values_list("user", flat=True))
    assert p.sender.pk in told  # the sender's person
    assert {p.receiver.pk, p.receiver_colleague.pk} <= told  # the receiver's people
    assert all("revoked" in n.message for n in Notification.objects.filter(referral=referral))
    assert {m.to[0] for m in mailoutbox} >= {p.sender.email, p.receiver.email}
    audit = AuditEvent.objects.filter(object_type="referral", action="update").get()
    assert audit.detail == {"from": status, "to": "on-hold", "outcome": None}


@pytest.mark.django_db(transaction=True)
def test_revocation_holds_referrals_once_the_revocation_commits(tenant):
    """The real path: release_revoke commits, then consent.signals.release_ended reaches
    referrals, which holds the referral in a transaction of its own."""
    p = parties(tenant)
    referral = at_status(p, "accepted")
    revoke(tenant)
    assert Referral.objects.get(pk=referral.pk).status == "on-hold"
    assert len(transitions(referral)) == 1


def test_another_release_still_covering_the_receiver_keeps_the_referral_going(
    tenant, django_capture_on_commit_callbacks
):
    p = parties(tenant)
    referral = at_status(p, "in-progress")
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        revoke(tenant)
    assert Referral.objects.get(pk=referral.pk).status == "in-progress"
    assert transitions(referral) == []


def test_a_referral_closed_meanwhile_does_not_stop_the_others(tenant, monkeypatch):
    p = parties(tenant)
    first = at_status(p, "accepted")
    second = at_status(p, "accepted", program=ProgramFactory(organization=tenant.cbo))
    tenant.release.recipients.clear()
    real = services.referral_transition

    def closed_just_before_the_lock(**kwargs):
        # The receiver cancels the first one between the listing and its row lock.
        if kwargs["referral_id"] == first.pk:
            Referral.objects.filter(pk=first.pk).update(status="cancelled")
        return real(**kwargs)

    monkeypatch.setattr(services, "referral_transition", closed_just_before_the_lock)
    held = referrals_hold_for_release(tenant.release.pk)
    assert held == [second.pk]
    assert Referral.objects.get(pk=first.pk).status == "cancelled"
    assert Referral.objects.get(pk=second.pk).status == "on-hold"


@pytest.mark.parametrize(
    ("status", "move"),
    [
        ("requested", "accept"),
        ("accepted", "start"),
        ("on-hold", "resume"),
        ("requested", "waitlist"),
    ],
)
def test_the_receiver_cannot_go_on_without_a_release(tenant, status, move):
    p = parties(tenant)
    referral = at_status(p, status)
    tenant.release.recipients.clear()
    with pytest.raises(ConsentMissing, match=tenant.cbo.name):
        referral_transition(
            referral_id=referral.pk, move=move, actor=p.receiver, organization=tenant.cbo
        )
    assert Referral.objects.get(pk=referral.pk).status == status
    assert transitions(referral) == []
    # Closing it stays possible: the loop must be able to close.
    referral_transition(
        referral_id=referral.pk,
        move="cancel",
        actor=p.receiver,
        organization=tenant.cbo,
        reason="No release",
    )


def test_after_a_new_release_the_receiver_resumes(tenant, django_capture_on_commit_callbacks):
    p = parties(tenant)
    referral = at_status(p, "in-progress")
    with django_capture_on_commit_callbacks(execute=True):
        revoke(tenant)
    assert Referral.objects.get(pk=referral.pk).status == "on-hold"
    with pytest.raises(ConsentMissing):
        referral_transition(
            referral_id=referral.pk, move="resume", actor=p.receiver, organization=tenant.cbo
        )
    with pytest.raises(ValidationError, match="release"):
        referral_record_contact(
            referral=referral,
            actor=p.receiver,
            organization=tenant.cbo,
            contact_type="phone",
            successful=True,
        )
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    resumed = referral_transition(
        referral_id=referral.pk, move="resume", actor=p.receiver, organization=tenant.cbo
    )
    assert resumed.status == "in-progress"
    assert [(e.from_status, e.to_status) for e in transitions(referral)] == [
        ("in-progress", "on-hold"),
        ("on-hold", "in-progress"),
    ]


def test_a_logged_inbound_referral_needs_only_to_see_the_client(tenant):
    """Nothing was carried from a sender on Linkage: a release letting the receiver see
    who the client is lets it work the referral."""
    from referrals.services import referral_log_inbound

    p = parties(tenant)
    tenant.release.covers_social_needs = False
    tenant.release.covers_referrals = False
    tenant.release.save(update_fields=["covers_social_needs", "covers_referrals"])
    referral = referral_log_inbound(
        client=tenant.client,
        program=p.program,
        actor=p.receiver,
        organization=tenant.cbo,
        source="phone",
        needs=["food-insecurity"],
    )
    accepted = referral_transition(
        referral_id=referral.pk, move="accept", actor=p.receiver, organization=tenant.cbo
    )
    assert accepted.status == "accepted"


def test_a_stranger_organization_cannot_send_for_a_client_it_may_not_see(tenant):
    from django.core.exceptions import PermissionDenied

    p = parties(tenant)
    outsider = member(p.third_org, Role.STAFF, email="outsider@test.test")
    with pytest.raises(PermissionDenied):
        send(p, sender_organization=p.third_org, sender_user=outsider)
    nothing_written()
