"""The backbone's routing in the browser pages: the "assign to a program" step with
capacity, a refusal for consent that says what to do, a colleague's routing reported, the
routed referral's progress on the clinic's page, and nothing for a third organization."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from audit.models import AuditEvent
from referrals.models import Referral, ReferralEvent
from referrals.services import referral_transition

from .coordination_support import fresh, hub, route, send_to_hub

pytestmark = pytest.mark.django_db


def url(referral, action: str = "") -> str:
    return f"/referrals/{referral.pk}/{action + '/' if action else ''}"


def body_of(response) -> str:
    return response.content.decode()


def route_post(client, whole, program, **data):
    return client.post(
        url(whole, "route"),
        {
            "program": program.pk,
            "reason": data.pop("reason", "Please call in the morning."),
            "expected_status": data.pop("expected", whole.status),
            **data,
        },
    )


def test_backbone_staff_are_offered_the_step_and_route_with_capacity_shown(client, login, tenant):
    h = hub(tenant, capacity=1)
    whole = send_to_hub(h)
    login(h.navigator)

    detail = body_of(client.get(url(whole)))
    assert 'data-testid="route"' in detail
    assert "Assign to a program" in detail

    page = client.get(url(whole, "route"))
    assert page.status_code == 200
    body = body_of(page)
    # The programs of other organizations with their capacity; not the backbone's own.
    assert "Northside Pantry" in body and "Rent Help" in body
    assert 'data-testid="capacity"' in body
    assert "Care coordination hub</strong>" not in body
    # The clinic's note is offered as the note for the program.
    assert "Out of groceries; mornings are best." in body

    response = route_post(client, whole, h.pantry)
    assert response.status_code == 302
    assert response["Location"] == url(whole)
    part = Referral.objects.get(part_of=whole)
    assert (part.program, part.reason) == (h.pantry, "Please call in the morning.")
    after = body_of(client.get(url(whole)))
    assert f"routed to Northside Pantry ({tenant.cbo.name}) as referral #{part.pk}" in after
    assert 'data-testid="route"' not in after  # routed: not offered again
    assert 'data-testid="subreferral"' in after
    # The pantry is full now (capacity 1): the next routing page says so.
    other = send_to_hub(h, client=_second_client(h))
    assert "Waitlist" in body_of(client.get(url(other, "route")))


def _second_client(h):
    from tests.factories import ClientFactory, release_for

    person = ClientFactory(created_by_organization=h.tenant.hco, given_name="Second")
    release_for(
        person,
        organization=h.tenant.hco,
        recipients=[h.backbone, h.tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    return person


def test_routing_without_a_release_says_so_and_offers_to_capture_one(client, login, tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    login(h.navigator)
    before = (Referral.objects.count(), ReferralEvent.objects.count())

    response = route_post(client, whole, h.uncovered, reason="Keep this note")

    assert response.status_code == 400
    body = body_of(response)
    assert 'data-testid="consent-missing"' in body
    assert "Unnamed Rides may not see this client" in body
    assert "The referral was not routed." in body
    assert f"/clients/{h.client.pk}/releases/new/" in body
    # What was chosen and written is kept for the second try.
    assert "Keep this note" in body
    # One radio of the group is ticked (the suggestion or the directory's): the chosen one.
    ticked = re.findall(r'name="program" value="([\w-]+)" id="[\w-]+" checked', body)
    assert ticked == [str(h.uncovered.pk)], ticked
    assert (Referral.objects.count(), ReferralEvent.objects.count()) == before
    assert fresh(whole).status == "requested"


def test_a_colleague_routing_first_is_reported(client, login, tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    login(h.navigator)
    assert client.get(url(whole, "route")).status_code == 200
    part = route(h, whole, program=h.housing, user=h.navigator_colleague)

    response = route_post(client, whole, h.pantry, expected="requested")

    assert response.status_code == 409
    body = body_of(response)
    assert 'data-testid="conflict"' in body
    assert f"already routed this referral to Rent Help ({h.housing_org.name})" in body
    assert list(Referral.objects.filter(part_of=whole)) == [part]


def test_only_the_backbone_gets_the_step(client, login, tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    login(h.clinic_user)
    assert 'data-testid="route"' not in body_of(client.get(url(whole)))
    response = client.post(url(whole, "route"), {"program": h.pantry.pk})
    assert response.status_code == 403
    assert "routes the referrals it received" in body_of(response)
    assert not Referral.objects.filter(part_of=whole).exists()


def test_the_clinic_sees_the_routed_referrals_progress_under_a_release_naming_it(
    client, login, tenant
):
    """The routed referral is the backbone's and the program's record: the clinic that sent
    the whole sees its program and progress when a release names the clinic for referral
    details (creating the client's record grants no such sight: provenance)."""
    from tests.factories import release_for

    h = hub(tenant)
    release_for(
        tenant.client,
        organization=tenant.backbone,
        recipients=[tenant.hco],
        categories=("referrals",),
        captured_by=h.navigator,
    )
    whole = send_to_hub(h)
    part = route(h, whole)
    cbo = login(h.cbo_user, HttpClient())
    cbo.get(url(part))  # opened by the program
    for name, extra in (("accept", {}), ("complete", {"outcome": "need-met"})):
        referral_transition(
            referral_id=part.pk, move=name, actor=h.cbo_user, organization=tenant.cbo, **extra
        )

    login(h.clinic_user)
    response = client.get(url(whole))
    body = body_of(response)
    assert 'data-testid="referral-status">Completed' in body
    assert 'data-testid="outcome"' in body
    assert 'data-testid="subreferral-program">Northside Pantry' in body
    assert 'data-testid="subreferral-status">Completed' in body
    for step in ("Sent", "Opened by the receiver", "Accepted", "Completed: Service provided"):
        assert step in body
    # The clinic reads the routed referral's progress but cannot open it (not its own).
    assert client.get(url(part)).status_code == 404
    # The read of the routed referral is audited.
    audit = AuditEvent.objects.filter(object_type="referral", action="view").latest("id")
    assert audit.object_ids == [part.pk]

    # The program sees who routed it, for whom.
    program_view = body_of(cbo.get(url(part)))
    assert 'data-testid="routed-by"' in program_view
    assert tenant.backbone.name in program_view


def test_without_a_release_for_referrals_the_clinic_sees_only_that_it_was_routed(
    client, login, tenant
):
    """A sender that did not create the client sees the routed referral only as a release
    lets it see the client's referrals."""
    from organizations.models import Organization
    from organizations.roles import Role
    from referrals.services import referral_send
    from tests.factories import OrganizationFactory, member, release_for

    h = hub(tenant)
    other_clinic = OrganizationFactory(
        network=tenant.network, name="Westside Clinic", kind=Organization.Kind.HCO
    )
    sender = member(other_clinic, Role.NAVIGATOR)
    release_for(
        h.client,
        organization=tenant.hco,
        recipients=[other_clinic],
        categories=("demographics", "social_needs"),
    )
    whole = referral_send(
        client=h.client,
        program=h.hub_program,
        sender_organization=other_clinic,
        sender_user=sender,
        needs=["food-insecurity"],
    )
    part = route(h, whole)
    login(sender)
    body = body_of(client.get(url(whole)))
    assert 'data-testid="subreferral-hidden"' in body
    assert "Northside Pantry" not in body and tenant.cbo.name not in body
    assert 'data-testid="routed-to"' not in body
    assert "Routed to a program" in body  # that it happened, on its own referral
    # The backbone, party to both, sees where it went.
    backbone = login(h.navigator, HttpClient())
    assert f"Northside Pantry, {tenant.cbo.name} (referral #{part.pk})" in body_of(
        backbone.get(url(whole))
    )


def test_a_declined_routing_is_back_in_the_backbone_inbox_to_route_again(client, login, tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    referral_transition(
        referral_id=part.pk,
        move="reject",
        actor=h.cbo_user,
        organization=tenant.cbo,
        reason="Outside our area",
    )
    login(h.navigator)
    inbox = body_of(client.get("/referrals/inbox/"))
    assert 'data-testid="reroute"' in inbox
    detail = body_of(client.get(url(whole)))
    assert 'data-testid="route"' in detail and 'data-testid="reroute-note"' in detail
    assert "Back with the backbone to route again" in detail
    route_page = body_of(client.get(url(whole, "route")))
    assert 'data-testid="earlier-routings"' in route_page
    assert "Outside our area" in route_page  # the backbone sent it: it sees why
    assert route_post(client, whole, h.housing, expected="accepted").status_code == 302
    assert Referral.objects.filter(part_of=whole, status="requested").count() == 1


def test_a_third_organization_sees_neither(client, login, tenant):
    h = hub(tenant)
    whole = send_to_hub(h)
    part = route(h, whole)
    login(h.third_user)
    for path in (url(whole), url(part), url(whole, "route")):
        response = client.get(path)
        assert response.status_code == 404, path
        assert h.client.family_name not in body_of(response)
    assert client.post(url(whole, "route"), {"program": h.pantry.pk}).status_code == 404
    inbox = body_of(client.get("/referrals/inbox/", {"tab": "all"}))
    assert h.client.family_name not in inbox


@pytest.mark.parametrize("box", ["inbox", "sent"])
def test_the_backbone_lists_cost_the_same_with_routed_referrals(
    client, login, tenant, django_assert_max_num_queries, box
):
    h = hub(tenant)
    login(h.navigator)

    def count() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert client.get(f"/referrals/{box}/", {"tab": "all"}).status_code == 200
        return len(captured.captured_queries)

    route(h, send_to_hub(h))
    few = count()
    for _ in range(4):
        route(h, send_to_hub(h, client=_second_client(h)))
    assert Referral.objects.filter(part_of__isnull=False).count() == 5
    assert count() == few
