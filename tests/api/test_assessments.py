"""Assessments over the API: submit a whole screening, read it under the consent policy."""

import pytest

from assessments.models import Assessment
from audit.models import AuditEvent
from tests.factories import AHC_NEGATIVE, ClientFactory, instrument

pytestmark = pytest.mark.django_db


def _body(client_id, **changes):
    answers = [{"link_id": k, "codes": list(v)} for k, v in AHC_NEGATIVE.items()]
    answers[0] = {"link_id": answers[0]["link_id"], "declined": True}
    return {
        "client": client_id,
        "instrument": "ahc-hrsn-core",
        "mode": "in_person",
        "answers": answers,
        **changes,
    }


def test_submit_and_read(tenant, hco_api, cbo_api):
    instrument()
    response = hco_api.post("/api/v1/assessments/", _body(tenant.client.pk), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assessment = Assessment.objects.get(pk=body["id"])
    assert assessment.status == "completed" and assessment.organization == tenant.hco
    assert body["instrument"] == "ahc-hrsn-core" and body["domains"]
    # The CBO's release covers social needs: it may read the screening; audited.
    read = cbo_api.get(f"/api/v1/assessments/{assessment.pk}/")
    assert read.status_code == 200 and read.json()["id"] == assessment.pk
    event = AuditEvent.objects.filter(object_type="assessment").order_by("-id").first()
    assert event.action == "view" and event.object_ids == [assessment.pk]


def test_not_visible_without_a_release_covering_social_needs(tenant, hco_api, cbo_api):
    instrument()
    other = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    made = hco_api.post("/api/v1/assessments/", _body(other.pk), format="json").json()
    assert cbo_api.get(f"/api/v1/assessments/{made['id']}/").status_code == 404


def test_bad_answers_write_nothing(tenant, hco_api):
    instrument()
    before = Assessment.objects.count()
    unknown = hco_api.post(
        "/api/v1/assessments/",
        _body(tenant.client.pk, answers=[{"link_id": "nope", "codes": ["x"]}]),
        format="json",
    )
    assert unknown.status_code == 400 and "nope" in unknown.json()["error"]["message"]
    ambiguous = hco_api.post(
        "/api/v1/assessments/",
        _body(tenant.client.pk, answers=[{"link_id": "124296"}]),
        format="json",
    )
    assert ambiguous.status_code == 400
    assert ambiguous.json()["error"]["fields"] == {
        "answers[0]": ["Give either answer codes or declined: true."]
    }
    no_such = hco_api.post(
        "/api/v1/assessments/", _body(tenant.client.pk, instrument="nope"), format="json"
    )
    assert no_such.status_code == 400 and "instrument" in no_such.json()["error"]["fields"]
    assert Assessment.objects.count() == before


def test_foreign_client_refused(tenant, foreign_tenant, make_key, bearer):
    instrument()
    foreign = bearer(make_key(foreign_tenant.hco)[1])
    response = foreign.post("/api/v1/assessments/", _body(tenant.client.pk), format="json")
    assert response.status_code == 400 and "client" in response.json()["error"]["fields"]
    assert not Assessment.objects.filter(client=tenant.client).exists()
