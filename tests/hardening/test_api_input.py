"""Input the REST API cannot use is a 4xx with the API's JSON error body, never a 500:
ids past PostgreSQL's bigint, JSON nested deeper than the parser goes, bodies past the
size Django reads, NUL characters."""

from __future__ import annotations

import pytest

from clients.models import Client

pytestmark = pytest.mark.django_db

BIG = "99999999999999999999"  # past 2**63 - 1


def deep_json(levels: int = 100_000) -> str:
    return '{"family_name": ' + "[" * levels + "]" * levels + "}"


@pytest.fixture
def api(hco_api):
    hco_api.raise_request_exception = False  # a 500 is an answer to check, not an error
    return hco_api


def error_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/referrals/?client={BIG}", "client"),
        (f"/api/v1/referrals/?program={BIG}", "program"),
        (f"/api/v1/programs/?organization={BIG}", "organization"),
        (f"/api/v1/referrals/?client=-{BIG}", "client"),
        ("/api/v1/referrals/?client=9223372036854775808", "client"),  # 2**63
    ],
)
def test_an_id_filter_past_bigint_is_a_400_naming_the_filter(api, url, field):
    response = api.get(url)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_the_largest_bigint_is_an_id_that_matches_nothing(api):
    response = api.get("/api/v1/referrals/?client=9223372036854775807")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_message_says_what_is_wrong(api):
    error = error_of(api.get(f"/api/v1/referrals/?client={BIG}"))
    assert error["fields"]["client"] == ["No row has an id that large."]


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/referrals/{BIG}/",
        f"/api/v1/clients/{BIG}/",
        f"/api/v1/programs/{BIG}/",
        f"/api/v1/organizations/{BIG}/",
        f"/api/v1/releases/{BIG}/",
        f"/api/v1/assessments/{BIG}/",
    ],
)
def test_a_path_id_past_bigint_is_not_found(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_move_of_a_referral_id_past_bigint_is_not_found(api):
    response = api.post(f"/api/v1/referrals/{BIG}/accept/", {}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/clients/search/", "/api/v1/clients/"])
def test_json_nested_too_deeply_is_a_400(api, url):
    response = api.generic("POST", url, deep_json(), content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in error_of(response)["message"]


@pytest.mark.parametrize("idempotency_key", [None, "big-body-1"])
def test_a_body_past_the_upload_limit_is_a_413(api, settings, idempotency_key):
    body = '{"family_name": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440) + '"}'
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    before = Client.objects.count()
    response = api.generic(
        "POST", "/api/v1/clients/", body, content_type="application/json", **headers
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    assert Client.objects.count() == before


def test_a_nul_character_in_a_name_is_refused(api):
    before = Client.objects.count()
    response = api.post(
        "/api/v1/clients/",
        {"given_name": "Ann", "family_name": "Sm\u0000ith", "date_of_birth": "1980-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "family_name" in error_of(response)["fields"]
    assert Client.objects.count() == before
