"""Program service codes (SNOMED CT, issue 14): edited in the program form, shown on the
program page, carried through HSDS export and import."""

from __future__ import annotations

import io
import zipfile

import pytest

from directory.models import Program
from organizations.roles import Role
from tests.directory.test_program_pages import VALID
from tests.factories import member

pytestmark = pytest.mark.django_db

PANTRY = "467771000124109"
FOOD = "710925007"


@pytest.fixture
def cbo_admin(tenant):
    return member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@marrowdale.test")


def test_codes_edited_shown_exported_and_imported_back(
    client, login, tenant, cbo_admin, run_import
):
    login(cbo_admin)
    form = client.get("/directory/programs/new/").content.decode()
    assert f'value="{PANTRY}"' in form  # the IG's codes are offered
    response = client.post("/directory/programs/new/", {**VALID, "service_codes": [PANTRY, FOOD]})
    assert response.status_code == 302
    program = Program.objects.get(name="Diaper bank")
    assert sorted(program.service_codes.values_list("system", "code")) == [
        ("http://snomed.info/sct", PANTRY),
        ("http://snomed.info/sct", FOOD),
    ]
    page = client.get(f"/directory/programs/{program.pk}/").content.decode()
    assert "Provision of food (710925007)" in page

    exported = client.get("/directory/export/", {"own": "1"}).content
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        terms = archive.read("taxonomy_terms.csv").decode()
        taxonomies = archive.read("taxonomies.csv").decode()
    assert PANTRY in terms and FOOD in terms
    assert "http://snomed.info/sct" in taxonomies

    program.service_codes.all().delete()
    finished = run_import(network=tenant.network, organization=tenant.cbo, payload=exported)
    assert finished.status == "done", finished.error
    assert sorted(
        Program.objects.get(pk=program.pk).service_codes.values_list("code", flat=True)
    ) == [
        PANTRY,
        FOOD,
    ]
    # Categories still travel as before beside them.
    assert set(program.categories.values_list("code", flat=True)) == set(VALID["categories"])


def test_an_edit_form_without_codes_clears_them(client, login, tenant, cbo_admin):
    login(cbo_admin)
    client.post("/directory/programs/new/", {**VALID, "service_codes": [PANTRY]})
    program = Program.objects.get(name="Diaper bank")
    client.post(f"/directory/programs/{program.pk}/edit/", VALID)
    assert not program.service_codes.exists()
