"""The IG's referral examples as input, and back on read.

Direct referral: the clinic posts the example Patient, Consent, ServiceRequest and Task in
one transaction; the food bank (the Task's owner) updates the Task with the example
Accepted and then Completed Tasks (the Procedure they reference sent with it). The
coordination platform: the clinic refers to the backbone; the backbone routes with the
subreferral ServiceRequest and subtask; the food bank works the subtask; the clinic's Task
follows. Each read is compared with what was sent (tests/fhir/examples.py).
"""

from __future__ import annotations

import pytest

from consent.models import Release
from organizations.models import Organization
from referrals.models import Referral
from tests.factories import ProgramFactory, referral_program, release_for
from tests.fhir import examples as ex

pytestmark = pytest.mark.django_db

CATEGORY_SYSTEM = "https://linkage.invalid/fhir/CodeSystem/release-category"
IRCP = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}
    ]
}


def consent_naming(patient_ref: str, capturer: Organization, *recipients: Organization) -> dict:
    """The IG's Consent example, for this patient, captured by `capturer`, with the
    provision Linkage needs (the example has none): who receives what, until when."""
    consent = ex.repoint(
        ex.load(ex.CONSENT),
        {ex.EXAMPLE_PATIENT: patient_ref, ex.EXAMPLE_PAYER: f"Organization/{capturer.pk}"},
    )
    consent["provision"] = {
        "type": "permit",
        "period": {"end": "2099-12-31"},
        "actor": [
            {"role": IRCP, "reference": {"reference": f"Organization/{r.pk}"}} for r in recipients
        ],
        "class": [
            {"system": CATEGORY_SYSTEM, "code": c}
            for c in ("demographics", "social_needs", "referrals")
        ],
    }
    return consent


def direct_referral_bundle(tenant) -> tuple[dict, dict, dict]:
    """(bundle, the ServiceRequest, the Task) for the direct referral: the example
    patient, consent, ServiceRequest and a Task from the Accepted example as the referral
    source sends it (status requested)."""
    patient = ex.load(ex.PATIENT)
    patient.pop("id")
    sr = ex.repoint(ex.load(ex.SR_FOOD_PANTRY), {ex.EXAMPLE_PATIENT: "urn:uuid:patient"})
    task = ex.repoint(
        ex.load(ex.TASK_ACCEPTED),
        {
            ex.EXAMPLE_PATIENT: "urn:uuid:patient",
            ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
            ex.EXAMPLE_PLATFORM: f"Organization/{tenant.cbo.pk}",
            f"ServiceRequest/{sr['id']}": "urn:uuid:sr",
        },
    )
    task["status"] = "requested"  # the referral source sends it requested (IG refer-5)
    consent = consent_naming("urn:uuid:patient", tenant.hco, tenant.cbo)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _post("urn:uuid:task", task),
            _post("urn:uuid:sr", sr),
            _post("urn:uuid:consent", consent),
            _post("urn:uuid:patient", patient),
        ],
    }
    return bundle, sr, task


def _post(full_url: str, resource: dict) -> dict:
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def _created(response) -> dict[str, str]:
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["type"] == "transaction-response"
    return {
        e["resource"]["resourceType"]: e["resource"]["id"]
        for e in body["entry"]
        if e["response"]["status"].startswith("201")
    }


def test_direct_referral_examples_round_trip(tenant, hco_fhir, cbo_fhir):
    pantry = referral_program(tenant)
    bundle, sr, task = direct_referral_bundle(tenant)
    ids = _created(hco_fhir.post("", bundle))
    assert set(ids) == {"Patient", "Consent", "ServiceRequest", "Task"}
    referral = Referral.objects.get(pk=ids["Task"])
    assert ids["ServiceRequest"] == ids["Task"]
    assert referral.program == pantry and referral.status == "requested"
    # ServiceRequest.code is kept as the referral's requested service, not in its note.
    assert referral.requested_service == {
        "system": "http://snomed.info/sct",
        "code": "467771000124109",
        "display": "Assistance with application for food pantry program",
    }
    assert referral.reason == ""
    assert referral.client.family_name == "BAXTER"  # the example patient's current name
    assert set(referral.needs.values_list("code", flat=True)) == {"food-insecurity"}
    patient_ref = f"Patient/{referral.client_id}"
    # The EHR's identifier is kept as the client's identifier.
    identifier = referral.client.identifiers.get()
    assert (identifier.system, identifier.value, identifier.organization) == (
        "http://hospital.smarthealthit.org",
        "1032702",
        tenant.hco,
    )
    release = Release.objects.get(pk=ids["Consent"])
    assert list(release.recipients.all()) == [tenant.cbo] and release.paper_form

    mapping = {"urn:uuid:patient": patient_ref, "urn:uuid:sr": f"ServiceRequest/{referral.pk}"}
    read_sr = hco_fhir.get(f"ServiceRequest/{referral.pk}").json()
    ex.assert_service_request_equivalent(ex.repoint(sr, mapping), read_sr)
    read_task = hco_fhir.get(f"Task/{referral.pk}").json()
    ex.assert_task_equivalent(ex.repoint(task, mapping), read_task)

    # The owner accepts: the example Accepted Task, put back as the food bank sees it.
    at_server = {
        ex.EXAMPLE_PATIENT: patient_ref,
        ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
        ex.EXAMPLE_PLATFORM: f"Organization/{tenant.cbo.pk}",
        f"ServiceRequest/{sr['id']}": f"ServiceRequest/{referral.pk}",
    }
    accepted = ex.repoint(ex.load(ex.TASK_ACCEPTED), at_server)
    accepted["id"] = str(referral.pk)
    response = cbo_fhir.put(f"Task/{referral.pk}", accepted)
    assert response.status_code == 200, response.json()
    ex.assert_task_equivalent(accepted, cbo_fhir.get(f"Task/{referral.pk}").json())

    # ... and completes it: the example Completed Task and the Procedure it references, in
    # one transaction (the Procedure's references point at this server's rows).
    procedure = ex.repoint(ex.load(ex.PROCEDURE_FOOD_PANTRY), at_server)
    completed = ex.repoint(
        ex.load(ex.TASK_COMPLETED),
        {**at_server, f"Procedure/{procedure['id']}": "urn:uuid:procedure"},
    )
    completed["id"] = str(referral.pk)
    response = cbo_fhir.post(
        "",
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": "urn:uuid:procedure",
                    "resource": procedure,
                    "request": {"method": "POST", "url": "Procedure"},
                },
                {
                    "resource": completed,
                    "request": {"method": "PUT", "url": f"Task/{referral.pk}"},
                },
            ],
        },
    )
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    assert referral.status == "completed" and referral.outcome == "need-met"
    # What was done is kept as the referral's resulting activity (code, words, date).
    assert referral.resulting_activity == {
        "system": "http://snomed.info/sct",
        "code": "467771000124109",
        "display": "Assistance with application for food pantry program",
        "performed": procedure["performedDateTime"],
    }
    # The clinic (the referral source) sees the loop closed, with what was done.
    read_task = hco_fhir.get(f"Task/{referral.pk}").json()
    ex.assert_task_equivalent(completed, read_task)
    output = read_task["output"][0]["valueReference"]["reference"]
    ex.assert_procedure_equivalent(procedure, hco_fhir.get(output).json())


def test_completion_with_a_contained_procedure(tenant, hco_fhir, cbo_fhir):
    referral_program(tenant)
    bundle, sr, _task = direct_referral_bundle(tenant)
    ids = _created(hco_fhir.post("", bundle))
    pk = int(ids["Task"])
    referral = Referral.objects.get(pk=pk)
    at_server = {
        ex.EXAMPLE_PATIENT: f"Patient/{referral.client_id}",
        ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
        ex.EXAMPLE_PLATFORM: f"Organization/{tenant.cbo.pk}",
        f"ServiceRequest/{sr['id']}": f"ServiceRequest/{pk}",
    }
    accepted = ex.repoint(ex.load(ex.TASK_ACCEPTED), at_server)
    accepted["id"] = str(pk)
    assert cbo_fhir.put(f"Task/{pk}", accepted).status_code == 200
    procedure = ex.repoint(ex.load(ex.PROCEDURE_FOOD_PANTRY), at_server)
    procedure["id"] = "activity"
    procedure["note"] = [{"text": "Application filed with the county."}]
    completed = ex.repoint(
        ex.load(ex.TASK_COMPLETED), {**at_server, ex.ref_of(ex.PROCEDURE_FOOD_PANTRY): "#activity"}
    )
    completed.update(id=str(pk), contained=[procedure])
    response = cbo_fhir.put(f"Task/{pk}", completed)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "completed"
    read = hco_fhir.get(f"Procedure/{pk}").json()
    ex.assert_procedure_equivalent(procedure, read)
    assert read["note"] == [{"text": "Application filed with the county."}]
    assert read["outcome"]["coding"][0]["code"] == "need-met"
    # Sent again as it is, nothing changes.
    assert cbo_fhir.put(f"Task/{pk}", hco_fhir.get(f"Task/{pk}").json()).status_code == 200


def test_resources_one_by_one(tenant, hco_fhir, cbo_fhir):
    """Patient, then Consent, then the ServiceRequest (naming its performer), then the
    Task: Linkage makes the Task with the referral, so posting it answers 200 with it."""
    pantry = referral_program(tenant)
    patient = ex.load(ex.PATIENT)
    created = hco_fhir.post("Patient", patient)
    assert created.status_code == 201, created.json()
    patient_ref = f"Patient/{created.json()['id']}"
    assert created["Location"].endswith(f"/fhir/r4/{patient_ref}")
    consent = consent_naming(patient_ref, tenant.hco, tenant.cbo)
    assert hco_fhir.post("Consent", consent).status_code == 201
    sr = ex.repoint(ex.load(ex.SR_FOOD_PANTRY), {ex.EXAMPLE_PATIENT: patient_ref})
    sr["performer"] = [{"reference": f"HealthcareService/{pantry.pk}"}]
    response = hco_fhir.post("ServiceRequest", sr)
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    ex.assert_service_request_equivalent(sr, hco_fhir.get(f"ServiceRequest/{pk}").json())
    task = ex.repoint(
        ex.load(ex.TASK_ACCEPTED),
        {
            ex.EXAMPLE_PATIENT: patient_ref,
            ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
            ex.EXAMPLE_PLATFORM: f"Organization/{tenant.cbo.pk}",
            f"ServiceRequest/{sr['id']}": f"ServiceRequest/{pk}",
        },
    )
    task["status"] = "requested"
    again = hco_fhir.post("Task", task)
    assert again.status_code == 200, again.json()
    assert again.json()["id"] == pk and Referral.objects.count() == 1
    # The same Patient posted again is the same record (the identifier matches).
    assert hco_fhir.post("Patient", patient).json()["id"] == patient_ref.split("/")[1]


def test_task_with_a_contained_service_request(tenant, hco_fhir):
    referral_program(tenant)
    sr = ex.repoint(ex.load(ex.SR_FOOD_PANTRY), {ex.EXAMPLE_PATIENT: f"Patient/{tenant.client.pk}"})
    sr["id"] = "request"
    task = ex.repoint(
        ex.load(ex.TASK_ACCEPTED),
        {
            ex.EXAMPLE_PATIENT: f"Patient/{tenant.client.pk}",
            ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
            ex.EXAMPLE_PLATFORM: f"Organization/{tenant.cbo.pk}",
            ex.ref_of(ex.SR_FOOD_PANTRY): "#request",
        },
    )
    task.update(status="requested", contained=[sr], focus={"reference": "#request"})
    response = hco_fhir.post("Task", task)
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["focus"] == {"reference": f"ServiceRequest/{pk}"}
    read = hco_fhir.get(f"ServiceRequest/{pk}").json()
    assert ex.codes_of(read["code"]) == ex.codes_of(sr["code"])


def _routing_available() -> bool:
    from referrals import coordination

    return hasattr(Referral, "part_of") and hasattr(coordination, "referral_route")


@pytest.mark.skipif(not _routing_available(), reason="the backbone's routing is not in yet")
def test_coordination_platform_examples_round_trip(tenant, hco_fhir, backbone_fhir, cbo_fhir):
    """The fulfillment Task is owned by the coordination platform (the backbone); its
    subreferral ServiceRequest and subtask route the referral to the food bank."""
    ProgramFactory(organization=tenant.backbone, name="Care coordination hub")
    pantry = referral_program(tenant)
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[tenant.backbone],
        categories=("demographics", "social_needs", "referrals"),
    )
    patient_ref = f"Patient/{tenant.client.pk}"
    sr = ex.repoint(ex.load(ex.SR_FOOD_PANTRY), {ex.EXAMPLE_PATIENT: patient_ref})
    to_backbone = {
        ex.EXAMPLE_PATIENT: patient_ref,
        ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
        ex.EXAMPLE_PLATFORM: f"Organization/{tenant.backbone.pk}",
        f"ServiceRequest/{sr['id']}": "urn:uuid:sr",
    }
    task = ex.repoint(ex.load(ex.TASK_ACCEPTED), to_backbone)
    task["status"] = "requested"
    ids = _created(
        hco_fhir.post(
            "",
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [_post("urn:uuid:sr", sr), _post("urn:uuid:task", task)],
            },
        )
    )
    whole = Referral.objects.get(pk=ids["Task"])
    assert whole.receiver_organization == tenant.backbone

    # The backbone routes: its subreferral ServiceRequest and the subtask (as sent, active
    # and requested: the examples show them later in their lives).
    sub_sr = ex.repoint(
        ex.load(ex.SR_SUMMER_FOOD),
        {
            ex.EXAMPLE_PATIENT: patient_ref,
            f"ServiceRequest/{sr['id']}": f"ServiceRequest/{whole.pk}",
        },
    )
    sub_sr["status"] = "active"
    routed = {
        ex.EXAMPLE_PATIENT: patient_ref,
        ex.EXAMPLE_PLATFORM: f"Organization/{tenant.backbone.pk}",
        ex.EXAMPLE_CLINIC: f"Organization/{tenant.cbo.pk}",
        ex.ref_of(ex.TASK_ACCEPTED): f"Task/{whole.pk}",
        f"ServiceRequest/{sub_sr['id']}": "urn:uuid:sub-sr",
    }
    subtask = ex.repoint(ex.load(ex.SUBTASK_ACCEPTED), routed)
    subtask["status"] = "requested"
    ids = _created(
        backbone_fhir.post(
            "",
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [_post("urn:uuid:sub-sr", sub_sr), _post("urn:uuid:subtask", subtask)],
            },
        )
    )
    part = Referral.objects.get(pk=ids["Task"])
    assert part.part_of_id == whole.pk and part.program == pantry
    # Each referral keeps its own ServiceRequest's code.
    assert ex.codes_of(sr["code"]) == {
        (whole.requested_service["system"], whole.requested_service["code"])
    }
    assert ex.codes_of(sub_sr["code"]) == {
        (part.requested_service["system"], part.requested_service["code"])
    }
    read_sr = backbone_fhir.get(f"ServiceRequest/{part.pk}").json()
    assert read_sr["intent"] == "filler-order"
    assert read_sr["basedOn"] == [{"reference": f"ServiceRequest/{whole.pk}"}]
    ex.assert_service_request_equivalent(
        ex.repoint(sub_sr, {"urn:uuid:sub-sr": f"ServiceRequest/{part.pk}"}), read_sr
    )
    # Routing is the backbone's acceptance of the clinic's Task.
    accepted_whole = ex.repoint(
        ex.load(ex.TASK_ACCEPTED),
        {**to_backbone, ex.ref_of(ex.SR_FOOD_PANTRY): f"ServiceRequest/{whole.pk}"},
    )
    ex.assert_task_equivalent(accepted_whole, hco_fhir.get(f"Task/{whole.pk}").json())

    at_cbo = {**routed, ex.ref_of(ex.SR_SUMMER_FOOD): f"ServiceRequest/{part.pk}"}
    sub_accepted = ex.repoint(ex.load(ex.SUBTASK_ACCEPTED), at_cbo)
    sub_accepted["id"] = str(part.pk)
    response = cbo_fhir.put(f"Task/{part.pk}", sub_accepted)
    assert response.status_code == 200, response.json()
    ex.assert_task_equivalent(sub_accepted, cbo_fhir.get(f"Task/{part.pk}").json())

    procedure = ex.repoint(
        ex.load(ex.PROCEDURE_SUMMER_FOOD),
        {
            ex.EXAMPLE_PATIENT: patient_ref,
            f"ServiceRequest/{sub_sr['id']}": f"ServiceRequest/{part.pk}",
        },
    )
    procedure["id"] = "activity"
    sub_completed = ex.repoint(
        ex.load(ex.SUBTASK_COMPLETED),
        {
            **at_cbo,
            # The completed subtask example is partOf the completed fulfillment example.
            ex.ref_of(ex.TASK_COMPLETED): f"Task/{whole.pk}",
            ex.ref_of(ex.PROCEDURE_SUMMER_FOOD): "#activity",
        },
    )
    sub_completed.update(id=str(part.pk), contained=[procedure])
    response = cbo_fhir.put(f"Task/{part.pk}", sub_completed)
    assert response.status_code == 200, response.json()
    ex.assert_task_equivalent(sub_completed, cbo_fhir.get(f"Task/{part.pk}").json())
    ex.assert_procedure_equivalent(procedure, cbo_fhir.get(f"Procedure/{part.pk}").json())

    # The clinic's Task closed with the routed one: completed, with what was done.
    completed_whole = ex.repoint(
        ex.load(ex.TASK_COMPLETED),
        {**to_backbone, ex.ref_of(ex.SR_FOOD_PANTRY): f"ServiceRequest/{whole.pk}"},
    )
    read_whole = hco_fhir.get(f"Task/{whole.pk}").json()
    ex.assert_task_equivalent(completed_whole, read_whole)
    done = hco_fhir.get(f"Procedure/{whole.pk}").json()
    assert ex.codes_of(done["code"]) == ex.codes_of(procedure["code"])
    # ... from the resulting activity the routed referral's completion carried over.
    whole.refresh_from_db()
    part.refresh_from_db()
    assert whole.resulting_activity == part.resulting_activity
    assert {(part.resulting_activity["system"], part.resulting_activity["code"])} == (
        ex.codes_of(procedure["code"])
    )
    # The clinic sees its own referral, not the routed one.
    assert hco_fhir.get(f"Task/{part.pk}").status_code == 404
