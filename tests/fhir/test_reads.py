"""Reads and searches: Task search by owner, requester, status, patient and _lastUpdated,
paged with next links; audit rows for every read of client data; the directory; the
renderers the webhooks use; keys, sessions, throttling and Idempotency-Key."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from audit.models import AuditEvent
from interop.fhir.render import service_request_resource, task_resource
from referrals.models import Referral
from referrals.services import referral_transition
from tests.factories import ClientFactory, ProgramFactory, referral_for, release_for

pytestmark = pytest.mark.django_db


def _clients(tenant, count: int) -> list:
    """Clients of the clinic, each with a release naming the food bank."""
    out = []
    for _ in range(count):
        client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
        release_for(
            client,
            organization=tenant.hco,
            recipients=[tenant.cbo],
            categories=("demographics", "social_needs", "referrals"),
        )
        out.append(client)
    return out


def _referrals(tenant, count: int) -> list[Referral]:
    return [referral_for(tenant)] + [
        referral_for(tenant, client=c) for c in _clients(tenant, count - 1)
    ]


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    Bundle.model_validate(response.json())
    return [e["resource"]["id"] for e in response.json()["entry"] if e["search"]["mode"] == "match"]


# A Sunday evening in Chicago that is Monday in UTC, three days after a DST change: the
# _lastUpdated dates below are days of the server's time zone whatever the hour.
@time_machine.travel(datetime(2027, 3, 14, 20, 30, tzinfo=ZoneInfo("America/Chicago")), tick=True)
def test_task_search_filters(tenant, hco_fhir, cbo_fhir):
    first, second, third = _referrals(tenant, 3)
    referral_transition(
        referral_id=second.pk, move="accept", actor=tenant.cbo_staff, organization=tenant.cbo
    )
    everything = {str(r.pk) for r in (first, second, third)}
    assert set(_ids(cbo_fhir.get("Task", {"owner": f"Organization/{tenant.cbo.pk}"}))) == everything
    assert _ids(cbo_fhir.get("Task", {"owner": str(tenant.hco.pk)})) == []
    assert (
        set(_ids(hco_fhir.get("Task", {"requester": f"Organization/{tenant.hco.pk}"})))
        == everything
    )
    assert _ids(hco_fhir.get("Task", {"status": "accepted"})) == [str(second.pk)]
    assert set(_ids(hco_fhir.get("Task", {"status": "accepted,requested"}))) == everything
    assert _ids(hco_fhir.get("Task", {"patient": f"Patient/{tenant.client.pk}"})) == [str(first.pk)]
    assert _ids(hco_fhir.get("Task", {"_id": f"{first.pk},{third.pk}"})) == [
        str(third.pk),
        str(first.pk),
    ]
    # A poller's question: what changed since I last looked?
    Referral.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    changed = _ids(
        cbo_fhir.get("Task", {"owner": str(tenant.cbo.pk), "_lastUpdated": f"gt{since}"})
    )
    assert set(changed) == {str(second.pk), str(third.pk)}
    # A bare date is a day of the server's time zone: take it there (in UTC it is another
    # day in the evening, and the test would fail at some hours).
    day = timezone.localdate(timezone.now() - timedelta(days=3)).isoformat()
    older = _ids(cbo_fhir.get("Task", {"_lastUpdated": [f"ge{day}", f"lt{since}"]}))
    assert older == [str(first.pk)]


def test_task_search_pages_with_next_links(tenant, cbo_fhir):
    referrals = _referrals(tenant, 5)
    seen: list[str] = []
    response = cbo_fhir.get("Task", {"_count": "2", "status": "requested"})
    pages = 0
    while True:
        pages += 1
        seen += _ids(response)
        links = {link["relation"]: link["url"] for link in response.json()["link"]}
        if "next" not in links:
            break
        assert "status=requested" in links["next"] and "_count=2" in links["next"]
        response = cbo_fhir.api.get(links["next"])
    assert pages == 3
    assert seen == [str(r.pk) for r in sorted(referrals, key=lambda r: -r.pk)]


def test_task_search_costs_the_same_for_any_page(tenant, cbo_fhir, django_assert_max_num_queries):
    _referrals(tenant, 2)
    cbo_fhir.get("Task")
    # The request's savepoint; the key and its last use; the page of referrals (with
    # clients, programs and organizations) and their needs; which of the page's clients
    # the organization may see, per category (3 x 2: partnership, clients); the audit
    # event and its client rows in their own savepoint.
    with django_assert_max_num_queries(16) as few:
        assert cbo_fhir.get("Task").status_code == 200
    for client in _clients(tenant, 4):
        referral_for(tenant, client=client)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_ids(cbo_fhir.get("Task"))) == 6


def test_include_the_focus(tenant, cbo_fhir):
    referral = referral_for(tenant)
    body = cbo_fhir.get("Task", {"_id": str(referral.pk), "_include": "Task:focus"}).json()
    kinds = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in body["entry"]]
    assert kinds == [("Task", "match"), ("ServiceRequest", "include")]


def test_reads_of_client_data_are_audited(tenant, hco_fhir, cbo_fhir):
    referral = referral_for(tenant)
    before = AuditEvent.objects.count()
    cbo_fhir.get(f"Task/{referral.pk}")
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_ids) == (
        "view",
        "referral",
        [referral.pk],
    )
    assert event.detail == {"categories": ["demographics", "referrals", "social_needs"]}
    assert event.actor.api_key.organization == tenant.cbo
    assert list(event.clients.values_list("client_id", flat=True)) == [tenant.client.pk]
    cbo_fhir.get(f"ServiceRequest/{referral.pk}")
    assert AuditEvent.objects.latest("id").object_type == "referral"
    hco_fhir.get("Task")
    assert AuditEvent.objects.latest("id").action == "list"
    cbo_fhir.get(f"Patient/{tenant.client.pk}")
    assert AuditEvent.objects.latest("id").object_type == "client"
    hco_fhir.get(f"Consent/{tenant.release.pk}")
    assert AuditEvent.objects.latest("id").object_type == "release"
    assert AuditEvent.objects.count() == before + 5
    # The directory is not client data; a search that finds nothing records nothing.
    hco_fhir.get(f"Organization/{tenant.cbo.pk}")
    hco_fhir.get(f"HealthcareService/{referral.program_id}")
    hco_fhir.get("Task", {"status": "failed"})
    assert AuditEvent.objects.count() == before + 5


def test_the_directory(tenant, hco_fhir):
    program = ProgramFactory(
        organization=tenant.cbo, name="Warm Coats", categories=["material-hardship"]
    )
    service = hco_fhir.get(f"HealthcareService/{program.pk}").json()
    assert service["providedBy"]["reference"] == f"Organization/{tenant.cbo.pk}"
    assert service["type"][0]["coding"][0]["code"] == "material-hardship"
    assert service["characteristic"][0]["coding"][0]["code"] == "capacity"
    found = _ids(hco_fhir.get("HealthcareService", {"type": "material-hardship"}))
    assert found == [str(program.pk)]
    assert _ids(hco_fhir.get("HealthcareService", {"organization": str(tenant.hco.pk)})) == []
    # The type token also finds a program by a service code it delivers (SNOMED CT).
    program.service_codes.create(code="710925007", display="Provision of food")
    for token in ("http://snomed.info/sct|710925007", "710925007"):
        assert _ids(hco_fhir.get("HealthcareService", {"type": token})) == [str(program.pk)]
    assert _ids(hco_fhir.get("HealthcareService", {"type": "467771000124109"})) == []
    refused = hco_fhir.get("HealthcareService", {"type": "no-such-thing"})
    assert refused.status_code == 400
    assert "neither an SDOH category nor" in refused.json()["issue"][0]["diagnostics"]
    assert _ids(hco_fhir.get("Organization", {"name": "food bank"})) == [str(tenant.cbo.pk)]
    assert str(tenant.backbone.pk) in _ids(hco_fhir.get("Organization", {"type": "backbone"}))


def test_renderers_for_other_parts(tenant):
    """task_resource/service_request_resource without a viewer (webhook payloads): valid
    FHIR, no names; with a viewer, as that organization may see it."""
    referral = referral_for(tenant, reason="Needs a ride")
    referral_transition(
        referral_id=referral.pk,
        move="reject",
        actor=tenant.cbo_staff,
        organization=tenant.cbo,
        reason="No capacity this month",
    )
    referral.refresh_from_db()
    task = task_resource(referral)
    Task.model_validate(task)
    assert task["status"] == "rejected" and task["statusReason"]["text"] == "No capacity this month"
    assert tenant.client.family_name not in str(task)
    # Codes only: the decline's coded reason stays, its explanation (free text) does not.
    assert task_resource(referral, free_text=False)["statusReason"] == {
        "coding": [
            {
                "system": "https://linkage.invalid/fhir/CodeSystem/referral-decline-reason",
                "code": "other",
                "display": "Other",
            }
        ]
    }
    request = service_request_resource(referral)
    ServiceRequest.model_validate(request)
    assert request["status"] == "revoked" and request["note"] == [{"text": "Needs a ride"}]
    shown = task_resource(referral, viewer=tenant.cbo)
    assert shown["for"]["display"] == tenant.client.display_name


def test_keys_sessions_and_errors_as_operation_outcomes(tenant, client, login, fhir_for, settings):
    from tests.fhir.conftest import Fhir

    anonymous = Fhir().get("Task")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
    assert anonymous.json()["issue"][0]["code"] == "login"
    assert Fhir("lk_nope_nope").get("Task").status_code == 401
    # A signed-in person's session works too (the browser's own requests).
    login(tenant.hco_navigator)
    assert Fhir(api=client).get(f"Patient/{tenant.client.pk}").status_code == 200
    # Throttled per key, like the REST API. (Counted in a cache of this test's own: a
    # parallel worker clearing the shared cache must not reset the count mid-test.)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "fhir-throttle-test",
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/min"},
    }
    api = fhir_for(tenant.hco)
    assert [api.get("metadata").status_code for _ in range(2)] == [200, 200]
    throttled = api.get("Task")
    assert throttled.status_code == 429 and throttled.json()["issue"][0]["code"] == "throttled"
    assert "Retry-After" in throttled


def test_idempotency_key_on_post(tenant, hco_fhir):
    from tests.fhir import examples as ex

    patient = ex.load(ex.PATIENT)
    first = hco_fhir.post("Patient", patient, HTTP_IDEMPOTENCY_KEY="k-1")
    again = hco_fhir.post("Patient", patient, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    patient["birthDate"] = "1990-01-01"
    reused = hco_fhir.post("Patient", patient, HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 422 and reused.json()["resourceType"] == "OperationOutcome"
