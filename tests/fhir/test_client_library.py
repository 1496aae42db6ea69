"""The IG's flows driven by a FHIR client library nobody here wrote (fhirpy's
SyncFHIRClient) against the live server, over real HTTP on localhost, with the base URL
as advertised (no trailing slash) and with one: a transaction Bundle referral from the
IG's examples, the Task read back and accepted by the CBO's system with If-Match, a stale
update refused (412), a Consent without provision.class, a Patient with a 7-digit phone,
and a Procedure POSTed on its own, then named by the Task update that completes the
referral."""

from __future__ import annotations

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound

from apikeys.services import api_key_create
from organizations.roles import Role
from referrals.models import Referral
from tests.factories import referral_program
from tests.fhir.test_consent import _without_classes
from tests.fhir.test_patient_leniency import _patient
from tests.fhir.test_referral_examples import direct_referral_bundle

pytestmark = pytest.mark.django_db(transaction=True)

RESULTING = {
    "coding": [
        {
            "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
            "code": "resulting-activity",
        }
    ]
}


@pytest.fixture(params=["/fhir/r4", "/fhir/r4/"], ids=["no-slash", "slash"])
def base(request, live_server) -> str:
    return live_server.url + request.param


def _client(base: str, org, role=Role.NAVIGATOR, **headers) -> SyncFHIRClient:
    _key, raw = api_key_create(organization=org, role=role, name="fhirpy")
    return SyncFHIRClient(base, authorization=f"Bearer {raw}", extra_headers=headers or None)


def _with_if_match(client: SyncFHIRClient, version: str) -> SyncFHIRClient:
    """The same key, sending If-Match with what it read."""
    return SyncFHIRClient(
        client.url, authorization=client.authorization, extra_headers={"If-Match": version}
    )


def test_the_ig_flows_through_fhirpy(tenant, base):
    referral_program(tenant)
    hco = _client(base, tenant.hco)
    cbo = _client(base, tenant.cbo, Role.STAFF)

    # The referral: a transaction Bundle posted to the base as the client library knows it.
    bundle, _sr, _task = direct_referral_bundle(tenant)
    answer = hco.execute(base, method="post", data=bundle)
    assert answer["type"] == "transaction-response"
    created = {e["resource"]["resourceType"]: e["resource"]["id"] for e in answer["entry"]}
    task_id = created["Task"]
    assert Referral.objects.get(pk=task_id).status == "requested"

    # The CBO's system reads the Task and accepts it, sending back the version it read.
    task = cbo.reference("Task", task_id).to_resource()
    assert task["status"] == "requested"
    version = task["meta"]["versionId"]
    read = dict(task.serialize())
    accepted = _with_if_match(cbo, f'W/"{version}"').resource("Task", **{**read})
    accepted["status"] = "accepted"
    accepted.save()
    assert accepted["status"] == "accepted"
    assert accepted["meta"]["versionId"] != version

    # Sent again with the version read before the acceptance: refused (412), unchanged.
    stale = _with_if_match(cbo, f'W/"{version}"').resource(
        "Task", **{**read, "status": "rejected", "statusReason": {"text": "No capacity"}}
    )
    with pytest.raises(MultipleResourcesFound, match="changed since version"):
        stale.save()
    assert Referral.objects.get(pk=task_id).status == "accepted"

    # A Consent shaped like the IG's own example (no provision.class): accepted.
    # (Its example id dropped: a resource with an id is an update to the client library.)
    example = {k: v for k, v in _without_classes(tenant).items() if k != "id"}
    consent = hco.resource("Consent", **example)
    consent.save()
    assert consent.id and {c["code"] for c in consent["provision"]["class"]} == {
        "demographics",
        "social_needs",
        "referrals",
    }

    # A Patient with a 7-digit phone number: kept.
    patient = hco.resource(
        "Patient", **_patient(telecom=[{"system": "phone", "value": "555-1234"}])
    )
    patient.save()
    assert patient.id

    # The CBO's system reports what it did, then completes the Task naming that Procedure.
    procedure = cbo.resource(
        "Procedure",
        status="completed",
        basedOn=[{"reference": f"ServiceRequest/{task_id}"}],
        subject=task["for"],
        code={"text": "Food pantry application completed"},
        performedDateTime="2030-01-02",
    )
    procedure.save()
    assert procedure.id.startswith("reported-")
    assert cbo.reference("Procedure", procedure.id).to_resource()["code"] == {
        "text": "Food pantry application completed"
    }
    current = cbo.reference("Task", task_id).to_resource()
    done = _with_if_match(cbo, f'W/"{current["meta"]["versionId"]}"').resource(
        "Task",
        **{
            **dict(current.serialize()),
            "status": "completed",
            "output": [
                {"type": RESULTING, "valueReference": {"reference": f"Procedure/{procedure.id}"}}
            ],
        },
    )
    done.save()
    assert done["status"] == "completed"
    referral = Referral.objects.get(pk=task_id)
    assert referral.status == "completed" and referral.outcome == "need-met"
    assert referral.resulting_activity["display"] == "Food pantry application completed"
    # The sender reads the closed loop: the resulting activity.
    activity = hco.reference("Procedure", task_id).to_resource()
    assert activity["code"]["text"] == "Food pantry application completed"
