"""The backbone as coordination platform (the IG's indirect referral), through the services:
the clinic sends to the backbone's hub, backbone staff route it to a program ("assign to a
program"), and the routed referral's life is reflected on the one it fulfils.

The mapping written out here, rather than read from the code under test:
routed → whole accepted; part accepted → whole unchanged (an event); part in progress →
whole in progress; part on hold / waitlisted → whole on hold / waitlisted; part completed
→ whole completed with the same outcome and note; part failed → whole failed; part
declined, cancelled or entered in error → whole back with the backbone (accepted,
rerouting), never closed; whole cancelled or entered in error → open part cancelled.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from api.serializers.referrals import ReferralSerializer
from audit.models import AuditEvent
from referrals import selectors
from referrals.models import Notification, Referral, ReferralEvent
from referrals.selectors import may_route
from referrals.services import (
    ConsentMissing,
    DuplicateReferral,
    TransitionConflict,
    allowed_moves,
    referral_record_contact,
    referral_send,
    referral_transition,
    referrals_hold_for_release,
)

from .coordination_support import NEEDS, fresh, hub, route, send_to_hub

pytestmark = pytest.mark.django_db


def move(referral, name, user, org, **kwargs):
    return referral_transition(
        referral_id=referral.pk, move=name, actor=user, organization=org, **kwargs
    )


def kinds(referral) -> list[tuple[str, str]]:
    return [
        (e.kind, e.to_status)
        for e in ReferralEvent.objects.filter(referral=referral).order_by("id")
    ]


def notified(user, referral) -> list[str]:
    return list(
        Notification.objects.filter(user=user, referral=referral)
        .order_by("id")
        .values_list("message", flat=True)
    )


def test_routing_creates_the_part_and_accepts_the_whole(tenant):
    h = hub(tenant)
    whole = send_to_hub(h, urgency="urgent", do_not_contact=True)
    assert whole.status == "requested" and whole.receiver_organization == tenant.backbone

    part = route(h, whole)

    part = fresh(part)
    whole = fresh(whole)
    assert part.part_of == whole
    assert list(whole.subreferrals.all()) == [part]
    assert (part.sender_organization, part.sender_user) == (tenant.backbone, h.navigator)
    assert (part.receiver_organization, part.program) == (tenant.cbo, h.pantry)
    assert (part.client, part.status) == (whole.client, "requested")
    assert [n.code for n in part.needs.all()] == NEEDS
    # What keeps the client safe and the work urgent travels with the referral.
    assert part.do_not_contact and part.urgency == "urgent"
    assert part.reason == "Clinic patient; call in the morning."
    assert part.release is not None and tenant.cbo in part.release.recipients.all()
    # Routing is the backbone's acceptance, with an event naming the routed referral.
    assert (whole.status, whole.business_status) == ("accepted", "routed")
    assert kinds(whole) == [
        ("created", "requested"),
        ("transition", "accepted"),
        ("routed", "accepted"),
    ]
    routed = whole.events.get(kind="routed")
    assert (routed.actor, routed.organization, routed.subreferral) == (
        h.navigator,
        tenant.backbone,
        part,
    )
    assert kinds(part) == [("created", "requested")]
    # The backbone owes no updates while the program works it; the program does.
    assert whole.update_due_at is None and whole.reminder_due_at is None
    assert part.ack_due_at is not None
    # The program's people are told of a new referral; the clinic that it is on its way.
    assert notified(tenant.cbo_staff, part) == [
        f"New referral #{part.pk} to Northside Pantry from {tenant.backbone.name}."
    ]
    assert any("was routed to a program" in m for m in notified(h.clinic_user, whole))
    assert any(
        e.object_ids == [whole.pk] and (e.detail or {}).get("routed_to") == part.pk
        for e in AuditEvent.objects.filter(object_type="referral", action="update")
    )
    # The API shows the link (FHIR: Task.partOf).
    seen_by = {"organization": tenant.backbone}
    assert ReferralSerializer(part, context=seen_by).data["part_of"] == whole.pk
    assert ReferralSerializer(whole, context=seen_by).data["part_of"] is None


def test_the_loop_closes_through_the_backbone(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)

    move(part, "accept", h.cbo_user, tenant.cbo)
    assert fresh(whole).status == "accepted"
    assert kinds(whole)[-1] == ("relayed", "accepted")

    move(part, "start", h.cbo_user, tenant.cbo)
    assert fresh(whole).status == "in-progress"
    referral_record_contact(
        referral=part,
        actor=h.cbo_user,
        organization=tenant.cbo,
        contact_type="phone",
        successful=True,
    )
    assert fresh(whole).status == "in-progress"

    move(
        part,
        "complete",
        h.cbo_user,
        tenant.cbo,
        outcome="need-met",
        outcome_note="Signed up for weekly pickup.",
    )
    whole, part = fresh(whole), fresh(part)
    assert (part.status, part.outcome) == ("completed", "need-met")
    assert (whole.status, whole.outcome, whole.outcome_note) == (
        "completed",
        "need-met",
        "Signed up for weekly pickup.",
    )
    assert whole.closed_at is not None
    last = whole.events.order_by("-id").first()
    assert (last.kind, last.from_status, last.to_status, last.subreferral) == (
        "transition",
        "in-progress",
        "completed",
        part,
    )
    # Linkage made the move on the whole, in words that name no one.
    assert last.actor is None and last.organization is None
    assert f"referral #{part.pk}" in last.reason
    # The source follows up with the client; the backbone is not asked to.
    assert whole.follow_up_due_at is not None and part.follow_up_due_at is None
    assert notified(h.clinic_user, whole)[-1] == (
        f"Referral #{whole.pk} to Care coordination hub is now completed: "
        "service provided – need met."  # noqa: RUF001
    )


def test_the_backbone_and_the_lead_navigator_hear_of_each_move_once(tenant):
    from .workflow_support import make_lead_navigator

    h = hub(tenant)
    make_lead_navigator(h.client, h.housing_user)  # named in the release: sees referrals
    whole = send_to_hub(h)
    part = route(h, whole)
    move(part, "accept", h.cbo_user, tenant.cbo)
    move(part, "start", h.cbo_user, tenant.cbo)
    move(part, "complete", h.cbo_user, tenant.cbo, outcome="need-met")

    # The backbone's navigator sent the routed referral: its moves reach them, and the
    # source's referral, which only mirrors them, adds nothing; nor is the rest of the
    # backbone's team told of every step the program takes.
    assert [m.split(" is now ")[-1] for m in notified(h.navigator, part)] == [
        "accepted.",
        "in progress.",
        "completed: service provided – need met.",  # noqa: RUF001
    ]
    mirrored = [m for m in notified(h.navigator, whole) if " is now " in m]
    assert mirrored == []
    # (The team hears once that the referral was accepted — by routing it.)
    assert [m for m in notified(h.navigator_colleague, whole) if " is now " in m] == [
        f"Referral #{whole.pk} to Care coordination hub is now accepted."
    ]
    # The clinic follows its own referral.
    clinic = [m.split(" is now ")[-1] for m in notified(h.clinic_user, whole) if " is now " in m]
    assert [m.split(":")[0].rstrip(".") for m in clinic] == [
        "accepted",
        "in progress",
        "completed",
    ]
    # The lead navigator hears of the outcome once.
    outcomes = [
        m
        for m in Notification.objects.filter(user=h.housing_user).values_list("message", flat=True)
        if "completed" in m
    ]
    assert outcomes == [
        f"Referral #{part.pk} to Northside Pantry is now completed: service provided – need met."  # noqa: RUF001
    ]


def test_waitlist_resume_and_fail_are_mirrored(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)

    move(part, "waitlist", h.cbo_user, tenant.cbo)
    assert (fresh(whole).status, fresh(whole).business_status) == ("on-hold", "waitlisted")
    move(part, "resume", h.cbo_user, tenant.cbo)
    assert fresh(whole).status == "in-progress"
    move(part, "hold", h.cbo_user, tenant.cbo, reason="Client in hospital")
    whole_now = fresh(whole)
    assert whole_now.status == "on-hold"
    # A hold's free text stays between the backbone and the program.
    assert "hospital" not in whole_now.status_reason
    move(part, "resume", h.cbo_user, tenant.cbo)
    move(part, "fail", h.cbo_user, tenant.cbo, reason="Unable to contact after 3 calls")
    whole_now = fresh(whole)
    assert whole_now.status == "failed"
    # Why it failed closes the source's loop, like an outcome.
    assert "Unable to contact after 3 calls" in whole_now.status_reason
    assert [e.to_status for e in whole.events.filter(kind="transition").order_by("id")] == [
        "accepted",
        "on-hold",
        "in-progress",
        "on-hold",
        "in-progress",
        "failed",
    ]


def test_a_declined_part_sends_the_whole_back_to_the_backbone_to_route_again(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)

    move(part, "reject", h.cbo_user, tenant.cbo, reason="Outside our service area")

    whole = fresh(whole)
    assert fresh(part).status == "rejected"
    # Not closed: open, accepted by the backbone, in its queue to route again.
    assert (whole.status, whole.business_status) == ("accepted", "rerouting")
    assert whole.is_open and whole.closed_at is None
    inbox = selectors.referral_box(
        organization=tenant.backbone,
        user=h.navigator,
        box=selectors.INBOX,
        filters=selectors.ListFilters(),
        now=timezone.now(),
    ).filter(status__in=selectors._OPEN)
    assert list(inbox) == [whole]
    # The backbone owes the next step again, and is told.
    assert whole.update_due_at is not None and whole.reminder_due_at is not None
    assert any("routes it again" in m for m in notified(h.navigator, whole))
    assert "Outside our service area" not in whole.status_reason
    assert may_route(whole, tenant.backbone)

    again = route(h, whole, program=h.housing, user=h.navigator_colleague)
    whole = fresh(whole)
    assert (whole.status, whole.business_status) == ("accepted", "routed")
    assert again.receiver_organization == h.housing_org
    assert sorted(whole.subreferrals.values_list("pk", flat=True)) == [part.pk, again.pk]
    move(again, "accept", h.housing_user, h.housing_org)
    move(again, "complete", h.housing_user, h.housing_org, outcome="need-partly-met")
    assert (fresh(whole).status, fresh(whole).outcome) == ("completed", "need-partly-met")


@pytest.mark.parametrize(
    ("name", "who"), [("cancel", "backbone"), ("cancel", "cbo"), ("mark_error", "backbone")]
)
def test_a_part_withdrawn_or_cancelled_sends_the_whole_back(tenant, name, who):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    if name == "cancel" and who == "cbo":
        move(part, "accept", h.cbo_user, tenant.cbo)
    user, org = (h.navigator, tenant.backbone) if who == "backbone" else (h.cbo_user, tenant.cbo)
    move(part, name, user, org, reason="Wrong program")
    assert (fresh(whole).status, fresh(whole).business_status) == ("accepted", "rerouting")


@pytest.mark.parametrize("name", ["cancel", "mark_error"])
def test_cancelling_the_whole_cancels_the_open_part(tenant, name):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    move(part, "accept", h.cbo_user, tenant.cbo)

    move(whole, name, h.clinic_user, tenant.hco, reason="Client moved away")

    whole, part = fresh(whole), fresh(part)
    assert whole.status == ("cancelled" if name == "cancel" else "entered-in-error")
    assert part.status == "cancelled" and part.closed_at is not None
    assert f"#{whole.pk}" in part.status_reason
    # The clinic's free text is not passed to a program it never wrote to.
    assert "moved away" not in part.status_reason
    assert kinds(part)[-1] == ("transition", "cancelled")
    # The whole stays as the clinic closed it.
    assert kinds(whole)[-1] == ("transition", whole.status)
    assert (
        f"Referral #{part.pk} to Northside Pantry is now cancelled"
        in (notified(h.cbo_user, part)[-1])
    )


def test_the_backbone_cancels_the_whole_and_the_part_with_it(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    assert {m.name for m in allowed_moves(whole, tenant.backbone)} == {"cancel"}
    assert {m.name for m in allowed_moves(whole, tenant.hco)} == {"cancel", "mark_error"}
    move(whole, "cancel", h.navigator, tenant.backbone, reason="No program fits")
    assert (fresh(whole).status, fresh(part).status) == ("cancelled", "cancelled")


@pytest.mark.parametrize("name", ["complete", "fail", "hold", "start", "waitlist"])
def test_while_routed_the_whole_follows_the_part(tenant, name):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    events = ReferralEvent.objects.count()
    with pytest.raises(TransitionConflict) as refused:
        move(whole, name, h.navigator, tenant.backbone, reason="r", outcome="need-met")
    assert f"referral #{part.pk}" in str(refused.value)
    assert "was not made" in str(refused.value)
    assert fresh(whole).status == "accepted"
    assert ReferralEvent.objects.count() == events


def test_a_closed_whole_stays_as_it_closed(tenant):
    """The part marked entered in error after it completed the whole: the whole keeps its
    outcome (read-only except notes)."""
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    move(part, "accept", h.cbo_user, tenant.cbo)
    move(part, "complete", h.cbo_user, tenant.cbo, outcome="need-met")
    move(part, "mark_error", h.navigator, tenant.backbone, reason="Logged twice")
    assert (fresh(whole).status, fresh(whole).outcome) == ("completed", "need-met")


def test_a_revoked_release_holds_the_part_and_the_whole_follows(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    move(part, "accept", h.cbo_user, tenant.cbo)
    tenant.release.revoked_at = timezone.now()
    tenant.release.save(update_fields=["revoked_at"])

    assert referrals_hold_for_release(tenant.release.pk) == [part.pk]

    assert fresh(part).status == "on-hold"
    assert fresh(whole).status == "on-hold"


# --- refusals -----------------------------------------------------------------------------


def test_routing_without_a_release_for_the_program_is_refused_and_writes_nothing(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    before = (
        Referral.objects.count(),
        ReferralEvent.objects.count(),
        Notification.objects.count(),
        AuditEvent.objects.count(),
    )

    with pytest.raises(ConsentMissing) as refused:
        route(h, whole, program=h.uncovered)

    message = str(refused.value)
    assert "Unnamed Rides may not see this client's" in message
    assert "Capture a release" in message
    after = (
        Referral.objects.count(),
        ReferralEvent.objects.count(),
        Notification.objects.count(),
        AuditEvent.objects.count(),
    )
    assert after == before
    assert (fresh(whole).status, fresh(whole).business_status) == ("requested", "")


def test_only_the_backbone_routes_what_it_received(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    direct = referral_send(
        client=h.client,
        program=h.housing,
        sender_organization=tenant.hco,
        sender_user=h.clinic_user,
        needs=NEEDS,
    )
    with pytest.raises(PermissionDenied):
        route_as(h, whole, h.clinic_user, tenant.hco)
    with pytest.raises(PermissionDenied):
        route_as(h, direct, h.housing_user, h.housing_org)  # a CBO refers onward instead
    with pytest.raises(PermissionDenied):
        route_as(h, direct, h.navigator, tenant.backbone)  # not the backbone's referral
    assert not whole.subreferrals.exists() and fresh(whole).status == "requested"


def route_as(h, referral, user, org, program=None):
    from referrals.coordination import referral_route

    return referral_route(
        referral=referral, program=program or h.pantry, actor=user, organization=org
    )


def test_routing_refusals(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    with pytest.raises(ValidationError, match="another organization"):
        route(h, whole, program=h.hub_program)
    h.pantry.accepting_referrals = False
    h.pantry.save(update_fields=["accepting_referrals"])
    with pytest.raises(ValidationError, match="not accepting referrals"):
        route(h, whole)
    h.pantry.accepting_referrals = True
    h.pantry.save(update_fields=["accepting_referrals"])
    # An open referral of this client to that program exists already (sent directly).
    direct = referral_send(
        client=h.client,
        program=h.housing,
        sender_organization=tenant.hco,
        sender_user=h.clinic_user,
        needs=NEEDS,
    )
    with pytest.raises(DuplicateReferral) as duplicate:
        route(h, whole, program=h.housing)
    assert duplicate.value.existing == direct
    # A stale page: the status the user saw is no longer current.
    with pytest.raises(TransitionConflict):
        from referrals.coordination import referral_route

        referral_route(
            referral=whole,
            program=h.pantry,
            actor=h.navigator,
            organization=tenant.backbone,
            expected_status="accepted",
        )
    assert not whole.subreferrals.exists()
    part = route(h, whole)
    # Routed already: the second routing is told who routed it where.
    with pytest.raises(TransitionConflict) as again:
        route(h, whole, program=h.housing, user=h.navigator_colleague)
    assert f"already routed this referral to Northside Pantry ({tenant.cbo.name})" in str(
        again.value
    )
    assert f"#{part.pk}" in str(again.value)
    assert list(whole.subreferrals.all()) == [part]
    # A closed referral is not routed.
    move(whole, "cancel", h.clinic_user, tenant.hco, reason="Not needed")
    with pytest.raises(TransitionConflict, match="closed"):
        route(h, whole)


def test_a_third_organization_sees_neither(tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    assert not Referral.objects.visible_to(h.third_org).filter(pk__in=[whole.pk, part.pk])
    assert not selectors.referrals_for_client(organization=h.third_org, client=h.client)
    # Each party sees its own two-party referral: the CBO not the clinic's, the clinic
    # not the backbone's (it sees the routed one's progress on its own page instead).
    assert set(Referral.objects.visible_to(tenant.cbo)) == {part}
    assert set(Referral.objects.visible_to(tenant.hco)) == {whole}
    assert set(Referral.objects.visible_to(tenant.backbone)) == {whole, part}
