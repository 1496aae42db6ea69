"""Versions: Task and Consent carry meta.versionId and the same ETag; a PUT with If-Match
(`W/"v"`, `"v"` or `v`, as clients send it back) of a version that is no longer current
is refused with 412 and writes nothing, so a CBO's system and a person in the browser
cannot overwrite each other's move unseen. `Prefer: return=` is honoured on updates."""

from __future__ import annotations

import pytest

from consent.models import Release
from referrals.models import Referral
from tests.factories import referral_for
from tests.fhir.test_referral_examples import consent_naming

pytestmark = pytest.mark.django_db


def _etag_value(response) -> str:
    etag = response["ETag"]
    assert etag.startswith('W/"') and etag.endswith('"'), etag
    return etag[3:-1]


def _consent_of(tenant, hco_fhir) -> dict:
    consent = consent_naming(f"Patient/{tenant.client.pk}", tenant.hco, tenant.cbo)
    created = hco_fhir.post("Consent", consent)
    assert created.status_code == 201, created.json()
    return created.json()


def test_reads_carry_the_version_as_meta_and_etag(tenant, hco_fhir, cbo_fhir):
    referral = referral_for(tenant)
    for api in (hco_fhir, cbo_fhir):
        task = api.get(f"Task/{referral.pk}")
        assert task.status_code == 200
        assert task.json()["meta"]["versionId"] == _etag_value(task)
        assert task["Last-Modified"]
    consent = _consent_of(tenant, hco_fhir)
    read = hco_fhir.get(f"Consent/{consent['id']}")
    assert read.json()["meta"]["versionId"] == _etag_value(read) == consent["meta"]["versionId"]
    # A move is a new version, in the body and the header alike.
    before = cbo_fhir.get(f"Task/{referral.pk}")
    task = before.json()
    task["status"] = "accepted"
    moved = cbo_fhir.put(f"Task/{referral.pk}", task)
    assert moved.status_code == 200
    assert moved.json()["meta"]["versionId"] == _etag_value(moved) != _etag_value(before)


def _browser_accepts(login, tenant, referral: Referral) -> None:
    browser = login(tenant.cbo_staff)
    response = browser.post(
        f"/referrals/{referral.pk}/move/", {"move": "accept", "expected_status": "requested"}
    )
    assert response.status_code in (200, 302), response.content[:500]
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_a_task_moved_in_the_browser_is_not_overwritten(tenant, cbo_fhir, login):
    referral = referral_for(tenant)
    seen = cbo_fhir.get(f"Task/{referral.pk}")
    _browser_accepts(login, tenant, referral)
    # The system, unaware, rejects the referral it read as requested.
    task = seen.json()
    task["status"] = "rejected"
    task["statusReason"] = {"text": "No capacity"}
    events = referral.events.count()
    for if_match in (seen["ETag"], f'"{_etag_value(seen)}"', _etag_value(seen)):
        stale = cbo_fhir.put(f"Task/{referral.pk}", task, HTTP_IF_MATCH=if_match)
        assert stale.status_code == 412, (if_match, stale.json())
        outcome = stale.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "conflict"
        assert "read it again" in outcome["issue"][0]["diagnostics"]
    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.events.count() == events
    # Read again, the system decides anew with the current version: accepted.
    fresh = cbo_fhir.get(f"Task/{referral.pk}")
    task = fresh.json()
    task["status"] = "in-progress"
    moved = cbo_fhir.put(f"Task/{referral.pk}", task, HTTP_IF_MATCH=fresh["ETag"])
    assert moved.status_code == 200, moved.json()


@pytest.mark.parametrize("form", ["weak", "quoted", "bare", "star"])
def test_if_match_in_every_form_clients_send(tenant, cbo_fhir, form):
    referral = referral_for(tenant)
    read = cbo_fhir.get(f"Task/{referral.pk}")
    version = _etag_value(read)
    header = {"weak": f'W/"{version}"', "quoted": f'"{version}"', "bare": version, "star": "*"}
    task = read.json()
    task["status"] = "accepted"
    response = cbo_fhir.put(f"Task/{referral.pk}", task, HTTP_IF_MATCH=header[form])
    assert response.status_code == 200, response.json()


def test_consent_put_with_a_stale_version_is_412(tenant, hco_fhir):
    consent = _consent_of(tenant, hco_fhir)
    pk = consent["id"]
    read = hco_fhir.get(f"Consent/{pk}")
    current = {**read.json(), "status": "inactive"}
    # Versions in every form are accepted while current ...
    for if_match in (f'"{_etag_value(read)}"', _etag_value(read)):
        same = hco_fhir.put(f"Consent/{pk}", read.json(), HTTP_IF_MATCH=if_match)
        assert same.status_code == 200, (if_match, same.json())
    # ... and a version that never was (or no longer is) is refused, writing nothing.
    stale = hco_fhir.put(f"Consent/{pk}", current, HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412
    assert stale.json()["issue"][0]["code"] == "conflict"
    assert Release.objects.get(pk=pk).revoked_at is None
    revoked = hco_fhir.put(f"Consent/{pk}", current, HTTP_IF_MATCH=read["ETag"])
    assert revoked.status_code == 200, revoked.json()
    assert revoked.json()["status"] == "inactive"
    assert revoked.json()["meta"]["versionId"] == _etag_value(revoked) != _etag_value(read)
    # Revoked since: the version read before is stale now.
    again = hco_fhir.put(f"Consent/{pk}", current, HTTP_IF_MATCH=read["ETag"])
    assert again.status_code == 412


def test_consent_if_match_in_a_transaction(tenant, hco_fhir):
    consent = _consent_of(tenant, hco_fhir)
    pk = consent["id"]
    consent = {**consent, "status": "inactive"}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": consent,
                "request": {"method": "PUT", "url": f"Consent/{pk}", "ifMatch": 'W/"1"'},
            }
        ],
    }
    assert hco_fhir.post("", bundle).status_code == 412
    assert Release.objects.get(pk=pk).revoked_at is None
    bundle["entry"][0]["request"]["ifMatch"] = f'W/"{consent["meta"]["versionId"]}"'
    done = hco_fhir.post("", bundle)
    assert done.status_code == 200, done.json()
    assert Release.objects.get(pk=pk).revoked_at is not None


@pytest.mark.parametrize("prefer", ["minimal", "representation"])
def test_prefer_on_updates(tenant, cbo_fhir, hco_fhir, prefer):
    referral = referral_for(tenant)
    task = cbo_fhir.get(f"Task/{referral.pk}").json()
    task["status"] = "accepted"
    moved = cbo_fhir.put(f"Task/{referral.pk}", task, HTTP_PREFER=f"return={prefer}")
    assert moved.status_code == 200
    assert moved["Preference-Applied"] == f"return={prefer}"
    assert moved["ETag"]
    if prefer == "minimal":
        assert not moved.content
    else:
        assert moved.json()["status"] == "accepted"
    consent = _consent_of(tenant, hco_fhir)
    consent["status"] = "inactive"
    revoked = hco_fhir.put(f"Consent/{consent['id']}", consent, HTTP_PREFER=f"return={prefer}")
    assert revoked.status_code == 200 and revoked["ETag"]
    assert bool(revoked.content) == (prefer == "representation")
