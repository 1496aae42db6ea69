"""The IG's example resources accepted as they are: ids and references adapted to this
server's rows, nothing else — narrative, statuses and all.

tests/fhir/test_referral_examples.py compares what is read back with what was sent; this
module holds the sender to what the IG's examples really say: a Consent without any
provision, a Task sent in the status the example shows ("accepted"), a subreferral
ServiceRequest sent "completed". Each is taken as the referral flow needs it and the
caller is told in a warning, never refused.
"""

from __future__ import annotations

import json

import pytest

from consent.models import Release
from referrals.models import Referral
from tests.factories import ProgramFactory, referral_program
from tests.fhir import examples as ex

pytestmark = pytest.mark.django_db


def raw(name: str) -> dict:
    """The example as published, narrative included (examples.load drops it)."""
    return json.loads((ex.FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _post(full_url: str, resource: dict) -> dict:
    return {
        "fullUrl": full_url,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def _outcomes(response) -> dict[str, list[dict]]:
    assert response.status_code == 200, response.json()
    return {
        e["resource"]["resourceType"]: (e["response"].get("outcome") or {}).get("issue", [])
        for e in response.json()["entry"]
    }


def _direct_bundle(tenant) -> dict:
    to_bundle = {
        ex.EXAMPLE_PATIENT: "urn:uuid:patient",
        ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
        ex.EXAMPLE_PLATFORM: f"Organization/{tenant.cbo.pk}",
        ex.EXAMPLE_PAYER: f"Organization/{tenant.hco.pk}",
    }
    sr = ex.repoint(raw(ex.SR_FOOD_PANTRY), to_bundle)
    task = ex.repoint(
        raw(ex.TASK_ACCEPTED), {**to_bundle, f"ServiceRequest/{sr['id']}": "urn:uuid:sr"}
    )
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _post("urn:uuid:patient", raw(ex.PATIENT)),
            _post("urn:uuid:consent", ex.repoint(raw(ex.CONSENT), to_bundle)),
            _post("urn:uuid:sr", sr),
            _post("urn:uuid:task", task),
        ],
    }


def test_the_direct_referral_examples_as_they_are(tenant, hco_fhir):
    pantry = referral_program(tenant)
    bundle = _direct_bundle(tenant)
    # Nothing but references was changed: the Consent still has no provision at all, the
    # Task is still "accepted", the narratives are still there.
    consent = bundle["entry"][1]["resource"]
    task = bundle["entry"][3]["resource"]
    assert "provision" not in consent and task["status"] == "accepted" and "text" in task

    response = hco_fhir.post("", bundle)
    outcomes = _outcomes(response)
    ids = {e["resource"]["resourceType"]: e["resource"]["id"] for e in response.json()["entry"]}

    referral = Referral.objects.get(pk=ids["Task"])
    assert referral.program == pantry and referral.status == "requested"
    assert referral.receiver_organization == tenant.cbo
    # The Consent names no one: it releases to the organization the referral goes to, and
    # covers what a referral carries; both assumptions are said.
    release = Release.objects.get(pk=ids["Consent"])
    assert list(release.recipients.all()) == [tenant.cbo]
    assert not release.all_network_partners
    assert {c.value for c in release.categories} == {"demographics", "social_needs", "referrals"}
    said = {tuple(i["expression"]) for i in outcomes["Consent"]}
    assert said == {
        ("Bundle.entry[1].resource.provision.actor",),
        ("Bundle.entry[1].resource.provision.class",),
    }
    assert all(i["severity"] == "warning" for i in outcomes["Consent"])
    assert f"Organization/{tenant.cbo.pk}" in outcomes["Consent"][0]["diagnostics"]
    # The Task's "accepted" is its owner's to say: taken as requested, and said.
    [issue] = outcomes["Task"]
    assert issue["severity"] == "warning"
    assert issue["expression"] == ["Bundle.entry[3].resource.status"]
    assert "'accepted' was taken as 'requested'" in issue["diagnostics"]


def test_a_consent_without_recipients_alone_is_refused_with_the_reason(tenant, hco_fhir):
    """Sent without a referral, a Consent that names no one would release to nobody (or,
    read generously, to everybody): refused, and the caller is told what to send."""
    patient = hco_fhir.post("Patient", raw(ex.PATIENT))
    assert patient.status_code == 201, patient.json()
    consent = ex.repoint(
        raw(ex.CONSENT),
        {
            ex.EXAMPLE_PATIENT: f"Patient/{patient.json()['id']}",
            ex.EXAMPLE_PAYER: f"Organization/{tenant.hco.pk}",
        },
    )
    releases = Release.objects.count()
    response = hco_fhir.post("Consent", consent)
    assert response.status_code == 422
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Consent.provision.actor"]
    assert "a referral in the same transaction" in issue["diagnostics"]
    assert Release.objects.count() == releases


def test_a_later_status_is_never_a_way_around_a_refusal(tenant, hco_fhir):
    """A draft Task is not a referral to send: still refused."""
    referral_program(tenant)
    bundle = _direct_bundle(tenant)
    bundle["entry"][3]["resource"]["status"] = "draft"
    releases = Release.objects.count()
    response = hco_fhir.post("", bundle)
    assert response.status_code == 422
    assert "does not send a referral" in response.json()["issue"][0]["diagnostics"]
    assert not Referral.objects.exists() and Release.objects.count() == releases


def test_the_coordination_platform_examples_as_they_are(tenant, hco_fhir, backbone_fhir):
    """The clinic refers to the backbone; the backbone routes with the subreferral
    ServiceRequest and subtask exactly as the examples show them (completed, accepted)."""
    ProgramFactory(organization=tenant.backbone, name="Care coordination hub")
    referral_program(tenant)
    to_backbone = {
        ex.EXAMPLE_PATIENT: "urn:uuid:patient",
        ex.EXAMPLE_PRACTITIONER: f"Organization/{tenant.hco.pk}",
        ex.EXAMPLE_PLATFORM: f"Organization/{tenant.backbone.pk}",
        ex.EXAMPLE_PAYER: f"Organization/{tenant.hco.pk}",
    }
    sr = ex.repoint(raw(ex.SR_FOOD_PANTRY), to_backbone)
    task = ex.repoint(
        raw(ex.TASK_ACCEPTED), {**to_backbone, f"ServiceRequest/{sr['id']}": "urn:uuid:sr"}
    )
    consent = ex.repoint(raw(ex.CONSENT), to_backbone)
    consent["provision"] = {
        "actor": [
            {
                "role": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                        }
                    ]
                },
                "reference": {"reference": f"Organization/{o.pk}"},
            }
            for o in (tenant.backbone, tenant.cbo)
        ]
    }
    _outcomes(
        hco_fhir.post(
            "",
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [
                    _post("urn:uuid:patient", raw(ex.PATIENT)),
                    _post("urn:uuid:consent", consent),
                    _post("urn:uuid:sr", sr),
                    _post("urn:uuid:task", task),
                ],
            },
        )
    )
    whole = Referral.objects.get(client__identifiers__value="1032702")
    assert whole.receiver_organization == tenant.backbone

    sub_sr = ex.repoint(
        raw(ex.SR_SUMMER_FOOD),
        {
            ex.EXAMPLE_PATIENT: f"Patient/{whole.client_id}",
            f"ServiceRequest/{sr['id']}": f"ServiceRequest/{whole.pk}",
        },
    )
    subtask = ex.repoint(
        raw(ex.SUBTASK_ACCEPTED),
        {
            ex.EXAMPLE_PATIENT: f"Patient/{whole.client_id}",
            ex.EXAMPLE_PLATFORM: f"Organization/{tenant.backbone.pk}",
            ex.EXAMPLE_CLINIC: f"Organization/{tenant.cbo.pk}",
            ex.ref_of(ex.TASK_ACCEPTED): f"Task/{whole.pk}",
            f"ServiceRequest/{sub_sr['id']}": "urn:uuid:sub-sr",
        },
    )
    assert (sub_sr["status"], subtask["status"]) == ("completed", "accepted")
    outcomes = _outcomes(
        backbone_fhir.post(
            "",
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [_post("urn:uuid:sub-sr", sub_sr), _post("urn:uuid:sub-task", subtask)],
            },
        )
    )
    part = Referral.objects.get(part_of=whole)
    assert part.status == "requested" and part.receiver_organization == tenant.cbo
    assert "'completed' was taken as 'active'" in outcomes["ServiceRequest"][0]["diagnostics"]
    assert "'accepted' was taken as 'requested'" in outcomes["Task"][0]["diagnostics"]
