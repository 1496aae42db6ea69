"""GET metadata: a valid CapabilityStatement that lists exactly what the server does —
every interaction it lists answers, every search parameter it lists is taken, and the
server has no FHIR route it does not list."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from interop.fhir.registry import RESOURCES
from tests.fhir.conftest import Fhir
from tests.tenancy.harness import iter_routes

pytestmark = pytest.mark.django_db

SAMPLE = {"reference": "1", "token": "1", "date": "ge2020-01-01", "string": "x"}


def _statement(api: Fhir) -> dict:
    response = api.get("metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def test_metadata_is_a_valid_capability_statement_for_everyone(db):
    statement = _statement(Fhir())  # no key: FHIR clients read metadata first
    CapabilityStatement.model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    assert rest["interaction"] == [{"code": "transaction"}]
    kinds = {r["type"] for r in rest["resource"]}
    assert {"Task", "ServiceRequest", "Patient", "Consent", "QuestionnaireResponse"} <= kinds
    task = next(r for r in rest["resource"] if r["type"] == "Task")
    assert {i["code"] for i in task["interaction"]} == {"read", "search-type", "create", "update"}
    assert {p["name"] for p in task["searchParam"]} >= {
        "owner",
        "requester",
        "status",
        "patient",
        "_lastUpdated",
    }


def test_every_listed_interaction_and_parameter_answers(tenant, hco_fhir):
    rest = _statement(hco_fhir)["rest"][0]
    for resource in rest["resource"]:
        kind = resource["type"]
        if kind not in RESOURCES:
            continue  # served by another part (interop.subscriptions), tested there
        interactions = {i["code"] for i in resource["interaction"]}
        prefix = "assessment-" if kind == "QuestionnaireResponse" else ""
        if "read" in interactions:
            response = hco_fhir.get(f"{kind}/{prefix}0")
            assert response.status_code == 404 and "is not known here" in str(response.json()), kind
        put = hco_fhir.put(f"{kind}/{prefix}0", {"resourceType": kind})
        assert put.status_code == (404 if "update" in interactions else 405), kind
        create = hco_fhir.post(kind, {"resourceType": kind})
        assert (create.status_code != 405) == ("create" in interactions), kind
        search = hco_fhir.get(kind)
        assert (search.status_code == 200) == ("search-type" in interactions), kind
        for param in resource.get("searchParam", []):
            response = hco_fhir.get(kind, {param["name"]: SAMPLE[param["type"]]})
            assert "not a search parameter" not in response.content.decode(), (kind, param)
            assert response.status_code in (200, 400), (kind, param)
        if "search-type" in interactions:
            unknown = hco_fhir.get(kind, {"no-such-parameter": "1"})
            assert unknown.status_code == 400


def test_no_fhir_route_is_missing_from_metadata(db):
    rest = _statement(Fhir())["rest"][0]
    listed = {r["type"] for r in rest["resource"]}
    routed = set()
    for route in iter_routes():
        if not route.template.startswith("fhir/r4/"):
            continue
        rest_of = route.template.removeprefix("fhir/r4/")
        if rest_of in ("", "metadata", "^.*$"):
            continue
        routed.add(rest_of.split("/")[0])
    assert routed == listed
