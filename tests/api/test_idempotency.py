"""`Idempotency-Key` on POST: one object however often a request is retried."""

import pytest

from apikeys.models import IdempotencyRecord
from clients.models import Client

pytestmark = pytest.mark.django_db

BODY = {"given_name": "Rosa", "family_name": "Quill", "date_of_birth": "1980-01-02"}


def _post(api, body=BODY, key="k-1"):
    return api.post("/api/v1/clients/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_retry_returns_the_first_response_and_creates_nothing(tenant, hco_api):
    before = Client.objects.count()
    first = _post(hco_api)
    again = _post(hco_api)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Client.objects.count() == before + 1


def test_same_key_different_body_is_422(tenant, hco_api):
    assert _post(hco_api).status_code == 201
    before = Client.objects.count()
    reused = _post(hco_api, {**BODY, "given_name": "Other"})
    assert reused.status_code == 422
    error = reused.json()["error"]
    assert error["code"] == "idempotency_key_reused" and "different request" in error["message"]
    assert Client.objects.count() == before


def test_without_a_key_each_post_creates(tenant, hco_api):
    before = Client.objects.count()
    hco_api.post("/api/v1/clients/", BODY, format="json")
    hco_api.post("/api/v1/clients/", BODY, format="json")
    assert Client.objects.count() == before + 2


def test_keys_are_scoped_per_api_key(tenant, make_key, bearer):
    one = bearer(make_key(tenant.hco, name="one")[1])
    two = bearer(make_key(tenant.hco, name="two")[1])
    before = Client.objects.count()
    a = _post(one, key="shared")
    b = _post(two, key="shared")
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]
    assert Client.objects.count() == before + 2
    # Another caller's different body under the same key is not a conflict either.
    assert _post(two, {**BODY, "given_name": "Ana"}, key="shared").status_code == 422
    assert _post(one, key="shared").json()["id"] == a.json()["id"]


def test_failed_request_is_not_remembered(tenant, hco_api):
    bad = _post(hco_api, {**BODY, "date_of_birth": "2999-01-01"})
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    # Fixed and retried with the same key: it goes through, once.
    assert _post(hco_api, {**BODY, "date_of_birth": "2999-01-01"}).status_code == 400
    assert _post(hco_api).status_code == 201
    assert _post(hco_api).status_code == 201
    assert IdempotencyRecord.objects.count() == 1


def test_over_long_key_is_refused(tenant, hco_api):
    response = _post(hco_api, key="x" * 300)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["fields"]
    assert not Client.objects.filter(family_name="Quill").exists()


def test_applies_to_sub_resource_posts_too(tenant, cbo_api):
    from referrals.models import ReferralEvent, ReferralNote
    from tests.factories import referral_for

    referral = referral_for(tenant)
    url = f"/api/v1/referrals/{referral.pk}"
    for _ in range(2):
        note = cbo_api.post(
            f"{url}/notes/", {"body": "Called"}, format="json", HTTP_IDEMPOTENCY_KEY="n-1"
        )
        assert note.status_code == 201
    assert ReferralNote.objects.filter(referral=referral).count() == 1
    events = ReferralEvent.objects.filter(referral=referral).count()
    first = cbo_api.post(f"{url}/accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    again = cbo_api.post(f"{url}/accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ReferralEvent.objects.filter(referral=referral).count() == events + 1


def test_old_records_are_pruned(tenant, hco_api):
    from io import StringIO

    import time_machine
    from django.core.management import call_command

    with time_machine.travel("2026-03-01 12:00:00+00:00", tick=False):
        _post(hco_api, key="old")
    with time_machine.travel("2026-03-09 12:00:00+00:00", tick=False):
        _post(hco_api, key="new")
        out = StringIO()
        call_command("prune_idempotency_records", days=7, stdout=out)
    assert "Deleted 1 " in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
