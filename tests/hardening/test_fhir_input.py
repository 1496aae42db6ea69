"""Input the FHIR interface cannot use is a 4xx OperationOutcome that says what is wrong,
never a 500: ids past PostgreSQL's bigint or written in other digits, times PostgreSQL
cannot hold, JSON nested deeper than the parser goes, bodies past FHIR_MAX_BODY_BYTES,
NUL characters in any string."""

from __future__ import annotations

import json

import pytest

from clients.models import Client

pytestmark = pytest.mark.django_db

BIG = "99999999999999999999"  # past 2**63 - 1


@pytest.fixture
def fhir(hco_fhir):
    hco_fhir.api.raise_request_exception = False  # a 500 is an answer to check here
    return hco_fhir


def outcome_of(response) -> dict:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0]


def patient(**changes) -> dict:
    resource = {
        "resourceType": "Patient",
        "name": [{"family": "Okafor", "given": ["Ada"]}],
        "birthDate": "1980-01-01",
    }
    resource.update(changes)
    return resource


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (f"Task?_id={BIG}", "_id"),
        (f"Task?_id=1,{BIG}", "_id"),
        (f"Task?owner=Organization/{BIG}", "owner"),
        (f"Task?requester=Organization/{BIG}", "requester"),
        (f"Task?patient=Patient/{BIG}", "patient"),
        (f"Task?focus=ServiceRequest/{BIG}", "focus"),
        (f"ServiceRequest?_id={BIG}", "_id"),
        (f"ServiceRequest?subject=Patient/{BIG}", "subject"),
        (f"ServiceRequest?performer=HealthcareService/{BIG}", "performer"),
        (f"Patient?_id={BIG}", "_id"),
        (f"Organization?_id={BIG}", "_id"),
        (f"HealthcareService?organization=Organization/{BIG}", "organization"),
        (f"Consent?patient=Patient/{BIG}", "patient"),
        ("Task?_id=\u00b2", "_id"),  # "²": str.isdigit says yes, int() says no
        ("Task?owner=\u00b2", "owner"),
        ("Task?_id=\u0661\u0662", "_id"),  # Arabic-Indic digits are no id here either
        ("Task?_cursor=\u00b2", "_cursor"),
        (f"Task?_cursor={BIG}", "_cursor"),
        ("Task?_count=\u00b2", "_count"),
        ("Task?_lastUpdated=9999-12-31", "_lastUpdated"),
        ("Task?_lastUpdated=ge9999-12-31T23:59:59-12:00", "_lastUpdated"),
    ],
)
def test_a_search_value_that_is_no_id_or_time_is_a_400_naming_the_parameter(fhir, query, param):
    response = fhir.get(query)
    assert response.status_code == 400, response.content
    issue = outcome_of(response)
    assert issue["code"] == "invalid"
    assert issue["expression"] == [param]


def test_a_count_too_long_for_int_is_a_400(fhir):
    # Python refuses to turn more than 4300 digits into an int; a form body can carry them.
    response = fhir.search("Task", {"_count": "9" * 5000})
    assert response.status_code == 400
    assert outcome_of(response)["expression"] == ["_count"]


def test_a_time_zone_postgresql_cannot_hold_is_read_in_utc(fhir):
    # -23:00 is a valid offset for Python, not for PostgreSQL (±15:59).
    response = fhir.get("Task?_lastUpdated=ge2026-01-01T00:00:00-23:00")
    assert response.status_code == 200, response.content
    assert response.json()["resourceType"] == "Bundle"


@pytest.mark.parametrize(
    "path",
    [
        f"Task/{BIG}",
        f"ServiceRequest/{BIG}",
        f"Patient/{BIG}",
        f"Organization/{BIG}",
        f"HealthcareService/{BIG}",
        f"Consent/{BIG}",
    ],
)
def test_a_path_id_past_bigint_is_not_found(fhir, path):
    response = fhir.get(path)
    assert response.status_code == 404
    assert outcome_of(response)["code"] == "not-found"


def deep(levels: int = 100_000) -> str:
    return '{"resourceType": "Patient", "extension": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("path", ["Patient", "", "Task", "ServiceRequest", "Consent"])
def test_json_nested_too_deeply_is_a_400(fhir, path):
    response = fhir.post(path, deep())
    assert response.status_code == 400, response.content
    issue = outcome_of(response)
    assert issue["code"] == "structure"
    assert "nested too deeply" in issue["diagnostics"]


@pytest.mark.parametrize("idempotency_key", [None, "big-body-1"])
def test_a_body_past_the_limit_is_a_413(fhir, idempotency_key):
    body = json.dumps(patient(text={"status": "generated", "div": "x" * 3_000_000}))
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    before = Client.objects.count()
    response = fhir.post("Patient", body, **headers)
    assert response.status_code == 413
    issue = outcome_of(response)
    assert issue["code"] == "too-long"
    assert "2.5 MB" in issue["diagnostics"]
    assert Client.objects.count() == before


def test_the_limit_is_a_setting(fhir, settings):
    settings.FHIR_MAX_BODY_BYTES = 1024 * 1024
    body = json.dumps(patient(text={"status": "generated", "div": "x" * 1_100_000}))
    response = fhir.post("Patient", body)
    assert response.status_code == 413
    assert "1 MB" in outcome_of(response)["diagnostics"]


def test_a_body_within_the_limit_is_read(fhir):
    response = fhir.post("Patient", patient())
    assert response.status_code == 201, response.json()


def test_a_nul_character_in_a_patient_name_is_refused_naming_the_element(fhir):
    before = Client.objects.count()
    response = fhir.post("Patient", patient(name=[{"family": "Oka\u0000for", "given": ["Ada"]}]))
    assert response.status_code == 400, response.content
    issue = outcome_of(response)
    assert issue["expression"] == ["Patient.name[0].family"]
    assert "Null characters are not allowed" in issue["diagnostics"]
    assert Client.objects.count() == before


def test_a_nul_character_inside_a_transaction_is_refused_naming_the_element(fhir):
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b5f3e0e-3a47-4ad4-9d3a-6a0f3f2d0a11",
                "resource": patient(name=[{"family": "Okafor", "given": ["A\u0000da"]}]),
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }
    before = Client.objects.count()
    response = fhir.post("", bundle)
    assert response.status_code == 400, response.content
    assert outcome_of(response)["expression"] == ["Bundle.entry[0].resource.name[0].given[0]"]
    assert Client.objects.count() == before


def test_a_nul_character_in_a_property_name_is_refused(fhir):
    response = fhir.post("Patient", {**patient(), "bad\u0000name": "x"})
    assert response.status_code == 400
    assert outcome_of(response)["expression"] == ["Patient.bad\u0000name"]


@pytest.fixture
def admin_fhir(tenant, fhir_for):
    from organizations.roles import Role

    client = fhir_for(tenant.hco, role=Role.ORG_ADMIN)
    client.api.raise_request_exception = False
    return client


def test_a_subscription_id_in_other_digits_is_not_found(admin_fhir):
    response = admin_fhir.get("Subscription/\u00b2")
    assert response.status_code == 404
    assert outcome_of(response)["code"] == "not-found"


def test_a_subscription_nested_too_deeply_is_a_400(admin_fhir):
    response = admin_fhir.post("Subscription", deep())
    assert response.status_code == 400
    assert "nested too deeply" in outcome_of(response)["diagnostics"]


def test_a_subscription_body_past_the_upload_limit_is_a_413(admin_fhir):
    body = json.dumps({"resourceType": "Subscription", "reason": "x" * 3_000_000})
    response = admin_fhir.post("Subscription", body)
    assert response.status_code == 413
    assert outcome_of(response)["diagnostics"] == "The request body is too large."
