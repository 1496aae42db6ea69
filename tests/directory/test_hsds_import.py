"""HSDS import: the official example reported row by row, categories by Gravity codes only,
re-import by HSDS id, the importer's scope, and files that are not HSDS at all."""

import pytest
from django.core.exceptions import ValidationError

from directory.models import HsdsImport, Program
from organizations.models import Organization
from tests.directory.conftest import csv_text, example_zip, zip_of

pytestmark = pytest.mark.django_db

ORG_ROW = {"id": "org-1", "name": "Lakeview Pantry", "description": "Food pantry"}


def service(**fields) -> dict:
    return {
        "id": "svc-1",
        "organization_id": "org-1",
        "name": "Weekly groceries",
        "status": "active",
        "description": "Groceries every Tuesday.",
        **fields,
    }


def dataset(services=None, orgs=None, **tables) -> bytes:
    files = {
        "organizations.csv": csv_text(orgs or [ORG_ROW]),
        "services.csv": csv_text(services or [service()]),
    }
    for name, rows in tables.items():
        files[f"{name}.csv"] = csv_text(rows)
    return zip_of(files)


def rows_of(imp: HsdsImport, table: str) -> list[dict]:
    return [r for r in imp.report if r["table"] == table]


def test_official_example_is_imported_and_reported_row_by_row(tenant, run_import):
    imp = run_import(network=tenant.network, organization=tenant.backbone, payload=example_zip())

    assert imp.status == HsdsImport.Status.DONE, imp.error
    assert imp.total_rows == imp.processed_rows == 7
    by_table = {r["table"]: r for r in imp.report if r["row"] is not None}
    assert by_table["organizations.csv"]["action"] == "created"
    assert by_table["services.csv"]["action"] == "created"
    assert by_table["services.csv"]["id"] == "ac148810-d857-441c-9679-408f346de14b"
    assert by_table["languages.csv"]["message"] == "Language: Urdu (ur)"
    assert by_table["phones.csv"]["action"] == "imported"
    assert by_table["schedules.csv"]["action"] == "imported"
    assert by_table["service_areas.csv"]["action"] == "imported"
    # The example attribute points at an id that is no service: said so, not silently dropped.
    assert by_table["attributes.csv"]["action"] == "skipped"
    assert "f28dd44b-0c4d-479f-8e90-4c52219a8b3c" in by_table["attributes.csv"]["message"]
    # Tables Linkage does not read are named once each.
    ignored = {r["table"] for r in imp.report if r["action"] == "ignored"}
    assert {"accessibility.csv", "funding.csv", "locations.csv", "contacts.csv"} <= ignored
    assert imp.payload == b""  # the file is not kept once applied

    org = Organization.objects.get(network=tenant.network, name="Example Organization Inc.")
    assert org.kind == Organization.Kind.CBO
    program = Program.objects.get(organization=org)
    assert program.hsds_id == "ac148810-d857-441c-9679-408f346de14b"
    assert program.name == "Community Counselling"
    assert program.eligibility.startswith("This service is intended for all people aged 12")
    assert (program.minimum_age, program.maximum_age) == (12, 100)
    assert program.fees.startswith("Non-NHS patients are expected to pay")
    assert program.intake.startswith("If you are an NHS patient")
    assert program.website == "http://example.com/counselling"
    assert program.email == "email@example.com"
    assert program.phone == "+44 1234 234567 ext. 100"
    assert program.hours.startswith("The service is available from 10 am to 6pm weekdays")
    assert list(program.languages.values_list("code", "name")) == [("ur", "Urdu")]
    [area] = program.service_areas.all()
    assert area.kind == "other" and area.value.startswith("The service is available to all")
    assert program.is_listed and program.accepting_referrals
    assert not program.categories.exists()


def test_reimporting_updates_instead_of_duplicating(tenant, run_import):
    payload = dataset()
    first = run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    again = run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    assert rows_of(first, "services.csv")[0]["action"] == "created"
    assert rows_of(again, "services.csv")[0]["action"] == "unchanged"
    assert rows_of(again, "organizations.csv")[0]["action"] == "unchanged"

    changed = dataset([service(name="Weekly groceries and produce", status="temporarily closed")])
    third = run_import(network=tenant.network, organization=tenant.backbone, payload=changed)
    [row] = rows_of(third, "services.csv")
    assert row["action"] == "updated"
    assert "name" in row["message"] and "accepting_referrals" in row["message"]
    program = Program.objects.get(hsds_id="svc-1")
    assert program.name == "Weekly groceries and produce"
    assert not program.accepting_referrals and program.is_listed
    assert Program.objects.filter(organization__network=tenant.network).count() == 1
    assert Organization.objects.filter(name="Lakeview Pantry").count() == 1


def test_reimport_keeps_the_waitlist_and_capacity_staff_set(tenant, run_import):
    run_import(network=tenant.network, organization=tenant.backbone, payload=dataset())
    Program.objects.filter(hsds_id="svc-1").update(manual_waitlist=True, capacity=12)
    run_import(
        network=tenant.network,
        organization=tenant.backbone,
        payload=dataset([service(description="New words")]),
    )
    program = Program.objects.get(hsds_id="svc-1")
    assert (program.manual_waitlist, program.capacity, program.description) == (
        True,
        12,
        "New words",
    )


def test_categories_come_from_gravity_codes_and_unknown_codes_are_rejected(tenant, run_import):
    payload = dataset(
        taxonomy_terms=[
            {"id": "t1", "code": "food-insecurity", "name": "Food Insecurity"},
            {"id": "t2", "code": "hunger", "name": "Hunger"},
            {"id": "t3", "code": "UTILITY-INSECURITY", "name": "Utilities"},
        ],
        attributes=[
            {"id": "a1", "link_id": "svc-1", "taxonomy_term_id": "t1", "link_entity": "service"},
            {"id": "a2", "link_id": "svc-1", "taxonomy_term_id": "t2", "link_entity": "service"},
            {"id": "a3", "link_id": "svc-1", "taxonomy_term_id": "t3", "link_entity": "service"},
            {"id": "a4", "link_id": "svc-1", "taxonomy_term_id": "t9", "link_entity": "service"},
        ],
    )
    imp = run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    report = {r["id"]: r for r in rows_of(imp, "attributes.csv")}
    assert report["a1"]["action"] == "imported"
    assert report["a2"]["action"] == "rejected"
    assert "“hunger” is not an SDOH category code" in report["a2"]["message"]
    assert report["a3"]["action"] == "imported"
    assert report["a4"]["action"] == "rejected" and "t9" in report["a4"]["message"]
    program = Program.objects.get(hsds_id="svc-1")
    assert sorted(program.categories.values_list("code", flat=True)) == [
        "food-insecurity",
        "utility-insecurity",
    ]


def test_service_areas_languages_and_hours_map_to_program_fields(tenant, run_import):
    payload = dataset(
        service_areas=[
            {"id": "sa1", "service_id": "svc-1", "name": "60601, 60602"},
            {"id": "sa2", "service_id": "svc-1", "name": "Cook County, IL"},
            {"id": "sa3", "service_id": "svc-1", "name": ""},
        ],
        languages=[
            {"id": "l1", "service_id": "svc-1", "name": "Spanish", "code": "es"},
            {"id": "l2", "service_id": "svc-1", "name": "Vietnamese", "code": ""},
            {"id": "l3", "service_id": "svc-1", "name": "Klingonese", "code": ""},
        ],
        schedules=[
            {
                "id": "h1",
                "service_id": "svc-1",
                "byday": "MO,WE",
                "opens_at": "09:00",
                "closes_at": "17:00",
            },
        ],
        phones=[{"id": "p1", "service_id": "svc-1", "number": "(312) 555-0100"}],
    )
    imp = run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    program = Program.objects.get(hsds_id="svc-1")
    assert sorted(program.service_areas.values_list("kind", "value")) == [
        ("county", "Cook"),
        ("zip", "60601"),
        ("zip", "60602"),
    ]
    assert sorted(program.languages.values_list("code", flat=True)) == ["es", "vi"]
    assert program.hours == "Mon, Wed 09:00-17:00"
    assert program.phone == "(312) 555-0100"
    actions = {r["id"]: r["action"] for r in imp.report}
    assert actions["sa3"] == "rejected" and actions["l3"] == "rejected"


def test_without_service_areas_the_locations_postal_codes_are_the_area(tenant, run_import):
    payload = dataset(
        service_at_location=[{"id": "sal1", "service_id": "svc-1", "location_id": "loc1"}],
        addresses=[
            {"id": "ad1", "location_id": "loc1", "postal_code": "60614-2201", "address_1": "x"},
            {"id": "ad2", "location_id": "elsewhere", "postal_code": "60999", "address_1": "y"},
        ],
    )
    run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    program = Program.objects.get(hsds_id="svc-1")
    assert list(program.service_areas.values_list("kind", "value")) == [("zip", "60614")]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"status": "open"}, "is not an HSDS service status"),
        ({"organization_id": "nobody"}, "“nobody” is not in organizations.csv"),
        ({"name": ""}, "No name"),
        ({"minimum_age": "twelve"}, "is not a number"),
        ({"maximum_age": "1e999"}, "is not a number"),
        ({"minimum_age": "-3"}, "The minimum age must be between 0 and 130."),
    ],
)
def test_bad_service_rows_are_rejected_with_a_reason(tenant, run_import, fields, reason):
    payload = dataset(
        [service(), service(id="svc-2", **fields)],
        languages=[{"id": "l1", "service_id": "svc-2", "name": "Spanish", "code": "es"}],
    )
    imp = run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    report = {r["id"]: r for r in rows_of(imp, "services.csv")}
    assert report["svc-1"]["action"] == "created"
    assert report["svc-2"]["action"] == "rejected"
    assert reason in report["svc-2"]["message"]
    assert rows_of(imp, "languages.csv")[0]["action"] == "skipped"
    assert list(Program.objects.values_list("hsds_id", flat=True)) == ["svc-1"]


def test_an_org_admin_imports_only_their_own_organizations_services(tenant, run_import):
    orgs = [
        {"id": "o-own", "name": tenant.cbo.name.upper()},  # names match case-insensitively
        {"id": "o-other", "name": tenant.hco.name},
        {"id": "o-new", "name": "Brand New Shelter"},
    ]
    services = [
        service(id="s-own", organization_id="o-own"),
        service(id="s-other", organization_id="o-other"),
        service(id="s-new", organization_id="o-new"),
    ]
    imp = run_import(
        network=tenant.network,
        organization=tenant.cbo,
        payload=dataset(services, orgs),
        actor=tenant.cbo_staff,
    )
    actions = {r["id"]: r["action"] for r in imp.report}
    assert actions == {
        "o-own": "unchanged",
        "o-other": "rejected",
        "o-new": "rejected",
        "s-own": "created",
        "s-other": "rejected",
        "s-new": "rejected",
    }
    other = next(r for r in imp.report if r["id"] == "s-other")
    assert "Its organization was rejected" in other["message"]
    assert list(Program.objects.values_list("organization", flat=True)) == [tenant.cbo.pk]
    assert not Organization.objects.filter(name="Brand New Shelter").exists()


def test_a_backbone_import_creates_community_organizations_in_its_network(tenant, run_import):
    orgs = [{"id": "o1", "name": "Brand New Shelter"}, {"id": "o2", "name": tenant.hco.name}]
    services = [service(id="s1", organization_id="o1"), service(id="s2", organization_id="o2")]
    run_import(
        network=tenant.network, organization=tenant.backbone, payload=dataset(services, orgs)
    )
    shelter = Organization.objects.get(name="Brand New Shelter")
    assert (shelter.network, shelter.kind) == (tenant.network, Organization.Kind.CBO)
    assert Program.objects.get(hsds_id="s2").organization == tenant.hco


def test_imported_programs_are_audited_with_the_importer(tenant, run_import):
    from audit.models import AuditEvent

    run_import(
        network=tenant.network,
        organization=tenant.backbone,
        payload=dataset(),
        actor=tenant.backbone_admin,
    )
    program = Program.objects.get(hsds_id="svc-1")
    event = AuditEvent.objects.get(object_type="program", action="create")
    assert event.object_ids == [program.pk]
    assert (event.actor_id, event.organization_id) == (tenant.backbone_admin.pk, tenant.backbone.pk)


def test_running_an_import_twice_applies_it_once(tenant):
    from directory.services import hsds_import_run, hsds_import_start

    started = hsds_import_start(
        network=tenant.network,
        organization=tenant.backbone,
        actor=None,
        file_name="x.zip",
        payload=dataset(),
    )
    first = hsds_import_run(hsds_import=started)
    report = list(first.report)
    second = hsds_import_run(hsds_import=HsdsImport.objects.get(pk=started.pk))
    assert second.report == report
    assert Program.objects.count() == 1


NOT_HSDS_CASES = [
    pytest.param(b"name,age\nAda,36\n", "This file is not an HSDS dataset", id="random-csv"),
    pytest.param(b"just some notes\n", "This file is not an HSDS dataset", id="text-file"),
    pytest.param(
        zip_of({"organizations.csv": csv_text([ORG_ROW])}),
        "services.csv (or service.csv) missing",
        id="zip-without-services",
    ),
    pytest.param(
        zip_of({"data.csv": "a,b\n1,2\n"}),
        "organizations.csv (or organization.csv) and services.csv (or service.csv) missing",
        id="zip-of-a-random-csv",
    ),
    pytest.param(
        zip_of(
            {
                "organizations.csv": csv_text([ORG_ROW]),
                "services.csv": "id,organization_id,name\nsvc-1,org-1,Groceries\n",
            }
        ),
        "services.csv is not an HSDS service table: it has no status column",
        id="service-without-status",
    ),
    pytest.param(
        zip_of(
            {
                "organizations.csv": csv_text([ORG_ROW]),
                "services.csv": b"id,status\n" + "caf\xe9,active\n".encode("latin-1"),
            }
        ),
        "services.csv is not UTF-8",
        id="not-utf8",
    ),
    pytest.param(b"PK\x03\x04 broken", "The zip file is damaged", id="broken-zip"),
    pytest.param(
        b'{"resources": [{"name": "service", "path": "services.csv"}]}',
        "not in the upload",
        id="datapackage-without-data",
    ),
]


@pytest.mark.parametrize(("payload", "message"), NOT_HSDS_CASES)
def test_a_file_that_is_not_hsds_writes_nothing_and_says_why(tenant, run_import, payload, message):
    orgs_before = Organization.objects.count()
    with pytest.raises(ValidationError) as caught:
        run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    assert len(caught.value.messages) == 1
    assert message in caught.value.messages[0]
    assert not HsdsImport.objects.exists()
    assert not Program.objects.exists()
    assert Organization.objects.count() == orgs_before


def test_a_datapackage_with_inline_rows_is_hsds_too(tenant, run_import):
    import json

    package = {
        "name": "inline",
        "resources": [
            {"name": "organization", "data": [ORG_ROW]},
            {
                "name": "service",
                "data": [
                    ["id", "organization_id", "name", "status"],
                    ["svc-1", "org-1", "Groceries", "active"],
                ],
            },
        ],
    }
    imp = run_import(
        network=tenant.network,
        organization=tenant.backbone,
        payload=json.dumps(package).encode(),
        file_name="datapackage.json",
    )
    assert imp.status == HsdsImport.Status.DONE
    assert Program.objects.get(hsds_id="svc-1").name == "Groceries"


def test_a_zip_with_a_datapackage_finds_tables_by_its_paths(tenant, run_import):
    import json

    package = {
        "resources": [
            {"name": "organization", "path": "data/orgs-2026.csv"},
            {"name": "service", "path": "data/svcs-2026.csv"},
        ]
    }
    payload = zip_of(
        {
            "export/datapackage.json": json.dumps(package),
            "export/data/orgs-2026.csv": csv_text([ORG_ROW]),
            "export/data/svcs-2026.csv": csv_text([service()]),
        }
    )
    run_import(network=tenant.network, organization=tenant.backbone, payload=payload)
    assert Program.objects.filter(hsds_id="svc-1").exists()
