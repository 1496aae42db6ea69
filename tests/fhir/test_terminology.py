"""The codes the interface checks come from the IG's own files, and agree with the codes the
domain uses; the IG's examples are valid input for the FHIR model library Linkage uses."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

from interop.fhir import codes
from organizations.sdoh import CODE_SYSTEM, SDOHCategory
from referrals.workflow import Status
from tests.fhir.examples import FIXTURES


def test_sdoh_categories_are_the_value_set_and_the_domain_codes():
    categories = codes.sdoh_categories()
    assert set(categories) == set(SDOHCategory.values)
    assert {c.system for c in categories.values()} == {CODE_SYSTEM}
    assert categories["food-insecurity"].display == "Food Insecurity"


def test_referral_task_statuses_are_the_state_machine():
    # SDOHCC-ValueSetReferralTaskStatus: TaskStatus without ready and received.
    assert codes.referral_task_statuses() == set(Status.values)
    assert {"ready", "received"} & codes.referral_task_statuses() == set()


def test_other_ig_codes():
    assert codes.task_priorities() == {"routine", "urgent"}
    assert codes.resulting_activity()["code"] == "resulting-activity"
    assert codes.contacting_subject_prohibited()["display"] == "Contacting Subject Prohibited"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_the_examples_load_with_the_r4b_models(path):
    # fhir.resources 8 has R4B (and STU3, and R5 at its top level) but no R4 package; the
    # resources Linkage reads are the same in R4 and R4B, and the IG's examples load.
    data = json.loads(path.read_text(encoding="utf-8"))
    get_fhir_model_class(data["resourceType"]).model_validate(data)
