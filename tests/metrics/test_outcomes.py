"""Outcome measures a partnership defines and the results its organizations report: who
may define and record, the consent policy on every result, bad input refused whole, the
CSV upload's row-by-row report, the audit trail, and the "Partnership outcomes" table
(small counts suppressed, the CSV the same as the table)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as Browser
from django.utils import timezone

from audit.models import AuditEvent
from clients.models import ClientIdentifier
from metrics.loinc import validate_loinc
from metrics.models import OutcomeMeasure, OutcomeResult
from organizations.models import Organization
from tests.factories import OrganizationFactory, PartnershipFactory, member, release_for
from tests.metrics.helpers import clients, rollup
from tests.metrics.test_pages import _table

pytestmark = pytest.mark.django_db

HBA1C = {
    "name": "HbA1c",
    "loinc_code": "4548-4",
    "unit": "%",
    "goal": "below",
    "threshold": "8",
    "description": "Lab result.",
}


def _url(tenant, action: str = "") -> str:
    base = f"/measures/partnerships/{tenant.partnership.pk}/outcomes/"
    return base + (f"{action}/" if action else "")


def _measure(tenant, **fields) -> OutcomeMeasure:
    data = {**HBA1C, "threshold": Decimal(HBA1C["threshold"]), **fields}
    return OutcomeMeasure.objects.create(partnership=tenant.partnership, **data)


def _mrn(tenant, client, value="MRN-55017"):
    ClientIdentifier.objects.create(
        client=client, organization=tenant.hco, system="MRN", value=value
    )


def _yesterday() -> str:
    return (timezone.localdate() - timedelta(days=1)).isoformat()


def test_loinc_codes_are_checked_never_invented():
    for code in ("4548-4", "96777-8", "17855-8", ""):
        validate_loinc(code)
    for code in ("4548-5", "4548", "A1C", "4548-44", "12345678-9"):
        with pytest.raises(ValidationError):
            validate_loinc(code)


def test_who_may_define_measures(tenant, login):
    c = login(tenant.hco_admin)
    response = c.post(_url(tenant, "define"), HBA1C)
    assert response.status_code == 302
    measure = OutcomeMeasure.objects.get(partnership=tenant.partnership)
    assert (measure.goal_text, measure.loinc_code) == ("below 8 %", "4548-4")
    event = AuditEvent.objects.filter(object_type="outcome_measure").latest("pk")
    assert event.action == "create" and event.object_ids == [measure.pk]
    # The backbone's admins define them too.
    c = login(tenant.backbone_admin, Browser())
    assert c.post(_url(tenant, "define"), {**HBA1C, "name": "ACT"}).status_code == 302
    # Staff record results but do not define measures.
    c = login(tenant.hco_staff, Browser())
    assert c.get(_url(tenant)).status_code == 200
    assert c.post(_url(tenant, "define"), {**HBA1C, "name": "Other"}).status_code == 403
    assert OutcomeMeasure.objects.count() == 2
    # An org admin of an organization outside the partnership does not even see it.
    outsider = OrganizationFactory(network=tenant.network, kind=Organization.Kind.CBO)
    c = login(member(outsider, "org_admin"), Browser())
    assert c.get(_url(tenant)).status_code == 404
    assert c.post(_url(tenant, "define"), {**HBA1C, "name": "X"}).status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"loinc_code": "4548-5"}, "its check digit does not match"),
        ({"loinc_code": "HBA1C"}, "A LOINC code is digits"),
        ({"threshold": "lots"}, "Enter a number"),
        ({"goal": "roughly"}, "Select a valid choice"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_written(tenant, login, change, message):
    c = login(tenant.hco_admin)
    response = c.post(_url(tenant, "define"), {**HBA1C, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not OutcomeMeasure.objects.exists()


def test_a_name_is_used_once_per_partnership(tenant, login):
    _measure(tenant)
    c = login(tenant.hco_admin)
    response = c.post(_url(tenant, "define"), {**HBA1C, "name": "hba1c"})
    assert response.status_code == 400
    assert "already has an outcome measure with this name" in response.content.decode()
    assert OutcomeMeasure.objects.count() == 1


def test_edit_deactivate_after_confirmation_and_reactivate(tenant, login):
    measure = _measure(tenant)
    c = login(tenant.hco_admin)
    assert "Change “HbA1c”" in c.get(_url(tenant) + f"?edit={measure.pk}").content.decode()
    response = c.post(
        _url(tenant, "edit"),
        {**HBA1C, "goal": "at-most", "threshold": "7.5", "measure": measure.pk},
    )
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.goal_text == "at most 7.5 %"
    event = AuditEvent.objects.filter(object_type="outcome_measure").latest("pk")
    assert event.detail == {"fields": ["goal", "threshold"]}

    page = c.get(_url(tenant) + f"?deactivate={measure.pk}").content.decode()
    assert "Deactivate “HbA1c”?" in page and 'value="yes"' in page
    # Without the confirmation nothing happens.
    response = c.post(_url(tenant, "active"), {"measure": measure.pk, "active": "0"})
    assert response.status_code == 400
    measure.refresh_from_db()
    assert measure.is_active
    c.post(_url(tenant, "active"), {"measure": measure.pk, "active": "0", "confirm": "yes"})
    measure.refresh_from_db()
    assert not measure.is_active
    # An inactive measure takes no results.
    _mrn(tenant, tenant.client)
    response = c.post(
        _url(tenant, "record"),
        {"measure": measure.pk, "mrn": "MRN-55017", "value": "7", "observed_on": _yesterday()},
    )
    assert response.status_code == 400 and not OutcomeResult.objects.exists()
    c.post(_url(tenant, "active"), {"measure": measure.pk, "active": "1"})
    measure.refresh_from_db()
    assert measure.is_active
    # Another partnership's measure is not reachable through this one.
    other = PartnershipFactory(network=tenant.network, organizations=[tenant.hco])
    foreign = OutcomeMeasure.objects.create(
        partnership=other, name="BP", unit="mmHg", goal="below", threshold=140
    )
    assert c.get(_url(tenant) + f"?edit={foreign.pk}").status_code == 404
    assert c.post(_url(tenant, "edit"), {**HBA1C, "measure": foreign.pk}).status_code == 404


def test_recording_by_mrn_or_client_number_is_audited(tenant, login):
    measure = _measure(tenant)
    _mrn(tenant, tenant.client)
    c = login(tenant.hco_staff)
    response = c.post(
        _url(tenant, "record"),
        {"measure": measure.pk, "mrn": "MRN-55017", "value": "7.2", "observed_on": _yesterday()},
    )
    assert response.status_code == 302
    # The redirect carries no client identifier, and neither does the flash message.
    assert response["Location"] == _url(tenant)
    result = OutcomeResult.objects.get()
    assert (result.client, result.value, result.organization) == (
        tenant.client,
        Decimal("7.2"),
        tenant.hco,
    )
    event = AuditEvent.objects.filter(object_type="outcome_result", action="create").get()
    assert event.object_ids == [result.pk]
    assert event.detail["categories"] == ["health"]
    assert list(event.clients.values_list("client_id", flat=True)) == [tenant.client.pk]
    # By the Linkage client number, another day.
    day = (timezone.localdate() - timedelta(days=3)).isoformat()
    response = c.post(
        _url(tenant, "record"),
        {
            "measure": measure.pk,
            "client_number": f"#{tenant.client.pk}",
            "value": "8",
            "observed_on": day,
        },
    )
    assert response.status_code == 302
    assert OutcomeResult.objects.count() == 2
    page = c.get(_url(tenant), follow=True).content.decode()
    assert "Result recorded" in page and "MRN-55017" not in page
    rows = _table(page, "recent-results")
    assert [r[0] for r in rows[1:]] == [f"#{tenant.client.pk}"] * 2
    shown = AuditEvent.objects.filter(object_type="outcome_result", action="view").latest("pk")
    assert sorted(shown.object_ids) == sorted(OutcomeResult.objects.values_list("pk", flat=True))


def test_consent_decides_whose_results_an_organization_records(tenant, foreign_tenant, login):
    measure = _measure(tenant)
    c = login(tenant.cbo_staff)
    data = {"measure": measure.pk, "value": "7", "observed_on": _yesterday()}
    # The CBO sees the HCO's client's demographics, not their health information.
    response = c.post(_url(tenant, "record"), {**data, "client_number": tenant.client.pk})
    assert response.status_code == 400
    assert "may not see health information of client" in response.content.decode()
    assert not OutcomeResult.objects.exists()
    # A client the CBO cannot see at all: no hint the number exists.
    stranger = foreign_tenant.client
    response = c.post(_url(tenant, "record"), {**data, "client_number": stranger.pk})
    assert response.status_code == 400
    body = response.content.decode()
    assert f"No client #{stranger.pk} that your organization can see" in body
    assert stranger.family_name not in body
    # Once a release covering health information names the CBO, it may.
    release_for(
        tenant.client, organization=tenant.hco, recipients=[tenant.cbo], categories=("health",)
    )
    response = c.post(_url(tenant, "record"), {**data, "client_number": tenant.client.pk})
    assert response.status_code == 302
    assert OutcomeResult.objects.get().organization == tenant.cbo


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": "seven"}, "The value is not a number."),
        ({"value": "7.12345"}, "at most 4 decimal places"),
        ({"value": "NaN"}, "The value is not a number."),
        ({"observed_on": "2999-01-01"}, "The date observed is in the future."),
        ({"observed_on": "1900-01-01"}, "before the client&#x27;s date of birth"),
        ({"mrn": "", "client_number": ""}, "Give the client&#x27;s MRN or their Linkage"),
        ({"mrn": "999"}, "No client your organization can see has this MRN"),
    ],
)
def test_bad_results_are_refused_and_nothing_is_written(tenant, login, change, message):
    measure = _measure(tenant)
    _mrn(tenant, tenant.client)
    c = login(tenant.hco_staff)
    data = {"measure": measure.pk, "mrn": "MRN-55017", "value": "7", "observed_on": _yesterday()}
    response = c.post(_url(tenant, "record"), {**data, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not OutcomeResult.objects.exists()
    assert not AuditEvent.objects.filter(object_type="outcome_result", action="create").exists()


def test_one_result_per_client_measure_and_day(tenant, login):
    measure = _measure(tenant)
    c = login(tenant.hco_staff)
    data = {
        "measure": measure.pk,
        "client_number": tenant.client.pk,
        "value": "7",
        "observed_on": _yesterday(),
    }
    assert c.post(_url(tenant, "record"), data).status_code == 302
    response = c.post(_url(tenant, "record"), {**data, "value": "9"})
    assert response.status_code == 400
    assert "already has a result for this measure on" in response.content.decode()
    assert OutcomeResult.objects.count() == 1


def _upload(c, tenant, measure, content: bytes, name="results.csv"):
    return c.post(
        _url(tenant, "upload"),
        {"measure": measure.pk, "file": SimpleUploadedFile(name, content, "text/csv")},
    )


def test_csv_upload_reports_every_row(tenant, login):
    measure = _measure(tenant)
    second = clients(tenant, 1)[0]
    _mrn(tenant, tenant.client)
    day = _yesterday()
    content = (
        "MRN,client_number,value,observed_on,notes\n"
        f"MRN-55017,,7.1,{day},ignored\n"
        f",{second.pk},8.4,{day},\n"
        f",{second.pk},8.9,{day},\n"
        f"MRN-55017,,high,2026-01-02,\n"
        "777,,7,2026-01-02,\n"
        f",{second.pk},7,2999-01-01,\n"
        f"MRN-55017,{second.pk},7,2026-01-03,\n"
        "\n"
    ).encode()
    c = login(tenant.hco_navigator)
    response = _upload(c, tenant, measure, content)
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 recorded, 5 rejected." in page
    report = {row[0]: row[1:] for row in _table(page, "upload-report")[1:]}
    assert report["2"][0] == "Recorded" and report["3"][0] == "Recorded"
    assert report["4"] == ["Rejected", "The same client and day appear twice."]
    assert report["5"] == ["Rejected", "The value is not a number."]
    assert "No client your organization can see has this MRN" in report["6"][1]
    assert report["7"] == ["Rejected", "The date observed is in the future."]
    assert report["8"] == ["Rejected", "The MRN and the client number name different clients."]
    assert OutcomeResult.objects.count() == 2
    (event,) = AuditEvent.objects.filter(object_type="outcome_result", action="create")
    assert sorted(event.object_ids) == sorted(OutcomeResult.objects.values_list("pk", flat=True))
    # The same file again records nothing twice (and, recording nothing, is a 400).
    response = _upload(c, tenant, measure, content)
    assert response.status_code == 400
    assert "0 recorded, 7 rejected." in response.content.decode()
    assert OutcomeResult.objects.count() == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "This is not a CSV file"),
        (
            "mrn,value,observed_on\n0001,7,2026-01-01\nJosé,7,2026-01-01\n".encode("latin-1"),
            "UTF-8",
        ),
        (b"patient,result,date\n1,7,2026-01-01\n", "The first row must name the columns"),
        (b"mrn,value,observed_on\n", "a header row but no results"),
        (b"", "The submitted file is empty"),
    ],
)
def test_a_file_that_is_not_the_expected_csv_records_nothing(tenant, login, content, message):
    measure = _measure(tenant)
    _mrn(tenant, tenant.client, "0001")
    c = login(tenant.hco_staff)
    response = _upload(c, tenant, measure, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not OutcomeResult.objects.exists()


def test_entered_in_error_after_confirmation_is_no_longer_counted(tenant, login):
    measure = _measure(tenant)
    c = login(tenant.hco_staff)
    people = clients(tenant, 11)
    for person in people:
        c.post(
            _url(tenant, "record"),
            {
                "measure": measure.pk,
                "client_number": person.pk,
                "value": "7",
                "observed_on": "2026-03-05",
            },
        )
    wrong = OutcomeResult.objects.get(client=people[0])
    page = c.get(_url(tenant) + f"?entered_in_error={wrong.pk}").content.decode()
    assert "Mark this result entered in error?" in page
    assert c.post(_url(tenant, "entered-in-error"), {"result": wrong.pk}).status_code == 400
    # Another organization cannot reach it.
    cbo = login(member(tenant.cbo, "staff"), Browser())
    assert (
        cbo.post(
            _url(tenant, "entered-in-error"), {"result": wrong.pk, "confirm": "yes"}
        ).status_code
        == 404
    )
    wrong.refresh_from_db()
    assert wrong.entered_in_error_at is None
    response = c.post(_url(tenant, "entered-in-error"), {"result": wrong.pk, "confirm": "yes"})
    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.entered_in_error_at is not None and wrong.entered_in_error_by == tenant.hco_staff
    rollup(tenant)
    admin = login(tenant.hco_admin, Browser())
    html = admin.get(
        f"/measures/partnerships/{tenant.partnership.pk}/review/?period=2026-03-01"
    ).content.decode()
    assert _table(html, "outcomes")[1][3:5] == ["<11", "<11"]  # 10 counted, not 11


def _results(tenant, measure, people, values, day=date(2026, 3, 5)):
    OutcomeResult.objects.bulk_create(
        OutcomeResult(
            measure=measure,
            client=person,
            organization=tenant.hco,
            recorded_by=tenant.hco_navigator,
            value=Decimal(v),
            observed_on=day,
        )
        for person, v in zip(people, values, strict=True)
    )


def test_partnership_outcomes_table_suppresses_small_counts_and_csv_matches(tenant, login):
    people = clients(tenant, 24)
    a1c = _measure(tenant)
    act = _measure(
        tenant,
        name="Asthma Control Test",
        loinc_code="",
        unit="points",
        goal="at-least",
        threshold=Decimal(20),
    )
    bp = _measure(tenant, name="Blood pressure", loinc_code="", unit="mmHg", threshold=140)
    _results(tenant, a1c, people, ["7.9"] * 12 + ["8"] * 12)  # 12 met (below 8), 12 not
    _results(tenant, act, people[:15], ["20"] * 13 + ["19"] * 2)  # 2 missed: share hidden
    _results(tenant, bp, people[:3], ["120"] * 3)
    rollup(tenant)
    c = login(tenant.hco_admin)
    query = "kind=month&period=2026-03-01"
    url = f"/measures/partnerships/{tenant.partnership.pk}/review/?{query}"
    html = c.get(url).content.decode()
    table = _table(html, "outcomes")
    assert table == [
        ["Outcome measure", "LOINC", "Goal", "Results", "Clients", "Meeting the goal"],
        ["Asthma Control Test", "", "at least 20 points", "15", "15", "<11"],
        ["Blood pressure", "", "below 140 mmHg", "<11", "<11", "<11"],
        ["HbA1c", "4548-4", "below 8 %", "24", "24", "50.0%"],
    ]
    exported = c.get(f"/measures/export.csv?table=outcomes&review={tenant.partnership.pk}&{query}")
    assert list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))) == table
    # Not pooled into the summary (an HbA1c plus an asthma score means nothing).
    assert not any("Outcome results" in row[1] for row in _table(html, "summary"))
    # Each measure by age band on the disparities view, suppressed like the other rows.
    ages = _table(html, "disparities-age_band")
    row = next(r for r in ages if r[0] == "HbA1c: results meeting the goal")
    assert row[1] == "50.0%"
    assert all(v in ("—", "<11", "suppressed") or v.endswith("%") for v in row[2:])
    # The network's dashboard names the partnership with the measure.
    c = login(tenant.backbone_admin, Browser())
    html = c.get(f"/measures/?{query}").content.decode()
    names = [r[0] for r in _table(html, "outcomes")[1:]]
    assert f"{tenant.partnership.name}: HbA1c" in names
