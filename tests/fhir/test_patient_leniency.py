"""Patients as EHRs really send them (issue 14): imperfect contact details are kept and
flagged, never a refusal; a possible match under another identifier is queued for the lead
navigator instead of stalling the referral on a 409."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from clients.models import Client, ClientIdentifier, PossibleDuplicate
from clients.services import client_lead_navigator_assign
from organizations.models import Membership
from organizations.roles import Role
from referrals.models import Referral
from tests.factories import ClientFactory, member, referral_program
from tests.fhir import examples as ex
from tests.fhir.test_referral_examples import direct_referral_bundle

pytestmark = pytest.mark.django_db

OUTCOME = {"HTTP_PREFER": "return=OperationOutcome"}


def _patient(**changes) -> dict:
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:1.2.3.4", "value": "MRN-501"}],
        "name": [{"family": "Okonkwo", "given": ["Adaeze"]}],
        "birthDate": "1979-04-12",
    }
    patient.update(changes)
    return patient


def _like(client, **changes) -> dict:
    """A Patient that may be `client` (same given name, birth date and ZIP), from another
    family name and under the sender's own identifier."""
    return _patient(
        name=[{"family": "Elsewhere", "given": [client.given_name]}],
        birthDate=client.date_of_birth.isoformat(),
        address=[{"postalCode": client.zip_code}],
        **changes,
    )


def _issues(response) -> list[dict]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"]


# --- contact details ------------------------------------------------------------------------


def test_a_seven_digit_phone_is_kept_flagged_and_warned_about(tenant, hco_fhir):
    response = hco_fhir.post(
        "Patient", _patient(telecom=[{"system": "phone", "value": "555-1234"}]), **OUTCOME
    )
    assert response.status_code == 201, response.json()
    client = Client.objects.get(family_name="Okonkwo")
    assert client.phone == "555-1234"
    assert client.contact_problems == {"phone": "555-1234"}
    [warning] = _issues(response)
    assert warning["severity"] == "warning" and warning["expression"] == ["Patient.telecom"]
    assert "cannot be dialled" in warning["diagnostics"]
    # The caller knows what it sent: the value is not echoed (responses may be logged).
    assert "555-1234" not in warning["diagnostics"]
    # The audit names the flagged field, never its value.
    event = AuditEvent.objects.get(action="create", object_type="client")
    assert event.detail["contact_problems"] == ["phone"]
    assert "555-1234" not in str(event.detail)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("+1 312 555 0100", "(312) 555-0100"),
        ("tel:+1-312-555-0100", "(312) 555-0100"),
        ("1-800-FLOWERS", "(800) 356-9377"),
        ("312.555.0100 x12", "(312) 555-0100 ext. 12"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_a_phone_number_phonenumbers_can_read_is_normalized(tenant, hco_fhir, sent, kept):
    response = hco_fhir.post(
        "Patient", _patient(telecom=[{"system": "phone", "value": sent}]), **OUTCOME
    )
    assert response.status_code == 201, response.json()
    client = Client.objects.get(family_name="Okonkwo")
    assert (client.phone, client.contact_problems) == (kept, {})
    assert [i["severity"] for i in _issues(response)] == ["information"]
    if "ext." in kept:
        # The extension is not part of the number duplicate detection compares.
        assert client.phone_digits == "3125550100"


def test_other_unusable_contact_details_are_flagged_not_refused(tenant, hco_fhir):
    patient = _patient(
        telecom=[{"system": "email", "value": "adaeze at example"}],
        address=[{"line": ["1 Main St"], "state": "Oklahoma", "postalCode": "K1A 0B1"}],
    )
    response = hco_fhir.post("Patient", patient, **OUTCOME)
    assert response.status_code == 201, response.json()
    client = Client.objects.get(family_name="Okonkwo")
    # An unusable address is not stored where messages would be sent to it; a state that
    # is not a code does not fit its column; a foreign postal code is kept as sent.
    assert (client.email, client.state, client.zip_code) == ("", "", "K1A 0B1")
    assert client.contact_problems == {
        "email": "adaeze at example",
        "state": "Oklahoma",
        "zip_code": "K1A 0B1",
    }
    expressions = sorted(i["expression"][0] for i in _issues(response))
    assert expressions == ["Patient.address", "Patient.address", "Patient.telecom"]


def test_a_zip_plus_four_spelled_otherwise_is_normalized(tenant, hco_fhir):
    response = hco_fhir.post("Patient", _patient(address=[{"postalCode": "74048 1234"}]))
    assert response.status_code == 201, response.json()
    client = Client.objects.get(family_name="Okonkwo")
    assert (client.zip_code, client.contact_problems) == ("74048-1234", {})


def test_a_referral_with_a_seven_digit_phone_arrives_flagged(
    client, login, tenant, hco_fhir, cbo_fhir
):
    referral_program(tenant)
    bundle, _sr, _task = direct_referral_bundle(tenant)
    [patient_entry] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    patient_entry["resource"]["telecom"] = [{"system": "phone", "value": "555-1234"}]
    response = hco_fhir.post("", bundle)
    assert response.status_code == 200, response.json()
    entries = response.json()["entry"]
    [answer] = [e for e in entries if e["resource"]["resourceType"] == "Patient"]
    [warning] = answer["response"]["outcome"]["issue"]
    assert warning["severity"] == "warning"
    assert warning["expression"] == ["Bundle.entry[3].resource.telecom"]
    referral = Referral.objects.get()
    assert referral.client.contact_problems == {"phone": "555-1234"}
    # The receiver, who may see the client's contact details (the release in the bundle),
    # is told to check the number with the client.
    login(tenant.cbo_staff)
    page = client.get(f"/referrals/{referral.pk}/").content.decode()
    assert 'data-testid="contact-problems"' in page
    assert "The phone number the sender gave, 555-1234, cannot be dialled as is" in page


# --- possible duplicates under another identifier -------------------------------------------


def test_a_possible_match_the_caller_may_not_see_is_queued_without_disclosure(tenant, hco_fhir):
    hidden = ClientFactory(
        created_by_organization=tenant.cbo, created_by=tenant.cbo_staff, given_name="Rosa"
    )
    cbo_nav = member(tenant.cbo, Role.NAVIGATOR, email="nav@cbo.test")
    client_lead_navigator_assign(
        client=hidden, membership=Membership.objects.get(user=cbo_nav), actor=cbo_nav
    )
    response = hco_fhir.post("Patient", _like(hidden), **OUTCOME)
    assert response.status_code == 201, response.json()
    created = Client.objects.exclude(pk__in=[hidden.pk, tenant.client.pk]).get()
    # Created under the sender's identifier.
    assert ClientIdentifier.objects.get(client=created, organization=tenant.hco).value == "MRN-501"
    [warning] = _issues(response)
    assert warning["severity"] == "warning" and warning["code"] == "multiple-matches"
    text = warning["diagnostics"]
    assert "may exist that your organization may not see" in text and "queued" in text
    assert f"lead navigator ({tenant.cbo.name})" in text
    body = response.content.decode()
    assert f"Patient/{hidden.pk}" not in body and hidden.family_name not in body
    entry = PossibleDuplicate.objects.get()
    assert (entry.client, entry.match, entry.status) == (created, hidden, "open")
    assert entry.created_by_organization == tenant.hco
    assert entry.reason == "Same given name, date of birth and ZIP"
    # Saying a record may exist is a disclosure: audited, as the 409 was.
    disclosed = AuditEvent.objects.get(action="disclose")
    assert disclosed.object_ids == [hidden.pk]
    assert disclosed.detail == {"disclosed": "possible_duplicate_exists"}
    assert AuditEvent.objects.filter(action="create", object_type="possible_duplicate").exists()
    # The sender's next message about this patient finds its record by the identifier.
    again = hco_fhir.post("Patient", _like(hidden))
    assert again.status_code == 200 and again.json()["id"] == str(created.pk)
    assert PossibleDuplicate.objects.count() == 1


def test_without_a_lead_navigator_the_warning_names_no_organization(tenant, hco_fhir):
    hidden = ClientFactory(created_by_organization=tenant.cbo, created_by=tenant.cbo_staff)
    response = hco_fhir.post("Patient", _like(hidden), **OUTCOME)
    assert response.status_code == 201, response.json()
    [warning] = _issues(response)
    assert warning["diagnostics"].endswith("queued for review.")
    assert tenant.cbo.name not in response.content.decode()


def test_a_possible_match_the_caller_may_see_is_named(tenant, hco_fhir):
    response = hco_fhir.post("Patient", _like(tenant.client), **OUTCOME)
    assert response.status_code == 201, response.json()
    [warning] = _issues(response)
    assert f"Possible duplicate of Patient/{tenant.client.pk}" in warning["diagnostics"]
    assert "same given name, date of birth and zip" in warning["diagnostics"]
    assert AuditEvent.objects.filter(action="search", object_ids=[tenant.client.pk]).exists()
    assert PossibleDuplicate.objects.get().match == tenant.client


def test_a_transaction_with_a_possible_match_still_makes_its_referral(tenant, hco_fhir):
    referral_program(tenant)
    bundle, _sr, _task = direct_referral_bundle(tenant)
    patient = ex.load(ex.PATIENT)
    existing = ClientFactory(
        created_by_organization=tenant.cbo,
        created_by=tenant.cbo_staff,
        given_name=patient["name"][0]["given"][0],
        date_of_birth=patient["birthDate"],
        zip_code="74048",  # the example's current (home) address
    )
    response = hco_fhir.post("", bundle)
    assert response.status_code == 200, response.json()
    referral = Referral.objects.get()
    assert referral.client != existing
    assert PossibleDuplicate.objects.get().match == existing
    [answer] = [e for e in response.json()["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert "queued" in str(answer["response"]["outcome"])
    assert f"Patient/{existing.pk}" not in response.content.decode()


def test_without_an_identifier_the_refusal_and_its_token_stay(tenant, hco_fhir):
    hidden = ClientFactory(created_by_organization=tenant.cbo, created_by=tenant.cbo_staff)
    before = Client.objects.count()
    response = hco_fhir.post("Patient", _like(hidden, identifier=[]))
    assert response.status_code == 409
    issues = response.json()["issue"]
    assert issues[0]["code"] == "multiple-matches"
    assert Client.objects.count() == before and not PossibleDuplicate.objects.exists()
    token = issues[-1]["diagnostics"].split("Linkage-Confirm-New-Patient: ")[1].split()[0]
    created = hco_fhir.post(
        "Patient", _like(hidden, identifier=[]), HTTP_LINKAGE_CONFIRM_NEW_PATIENT=token
    )
    assert created.status_code == 201, created.json()
    event = AuditEvent.objects.filter(action="create", object_type="client").latest("id")
    assert event.detail["possible_duplicates_overridden"] == 1
    assert not PossibleDuplicate.objects.exists()


def test_an_identifier_of_the_callers_on_a_record_it_may_not_see_is_still_refused(tenant, hco_fhir):
    # The same identifier for another record: not "another identifier", so no new record.
    hidden = ClientFactory(created_by_organization=tenant.cbo, created_by=tenant.cbo_staff)
    ClientIdentifier.objects.create(
        client=hidden, organization=tenant.hco, system="urn:oid:1.2.3.4", value="MRN-501"
    )
    before = Client.objects.count()
    response = hco_fhir.post("Patient", _like(hidden))
    assert response.status_code == 409
    assert response.json()["issue"][0]["code"] == "multiple-matches"
    assert Client.objects.count() == before and not PossibleDuplicate.objects.exists()
