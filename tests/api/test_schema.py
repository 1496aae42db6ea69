"""The generated OpenAPI schema: valid, complete (auth, errors, idempotency), and true —
every documented GET, requested with real ids, answers without a 5xx with a body that
matches the schema for its status code (a Schemathesis-style walk, with DRF's test client)."""

import re

import jsonschema
import pytest

from tests.factories import (
    ClientFactory,
    assessment_for,
    referral_for,
    referral_program,
    release_for,
)

pytestmark = pytest.mark.django_db


def _schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _jsonschema(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, recursively."""
    if isinstance(node, list):
        return [_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _validate(document, schema, body, where):
    # Refs are "#/components/schemas/X": keep the components beside the schema.
    schema = {**_jsonschema(schema), "components": _jsonschema(document["components"])}
    try:
        jsonschema.validate(body, schema)
    except jsonschema.ValidationError as error:
        raise AssertionError(f"{where}: {error.message} at {list(error.absolute_path)}") from None


def test_schema_and_docs_are_served(client):
    from drf_spectacular.validation import validate_schema

    document = _schema(client)
    assert document["openapi"].startswith("3.")
    validate_schema(document)  # against the OpenAPI 3.0 JSON Schema; raises if invalid
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # The docs' assets come from this server (drf-spectacular-sidecar), not a CDN.
    assert "cdn" not in docs.content.decode().lower()
    assert "/static/drf_spectacular_sidecar/" in docs.content.decode()


def test_every_operation_documents_auth_errors_and_idempotency(client):
    document = _schema(client)
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "post")
    ]
    assert len(operations) >= 25
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert {"apiKey": []} in op["security"], where
        assert {"401", "403", "429"} <= set(op["responses"]), where
        error = op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"]
        assert error.endswith("/Error"), where
        if method == "post":
            headers = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
            assert "Idempotency-Key" in headers, where
            assert {"400", "409", "422"} <= set(op["responses"]), where


@pytest.mark.parametrize("caller", ["hco", "cbo"])
def test_every_documented_get_matches_its_schema(tenant, make_key, bearer, caller, client):
    # Data for every list to show, including a client the CBO sees without demographics.
    referral = referral_for(tenant)
    partial = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(partial, organization=tenant.hco, recipients=[tenant.cbo], categories=["health"])
    from referrals.services import referral_note_add

    referral_note_add(
        referral=referral, author=tenant.hco_navigator, organization=tenant.hco, body="Hi"
    )
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    _key, raw = make_key(getattr(tenant, caller))
    api = bearer(raw)
    ids = {
        "client_id": partial.pk if caller == "cbo" else tenant.client.pk,
        "release_id": tenant.release.pk,
        "referral_id": referral.pk,
        "program_id": referral_program(tenant).pk,
        "organization_id": tenant.cbo.pk,
        "notification_id": 0,
        "assessment_id": assessment.pk,
        "term_id": 0,
        "statement_id": 0,
    }
    document = _schema(client)
    checked = 0
    for path, item in document["paths"].items():
        if "get" not in item:
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        response = api.get(url)
        where = f"GET {url} as {caller}"
        assert response.status_code < 500, where
        documented = item["get"]["responses"]
        assert str(response.status_code) in documented, f"{where}: {response.status_code}"
        schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
        _validate(document, schema, response.json(), where)
        checked += 1
    assert checked >= 10
