"""A foreign organization's key sees nothing of another tenant over FHIR: every read is a
404 OperationOutcome, every search (with the other tenant's ids as terms) comes back
empty, and references to the other tenant's rows in posted resources read like
references to nothing.

Reads and searches come from the registry (interop/fhir/registry.py), so a resource added
there is swept here without editing this file."""

from __future__ import annotations

import pytest

from interop.fhir.registry import RESOURCES
from organizations.roles import Role
from referrals.services import referral_transition
from tests.factories import assessment_for, referral_for, referral_program
from tests.fhir import examples as ex
from tests.tenancy.probes import page_probes, sentinels

pytestmark = pytest.mark.django_db

FOREIGN = [("hco", Role.NAVIGATOR), ("cbo", Role.STAFF), ("backbone", Role.ORG_ADMIN)]


@pytest.fixture
def victim(tenant):
    """The victim tenant with a referral completed (so that its Procedure exists) and a
    screening, besides what the page probes build."""
    done = referral_for(tenant, program=referral_program(tenant), reason="Victim reason")
    for move in ("accept", "start"):
        referral_transition(
            referral_id=done.pk, move=move, actor=tenant.cbo_staff, organization=tenant.cbo
        )
    referral_transition(
        referral_id=done.pk,
        move="complete",
        actor=tenant.cbo_staff,
        organization=tenant.cbo,
        outcome="need-met",
    )
    return {"tenant": tenant, "completed": done, "probes": page_probes(tenant)}


def _ids(victim) -> dict[str, int]:
    probes = victim["probes"]
    return {
        "referral_id": victim["completed"].pk,
        # The completed referral's resulting activity (Procedure/reported-<n> is swept by
        # the tenancy walk's probes).
        "procedure_id": str(victim["completed"].pk),
        "client_id": probes["client_id"](),
        "release_id": probes["release_id"](),
        "assessment_id": assessment_for(
            victim["tenant"].client, organization=victim["tenant"].hco
        ).pk,
        "organization_id": probes["organization_id"](),
        "program_id": probes["program_id"](),
    }


def _no_secrets(response, secrets):
    body = response.content.decode()
    leaked = [s for s in secrets if s in body]
    assert not leaked, f"{response.request['PATH_INFO']}: {leaked}"


@pytest.mark.parametrize(("org_attr", "role"), FOREIGN)
def test_every_read_is_404(victim, foreign_tenant, fhir_for, org_attr, role):
    api = fhir_for(getattr(foreign_tenant, org_attr), role)
    ids = _ids(victim)
    secrets = sentinels(victim["tenant"])
    for resource in RESOURCES.values():
        if resource.read is None:
            continue
        path = f"{resource.name}/{resource.id_route.split('<')[0]}{ids[resource.id_kwarg]}"
        response = api.get(path)
        assert response.status_code == 404, (path, response.content[:300])
        assert response.json()["resourceType"] == "OperationOutcome"
        _no_secrets(response, secrets)
        if resource.update_capability:
            response = api.put(
                path, {"resourceType": resource.name, "id": str(ids[resource.id_kwarg])}
            )
            assert response.status_code == 404, path


# A victim id for each kind of reference a search parameter takes.
def _reference_values(victim, ids) -> dict[str, str]:
    tenant = victim["tenant"]
    return {
        "Organization": f"Organization/{tenant.cbo.pk},Organization/{tenant.hco.pk}",
        "Patient": f"Patient/{ids['client_id']}",
        "ServiceRequest": f"ServiceRequest/{ids['referral_id']}",
        "HealthcareService": f"HealthcareService/{ids['program_id']}",
        "Task": f"Task/{ids['referral_id']}",
    }


@pytest.mark.parametrize(("org_attr", "role"), FOREIGN)
def test_searches_find_nothing_of_another_tenant(victim, foreign_tenant, fhir_for, org_attr, role):
    api = fhir_for(getattr(foreign_tenant, org_attr), role)
    ids = _ids(victim)
    secrets = sentinels(victim["tenant"])
    by_kind = _reference_values(victim, ids)
    for resource in RESOURCES.values():
        if resource.search is None:
            continue
        queries = [{}, {"_id": str(ids[resource.id_kwarg])}]
        for param in resource.search.params:
            if param.type == "reference":
                queries.append({param.name: by_kind[param.target]})
        for query in queries:
            response = api.get(resource.name, query)
            assert response.status_code == 200, (resource.name, query, response.content[:300])
            bundle = response.json()
            own = {e["resource"]["id"] for e in bundle["entry"]}
            if query:
                assert not own, (resource.name, query, own)
            _no_secrets(response, secrets)
    # Identifier search, by POST: the victim's identifier finds nothing.
    victim["tenant"].client.identifiers.create(
        organization=victim["tenant"].hco, system="urn:mrn", value="VICTIM-42"
    )
    response = api.search("Patient", {"identifier": "urn:mrn|VICTIM-42"})
    assert response.status_code == 200 and response.json()["entry"] == []


def test_references_to_another_tenant_read_like_nothing(victim, foreign_tenant, fhir_for):
    """A foreign clinic posts a referral for the victim's patient to the victim's food bank:
    the answer is the one for ids that do not exist."""
    tenant = victim["tenant"]
    api = fhir_for(foreign_tenant.hco)
    sr = ex.repoint(ex.load(ex.SR_FOOD_PANTRY), {ex.EXAMPLE_PATIENT: f"Patient/{tenant.client.pk}"})
    sr["performer"] = [{"reference": f"HealthcareService/{victim['probes']['program_id']()}"}]
    foreign = api.post("ServiceRequest", sr).json()["issue"][0]["diagnostics"]
    sr["subject"] = {"reference": "Patient/987654"}
    missing = api.post("ServiceRequest", sr).json()["issue"][0]["diagnostics"]
    assert foreign.replace(str(tenant.client.pk), "N") == missing.replace("987654", "N")
    sr["subject"] = {"reference": f"Patient/{foreign_tenant.client.pk}"}
    program = api.post("ServiceRequest", sr).json()["issue"][0]
    assert "not a program of your network's directory" in program["diagnostics"]
    assert tenant.cbo.name not in str(program)
