"""HSDS export: the tables and their datapackage, and the round trip export → import into
an empty network reproducing the same programs."""

import io
import json

import pytest
from django.core.management import call_command

from directory.models import Program
from directory.selectors import directory_programs
from directory.services import ProgramData, program_create, program_snapshot
from organizations.models import Organization
from tests.directory.conftest import read_csv, unzip
from tests.factories import NetworkFactory, ProgramFactory

pytestmark = pytest.mark.django_db

TABLES = {
    "organizations.csv",
    "services.csv",
    "service_areas.csv",
    "languages.csv",
    "phones.csv",
    "schedules.csv",
    "attributes.csv",
    "taxonomy_terms.csv",
    "taxonomies.csv",
}


def full_programs(tenant) -> list[Program]:
    """Programs using every field HSDS carries, in each status HSDS can say."""
    return [
        program_create(
            organization=tenant.cbo,
            actor=None,
            data=ProgramData(
                name="Weekly groceries",
                description="A box of groceries\nevery week.",
                categories=["food-insecurity", "financial-insecurity"],
                eligibility="Households under 200% of the poverty line.",
                minimum_age=18,
                maximum_age=99,
                fees="Free",
                hours="Tue 10:00-14:00; Thu 16:00-19:00",
                intake="Walk in with an ID, or be referred.",
                phone="(312) 555-0100",
                email="pantry@example.org",
                website="https://pantry.example.org/",
                zip_codes=["60601", "60602"],
                counties=["Cook"],
                other_areas=["Lakeview neighborhood"],
                languages=[("en", "English"), ("es", "Spanish")],
            ),
        ),
        program_create(
            organization=tenant.cbo,
            actor=None,
            data=ProgramData(
                name="Utility bill help",
                categories=["utility-insecurity"],
                accepting_referrals=False,  # temporarily closed
            ),
        ),
        program_create(
            organization=tenant.hco,
            actor=None,
            data=ProgramData(
                name="Insurance enrollment",
                categories=["health-insurance-coverage-status"],
                is_listed=False,
                accepting_referrals=False,  # inactive
            ),
        ),
    ]


def export(client, login, user, query="") -> dict[str, str]:
    login(user)
    response = client.get(f"/directory/export/{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="hsds-')
    return unzip(response.content)


def test_export_writes_the_hsds_tables_and_a_datapackage_describing_them(client, login, tenant):
    full_programs(tenant)
    files = export(client, login, tenant.backbone_admin)
    assert set(files) == TABLES | {"datapackage.json"}

    package = json.loads(files["datapackage.json"])
    assert package["profile"] == "tabular-data-package" and package["version"] == "3.0.0"
    assert package["license"]["type"] == "CC-BY-SA-4.0"
    resources = {r["path"]: r for r in package["resources"]}
    assert set(resources) == TABLES
    for path, resource in resources.items():
        header = files[path].splitlines()[0].split(",")
        assert header == [f["name"] for f in resource["schema"]["fields"]], path

    services = {s["name"]: s for s in read_csv(files["services.csv"])}
    assert services["Weekly groceries"]["status"] == "active"
    assert services["Utility bill help"]["status"] == "temporarily closed"
    assert services["Insurance enrollment"]["status"] == "inactive"
    groceries = services["Weekly groceries"]
    assert groceries["application_process"] == "Walk in with an ID, or be referred."
    assert groceries["eligibility_description"].startswith("Households under 200%")
    orgs = {o["id"]: o["name"] for o in read_csv(files["organizations.csv"])}
    assert orgs[groceries["organization_id"]] == tenant.cbo.name
    areas = [a["name"] for a in read_csv(files["service_areas.csv"])]
    assert sorted(areas) == ["60601", "60602", "Cook County", "Lakeview neighborhood"]
    terms = {t["id"]: t["code"] for t in read_csv(files["taxonomy_terms.csv"])}
    linked = sorted(
        terms[a["taxonomy_term_id"]]
        for a in read_csv(files["attributes.csv"])
        if a["link_id"] == groceries["id"]
    )
    assert linked == ["financial-insecurity", "food-insecurity"]
    [taxonomy] = read_csv(files["taxonomies.csv"])
    assert taxonomy["uri"].endswith("SDOHCC-CodeSystemTemporaryCodes")


def test_export_holds_what_the_organization_sees_and_no_more(client, login, tenant):
    full_programs(tenant)
    ProgramFactory(organization=tenant.hco, name="Clinic-only program", is_listed=False)
    files = export(client, login, tenant.cbo_staff)
    names = {s["name"] for s in read_csv(files["services.csv"])}
    # The CBO sees its own programs and the listed, accepting ones of others.
    assert names == {"Weekly groceries", "Utility bill help"}

    files = export(client, login, tenant.cbo_staff, "?own=1")
    assert {s["name"] for s in read_csv(files["services.csv"])} == {
        "Weekly groceries",
        "Utility bill help",
    }


def test_round_trip_export_then_import_into_an_empty_network_reproduces_the_programs(
    client, login, tenant, tmp_path
):
    originals = full_programs(tenant)
    response = login(tenant.backbone_admin).get("/directory/export/")
    path = tmp_path / "directory.zip"
    path.write_bytes(response.content)

    empty = NetworkFactory(name="Empty Network")
    out = io.StringIO()
    call_command("import_hsds", "--network", "Empty Network", str(path), stdout=out)
    created = [line for line in out.getvalue().splitlines() if "created. Created program" in line]
    assert len(created) == 3

    for original in originals:
        copy = Program.objects.get(organization__network=empty, hsds_id=original.hsds_id)
        assert copy.organization.name == original.organization.name
        before = program_snapshot(Program.objects.get(pk=original.pk))
        after = program_snapshot(copy)
        # HSDS 3.0 has no capacity: those stay as the importing network's staff set them.
        for not_in_hsds in ("manual_waitlist", "capacity"):
            before.pop(not_in_hsds), after.pop(not_in_hsds)
        assert after == before, original.name
    assert Organization.objects.filter(network=empty).count() == 2

    # Exporting the copy gives the same services file: nothing was lost on the way.
    backbone = Organization.objects.create(
        network=empty, name="Empty Backbone", slug="empty-backbone", kind="backbone"
    )
    again = {
        s["id"]: s
        for s in read_csv(unzip(_export_bytes(directory_programs(backbone)))["services.csv"])
    }
    first = {s["id"]: s for s in read_csv(unzip(response.content)["services.csv"])}
    for sid, row in first.items():
        for column in ("name", "description", "status", "eligibility_description", "url"):
            assert again[sid][column] == row[column]


def _export_bytes(programs) -> bytes:
    from directory.hsds import export_dataset

    return export_dataset(programs, title="copy")


def test_export_query_count_does_not_grow_with_programs(
    client, login, tenant, django_assert_max_num_queries
):
    login(tenant.backbone_admin)
    for _ in range(3):
        ProgramFactory(organization=tenant.cbo, zip_codes=["60601"], languages=[("es", "Spanish")])
    # Session, user, second-factor device, memberships; programs (with organization and
    # network), their categories, areas, languages and service codes; the session save; 4
    # savepoints.
    with django_assert_max_num_queries(14) as few:
        client.get("/directory/export/")
    for _ in range(20):
        ProgramFactory(organization=tenant.cbo, zip_codes=["60601"], languages=[("es", "Spanish")])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/directory/export/")
