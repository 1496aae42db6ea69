"""The backbone as coordination platform in two browsers: a clinic coordinator sends a
referral to the network's care coordination hub; a backbone navigator assigns it to a food
bank's program, choosing with the program's capacity in view; the coordinator sees the
routed referral on its own, and the loop close there when the food bank completes it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from organizations.roles import Role
from referrals.models import Referral
from referrals.services import referral_transition
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, ProgramFactory, member, release_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_referral_routed_through_the_backbone(new_context, tenant):
    ProgramFactory(
        organization=tenant.backbone,
        name="Care coordination hub",
        categories=["food-insecurity", "housing-instability"],
    )
    ProgramFactory(
        organization=tenant.cbo,
        name="Northside Pantry",
        categories=["food-insecurity"],
        capacity=40,
    )
    # The client's release names the backbone (the tenant's names the food bank).
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[tenant.backbone],
        categories=("demographics", "social_needs", "referrals"),
    )
    # And the food bank's release of referral details to the clinic: where the backbone
    # routed the referral is others' record, shown to the clinic only as a release allows.
    release_for(
        tenant.client,
        organization=tenant.cbo,
        recipients=[tenant.hco],
        categories=("referrals",),
    )
    navigator = member(tenant.backbone, Role.NAVIGATOR, email="hub.navigator@browser.test")

    # The clinic's coordinator sends to the hub: it does not know which pantry fits.
    coordinator = new_context().new_page()
    sign_in(coordinator, tenant.hco_navigator.email, PASSWORD)
    coordinator.goto(f"/clients/{tenant.client.pk}/")
    coordinator.get_by_test_id("new-referral").click()
    coordinator.get_by_label("Food Insecurity", exact=True).check()
    coordinator.get_by_role("button", name="Update suggestions for these needs").click()
    coordinator.get_by_test_id("suggestion").filter(has_text="Care coordination hub").get_by_role(
        "radio"
    ).check()
    coordinator.get_by_label("Note for the receiving program").fill("Needs food this week.")
    coordinator.get_by_role("button", name="Send referral").click()
    expect(coordinator).to_have_url(re.compile(r"/referrals/\d+/$"))
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Sent")
    whole = Referral.objects.get()
    assert whole.receiver_organization == tenant.backbone

    # The backbone's navigator, on a phone: the inbox, the referral, "Assign to a program".
    hub = new_context(phone=True).new_page()
    sign_in(hub, navigator.email, PASSWORD)
    hub.get_by_role("link", name="Inbox").click()
    hub.get_by_test_id("referral-row").get_by_role("link").click()
    expect(hub.get_by_test_id("reason")).to_contain_text("Needs food this week.")
    hub.get_by_test_id("route").click()
    expect(hub.get_by_role("heading", level=1)).to_have_text("Assign to a program")
    choice = hub.get_by_test_id("suggestion").filter(has_text="Northside Pantry")
    expect(choice.get_by_test_id("capacity")).to_have_text("Open")
    # Its own hub is not a program to route to.
    expect(hub.get_by_test_id("suggestion").filter(has_text="Care coordination hub")).to_have_count(
        0
    )
    expect(hub.get_by_label("Note for the receiving program")).to_have_value(
        "Needs food this week."
    )
    assert_accessible(hub)
    choice.get_by_role("radio").check()
    hub.get_by_role("button", name="Route to this program").click()
    expect(hub).to_have_url(re.compile(rf"/referrals/{whole.pk}/$"))
    part = Referral.objects.get(part_of=whole)
    expect(hub.get_by_text(f"as referral #{part.pk}.")).to_be_visible()
    expect(hub.get_by_test_id("referral-status")).to_have_text("Accepted")
    expect(hub.get_by_test_id("subreferral-program")).to_have_text("Northside Pantry")
    expect(hub.get_by_test_id("route")).to_have_count(0)
    assert_accessible(hub)

    # The coordinator sees where its referral went, on its own referral.
    coordinator.reload()
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Accepted")
    routed = coordinator.get_by_test_id("subreferral")
    expect(routed.get_by_test_id("subreferral-program")).to_have_text("Northside Pantry")
    expect(routed.get_by_test_id("subreferral-status")).to_have_text("Sent")
    assert_accessible(coordinator)

    # The food bank works it; the coordinator's referral follows, to the outcome.
    for move, extra in (("accept", {}), ("start", {}), ("complete", {"outcome": "need-met"})):
        referral_transition(
            referral_id=part.pk,
            move=move,
            actor=tenant.cbo_staff,
            organization=tenant.cbo,
            **extra,
        )
    coordinator.reload()
    expect(coordinator.get_by_test_id("referral-status")).to_have_text("Completed")
    expect(coordinator.get_by_test_id("outcome")).to_contain_text(
        str(Referral.Outcome.NEED_MET.label)
    )
    expect(routed.get_by_test_id("subreferral-status")).to_have_text("Completed")
    expect(routed.get_by_test_id("subreferral-event").locator("strong")).to_have_text(
        ["Sent", "Accepted", "In progress", f"Completed: {Referral.Outcome.NEED_MET.label}"]
    )
    steps = coordinator.get_by_test_id("event").locator("strong")
    expect(steps).to_have_text(
        [
            "Sent",
            "Opened by the receiver",
            "Accepted",
            "Routed to a program",
            "Routed program: accepted",
            "In progress",
            f"Completed: {Referral.Outcome.NEED_MET.label}",
        ]
    )
