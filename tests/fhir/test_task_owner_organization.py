"""A Task addressed to an Organization (issue 14): the program whose service codes match
ServiceRequest.code receives it; with none or several, the organization's intake queue,
and the receiver chooses the program when accepting."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from directory.models import Program
from referrals.models import Referral
from referrals.services import referral_transition
from tests.factories import ProgramFactory
from tests.fhir.test_referral_examples import _created, direct_referral_bundle

pytestmark = pytest.mark.django_db

PANTRY_CODE = "467771000124109"  # the IG example ServiceRequest's code


def _coded(program: Program, code: str = PANTRY_CODE) -> Program:
    program.service_codes.create(code=code, display="Assistance with application")
    return program


def _send(tenant, hco_fhir) -> Referral:
    bundle, sr, task = direct_referral_bundle(tenant)
    assert task["owner"]["reference"] == f"Organization/{tenant.cbo.pk}"
    assert sr["code"]["coding"][0]["code"] == PANTRY_CODE
    ids = _created(hco_fhir.post("", bundle))
    return Referral.objects.get(pk=ids["Task"])


def test_the_one_program_with_the_requested_code_receives_it(tenant, hco_fhir):
    ProgramFactory(organization=tenant.cbo, name="Groceries")
    pantry = _coded(ProgramFactory(organization=tenant.cbo, name="Pantry help"))
    referral = _send(tenant, hco_fhir)
    assert referral.program_id == pantry.pk


@pytest.mark.parametrize("coded", [0, 2], ids=["no-match", "two-match"])
def test_none_or_several_matches_land_in_the_intake_queue(tenant, hco_fhir, cbo_fhir, coded):
    programs = [ProgramFactory(organization=tenant.cbo) for _ in range(2)]
    for program in programs[:coded]:
        _coded(program)
    referral = _send(tenant, hco_fhir)
    assert referral.program_id is None
    assert referral.receiver_organization_id == tenant.cbo.pk
    # Its ServiceRequest names the organization as performer while no program is chosen.
    sr = hco_fhir.get(f"ServiceRequest/{referral.pk}").json()
    assert sr["performer"][0]["reference"] == f"Organization/{tenant.cbo.pk}"


def test_the_receiver_accepts_choosing_one_of_its_own_programs(tenant, hco_fhir, neighbour):
    programs = [ProgramFactory(organization=tenant.cbo) for _ in range(2)]
    referral = _send(tenant, hco_fhir)
    accept = {
        "referral_id": referral.pk,
        "move": "accept",
        "actor": tenant.cbo_staff,
        "organization": tenant.cbo,
    }
    with pytest.raises(ValidationError, match="Choose the program"):
        referral_transition(**accept)
    foreign = ProgramFactory(organization=neighbour.organization)
    with pytest.raises(ValidationError, match="your own organization"):
        referral_transition(**accept, program=foreign)
    referral.refresh_from_db()
    assert referral.status == "requested"
    assert referral.program_id is None
    accepted = referral_transition(**accept, program=programs[1])
    assert accepted.status == "accepted"
    assert Referral.objects.get(pk=referral.pk).program_id == programs[1].pk


def test_healthcare_service_type_carries_the_service_codes(tenant, cbo_fhir):
    pantry = _coded(ProgramFactory(organization=tenant.cbo))
    resource = cbo_fhir.get(f"HealthcareService/{pantry.pk}").json()
    codings = [c for t in resource["type"] for c in t["coding"]]
    assert {"system": "http://snomed.info/sct", "code": PANTRY_CODE} in [
        {"system": c["system"], "code": c["code"]} for c in codings
    ]
