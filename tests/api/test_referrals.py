"""Referrals over the API: send, list with filters, read, moves, notes; notifications."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from referrals.models import Notification, Referral, ReferralNote
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    referral_for,
    referral_program,
    release_for,
)

pytestmark = pytest.mark.django_db


def _send(api, tenant, **changes):
    body = {
        "client": tenant.client.pk,
        "program": referral_program(tenant).pk,
        "needs": ["food-insecurity"],
        "reason": "Needs groceries this week",
        **changes,
    }
    return api.post("/api/v1/referrals/", body, format="json")


def test_send_referral(tenant, hco_api):
    response = _send(hco_api, tenant)
    assert response.status_code == 201, response.json()
    body = response.json()
    referral = Referral.objects.get(pk=body["id"])
    assert referral.sender_organization == tenant.hco
    assert referral.receiver_organization == tenant.cbo
    assert body["status"] == "requested" and body["needs"] == ["food-insecurity"]


def test_send_referral_refusals_write_nothing(tenant, hco_api, foreign_tenant):
    assert _send(hco_api, tenant, needs=["not-a-need"]).status_code == 400
    foreign_program = referral_program(foreign_tenant)
    wrong = _send(hco_api, tenant, program=foreign_program.pk)
    assert wrong.status_code == 400 and "program" in wrong.json()["error"]["fields"]
    # No release lets the CBO see this client: the service's message, nothing sent.
    unconsented = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    refused = _send(hco_api, tenant, client=unconsented.pk)
    assert refused.status_code == 400
    assert "release" in refused.json()["error"]["message"]
    assert not Referral.objects.exists()
    assert _send(hco_api, tenant).status_code == 201
    duplicate = _send(hco_api, tenant)
    assert duplicate.status_code == 409 and "already has an open referral" in str(duplicate.json())
    assert Referral.objects.count() == 1


def test_state_machine_moves_and_conflicts(tenant, hco_api, cbo_api):
    referral = referral_for(tenant)
    url = f"/api/v1/referrals/{referral.pk}"
    # The sender cannot accept its own referral.
    assert hco_api.post(f"{url}/accept/", {}, format="json").status_code == 403
    accepted = cbo_api.post(f"{url}/accept/", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert cbo_api.post(f"{url}/start/", {}, format="json").json()["status"] == "in-progress"
    no_outcome = cbo_api.post(f"{url}/complete/", {}, format="json")
    assert no_outcome.status_code == 400
    done = cbo_api.post(f"{url}/complete/", {"outcome": "need-met"}, format="json")
    assert done.status_code == 200 and done.json()["outcome"] == "need-met"
    # Terminal: a further move is a conflict with a message.
    late = cbo_api.post(f"{url}/hold/", {"reason": "waitlist"}, format="json")
    assert late.status_code == 409 and late.json()["error"]["message"]
    referral.refresh_from_db()
    assert referral.status == "completed"


def test_declining_with_a_reason_code(tenant, hco_api, cbo_api):
    """The decline reason is a code of the schema's enum; absent, it is "other", which
    needs the words."""
    first = referral_for(tenant)
    second = referral_for(tenant, program=ProgramFactory(organization=tenant.cbo))
    unknown = cbo_api.post(
        f"/api/v1/referrals/{first.pk}/reject/", {"decline_reason": "busy"}, format="json"
    )
    assert unknown.status_code == 400 and "decline_reason" in unknown.json()["error"]["fields"]
    no_words = cbo_api.post(f"/api/v1/referrals/{first.pk}/reject/", {}, format="json")
    assert no_words.status_code == 400 and "reason" in no_words.json()["error"]["fields"]
    coded = cbo_api.post(
        f"/api/v1/referrals/{first.pk}/reject/", {"decline_reason": "no-capacity"}, format="json"
    )
    assert coded.status_code == 200, coded.json()
    body = coded.json()
    assert (body["status"], body["decline_reason"], body["status_reason"]) == (
        "rejected",
        "no-capacity",
        "",
    )
    worded = cbo_api.post(
        f"/api/v1/referrals/{second.pk}/reject/", {"reason": "Moved away"}, format="json"
    )
    assert worded.status_code == 200
    assert (worded.json()["decline_reason"], worded.json()["status_reason"]) == (
        "other",
        "Moved away",
    )
    # The sender reads why, with the other coded fields (none here).
    read = hco_api.get(f"/api/v1/referrals/{first.pk}/").json()
    assert read["decline_reason"] == "no-capacity"
    assert read["requested_service"] is None and read["resulting_activity"] is None


def test_coded_concepts_are_read_only_fields(tenant, hco_api):
    from referrals.concepts import Concept

    referral = referral_for(
        tenant,
        requested_service=Concept(system="http://snomed.info/sct", code="1", display="Pantry"),
    )
    read = hco_api.get(f"/api/v1/referrals/{referral.pk}/").json()
    assert read["requested_service"] == {
        "system": "http://snomed.info/sct",
        "code": "1",
        "display": "Pantry",
    }
    assert read["decline_reason"] == ""


def test_list_filters_read_and_audit(tenant, hco_api, cbo_api):
    first = referral_for(tenant)
    other_client = ClientFactory(
        created_by_organization=tenant.hco, created_by=tenant.hco_navigator
    )
    release_for(
        other_client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
    )
    second = referral_for(tenant, client=other_client)
    cbo_api.post(f"/api/v1/referrals/{second.pk}/accept/", {}, format="json")
    everything = hco_api.get("/api/v1/referrals/").json()["results"]
    assert {r["id"] for r in everything} == {first.pk, second.pk}
    event = AuditEvent.objects.filter(object_type="referral").order_by("-id").first()
    assert event.action == "list" and sorted(event.object_ids) == sorted([first.pk, second.pk])

    def ids(**query):
        response = hco_api.get("/api/v1/referrals/", query)
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids(status="accepted") == {second.pk}
    assert ids(client=tenant.client.pk) == {first.pk}
    assert ids(program=referral_program(tenant).pk) == {first.pk, second.pk}
    assert ids(box="received") == set()
    assert ids(updated_since="2999-01-01T00:00:00Z") == set()
    assert hco_api.get("/api/v1/referrals/", {"status": "bogus"}).status_code == 400
    detail = cbo_api.get(f"/api/v1/referrals/{first.pk}/")
    assert detail.status_code == 200 and detail.json()["client"] == tenant.client.pk
    event = AuditEvent.objects.filter(object_type="referral").order_by("-id").first()
    assert event.action == "view" and event.object_ids == [first.pk]


def test_referral_list_query_count_is_constant(tenant, hco_api):
    referral_for(tenant)
    hco_api.get("/api/v1/referrals/")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert hco_api.get("/api/v1/referrals/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    # The request's savepoint; the key and its last use; the page of referrals; their
    # needs (one prefetch); the consent policy's answers for the page (is the organization
    # an active partner; the releases reaching it); the audit event and its client rows
    # (in their own savepoint).
    assert few <= 13
    for _ in range(4):
        client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
        release_for(
            client,
            organization=tenant.hco,
            recipients=[tenant.cbo],
            categories=("demographics", "social_needs", "referrals"),
        )
        referral_for(tenant, client=client)
    assert count() == few


def test_notes(tenant, hco_api, cbo_api):
    referral = referral_for(tenant)
    url = f"/api/v1/referrals/{referral.pk}/notes/"
    blank = cbo_api.post(url, {"body": "  "}, format="json")
    assert blank.status_code == 400 and not ReferralNote.objects.exists()
    added = cbo_api.post(url, {"body": "Called, left a message"}, format="json")
    assert added.status_code == 201 and added.json()["organization"] == tenant.cbo.pk
    thread = hco_api.get(url)
    assert [n["body"] for n in thread.json()] == ["Called, left a message"]


def test_notifications_list_and_mark_read(tenant, make_key, bearer):
    key, raw = make_key(tenant.cbo)
    api = bearer(raw)
    referral_for(tenant)  # tells the CBO's members, the key's own user among them
    mine = Notification.objects.filter(user=key.user)
    assert mine.count() == 1
    listed = api.get("/api/v1/notifications/").json()["results"]
    assert [n["id"] for n in listed] == [mine.get().pk] and listed[0]["read_at"] is None
    someone_elses = Notification.objects.filter(user=tenant.cbo_staff).first()
    assert api.post(f"/api/v1/notifications/{someone_elses.pk}/read/").status_code == 404
    marked = api.post(f"/api/v1/notifications/{mine.get().pk}/read/")
    assert marked.status_code == 200 and marked.json() == {"marked_read": 1}
    assert mine.get().read_at is not None
    someone_elses.refresh_from_db()
    assert someone_elses.read_at is None
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked_read": 0}


def test_organizations_and_programs(tenant, hco_api, foreign_tenant):
    program = referral_program(tenant)
    orgs = {o["id"] for o in hco_api.get("/api/v1/organizations/").json()["results"]}
    assert {tenant.hco.pk, tenant.cbo.pk, tenant.backbone.pk} == orgs
    assert hco_api.get(f"/api/v1/organizations/{tenant.cbo.pk}/").json()["name"] == tenant.cbo.name
    assert hco_api.get(f"/api/v1/organizations/{foreign_tenant.cbo.pk}/").status_code == 404
    programs = hco_api.get("/api/v1/programs/", {"organization": tenant.cbo.pk}).json()
    assert [p["id"] for p in programs["results"]] == [program.pk]
    foreign_program = referral_program(foreign_tenant)
    assert hco_api.get(f"/api/v1/programs/{foreign_program.pk}/").status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/organizations/", "/api/v1/programs/"])
def test_directory_list_query_counts_are_constant(tenant, hco_api, url):
    from tests.factories import OrganizationFactory, ProgramFactory

    hco_api.get(url)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert hco_api.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(4):
        org = OrganizationFactory(network=tenant.network, name=f"Extra {i}", kind="cbo")
        ProgramFactory(organization=org)
    assert count() == few


def test_notification_list_query_count_is_constant(tenant, make_key, bearer):
    key, raw = make_key(tenant.cbo)
    api = bearer(raw)
    referral_for(tenant)
    api.get("/api/v1/notifications/")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/notifications/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(4):
        Notification.objects.create(user=key.user, kind="test", message="Something changed")
    assert count() == few
