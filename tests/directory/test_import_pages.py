"""The import pages: upload, a Celery task given the id only, a status page htmx polls until
done, the report; refusal of non-HSDS files; the management command."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from directory.models import HsdsImport, Program
from organizations.roles import Role
from tests.directory.conftest import example_zip
from tests.factories import HsdsImportFactory, member

pytestmark = pytest.mark.django_db


def upload(client, payload: bytes, name="directory.zip"):
    return client.post("/directory/import/", {"file": SimpleUploadedFile(name, payload)})


def test_upload_queues_the_task_with_the_id_and_the_status_page_reports(
    client, login, tenant, django_capture_on_commit_callbacks, monkeypatch
):
    from directory import tasks

    sent = []
    monkeypatch.setattr(tasks.hsds_import_task, "delay", lambda *args: sent.append(args))
    login(tenant.backbone_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, example_zip())
    imp = HsdsImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/directory/import/{imp.pk}/"
    assert len(callbacks) == 1
    assert sent == [(imp.pk,)]  # the id, nothing else
    assert (imp.status, imp.organization, imp.created_by) == (
        "pending",
        tenant.backbone,
        tenant.backbone_admin,
    )

    waiting = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in waiting
    assert "0 of 7 rows" in waiting

    tasks.hsds_import_task.run(imp.pk)  # what the worker does with that id
    imp.refresh_from_db()
    assert imp.status == "done"
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html  # the fragment htmx swaps in
    assert 'hx-trigger="every 2s"' not in html  # finished: polling stops
    assert 'data-testid="import-report"' in html
    assert "Created program “Community Counselling”" in html
    assert Program.objects.filter(name="Community Counselling").exists()


def test_the_eager_task_runs_the_whole_import(
    client, login, tenant, django_capture_on_commit_callbacks
):
    login(tenant.backbone_admin)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, example_zip())
    assert HsdsImport.objects.get().status == "done"


def test_a_running_import_shows_its_progress(client, login, tenant):
    imp = HsdsImportFactory(
        organization=tenant.cbo, status="running", total_rows=200, processed_rows=50, report=[]
    )
    admin = member(tenant.cbo, Role.ORG_ADMIN)
    login(admin)
    html = client.get(f"/directory/import/{imp.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert '<progress value="50" max="200"' in html
    assert "50 of 200 rows" in html


def test_the_report_can_show_only_rejected_rows(client, login, tenant):
    report = [
        {"table": "services.csv", "row": n, "id": f"s{n}", "action": "created", "message": "ok"}
        for n in range(2, 80)
    ] + [{"table": "services.csv", "row": 80, "id": "bad", "action": "rejected", "message": "Why"}]
    imp = HsdsImportFactory(organization=tenant.backbone, report=report, total_rows=79)
    login(tenant.backbone_admin)
    everything = client.get(f"/directory/import/{imp.pk}/").content.decode()
    assert everything.count('data-action="created"') == 50
    assert "Page 1 of 2" in everything
    problems = client.get(f"/directory/import/{imp.pk}/?show=problems").content.decode()
    assert problems.count('data-action="rejected"') == 1
    assert 'data-action="created"' not in problems
    # A view that is not one is a 400 that names the two there are, not every row.
    unknown = client.get(f"/directory/import/{imp.pk}/?show=errors")
    assert unknown.status_code == 400
    html = unknown.content.decode()
    assert "This report has two views" in html
    assert "data-action=" not in html


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (b"first,last\nAda,Lovelace\n", "people.csv", "This file is not an HSDS dataset"),
        (b"hello", "notes.txt", "This file is not an HSDS dataset"),
    ],
)
def test_uploading_a_non_hsds_file_writes_nothing_and_says_why(
    client, login, tenant, payload, name, message
):
    login(tenant.backbone_admin)
    response = upload(client, payload, name)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Nothing was imported" in html
    assert not HsdsImport.objects.exists()
    assert not Program.objects.exists()
    assert not AuditEvent.objects.filter(object_type="hsds_import").exists()


def test_uploading_without_a_file_is_a_400_that_asks_for_one(client, login, tenant):
    login(tenant.backbone_admin)
    response = client.post("/directory/import/", {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not HsdsImport.objects.exists()


def test_only_program_managers_import_and_only_their_imports_are_visible(
    client, login, tenant, foreign_tenant
):
    imp = HsdsImportFactory(organization=tenant.cbo)
    login(tenant.cbo_staff)
    assert client.get("/directory/import/").status_code == 403
    assert client.get(f"/directory/import/{imp.pk}/").status_code == 403
    client.logout()
    login(tenant.hco_admin)  # same network, another organization's import
    assert client.get(f"/directory/import/{imp.pk}/").status_code == 404
    client.logout()
    login(foreign_tenant.hco_admin)
    assert client.get(f"/directory/import/{imp.pk}/").status_code == 404


def test_the_import_page_lists_recent_imports_of_the_organization(client, login, tenant):
    mine = HsdsImportFactory(organization=tenant.hco, file_name="ours.zip")
    HsdsImportFactory(organization=tenant.cbo, file_name="theirs.zip")
    login(tenant.hco_admin)
    html = client.get("/directory/import/").content.decode()
    assert f'href="/directory/import/{mine.pk}/"' in html and "theirs.zip" not in html
    assert "Only the services of <strong>Marrowdale Clinic</strong>" in html


def test_import_command_prints_the_report(tenant, tmp_path):
    path = tmp_path / "example.zip"
    path.write_bytes(example_zip())
    out = io.StringIO()
    call_command("import_hsds", "--network", tenant.network.name, str(path), stdout=out)
    text = out.getvalue()
    assert "services.csv row 2: created. Created program “Community Counselling”" in text
    assert "attributes.csv row 2: skipped." in text
    summary = text.splitlines()[-1]
    assert summary.startswith("Import ") and "2 created" in summary and "1 skipped" in summary

    again = io.StringIO()
    call_command("import_hsds", "--network", tenant.network.name, str(path), stdout=again)
    assert "services.csv row 2: unchanged." in again.getvalue()
    assert Program.objects.count() == 1


def test_import_command_for_one_organization(tenant, tmp_path):
    path = tmp_path / "example.zip"
    path.write_bytes(example_zip())
    out = io.StringIO()
    call_command(
        "import_hsds",
        "--network",
        tenant.network.name,
        "--organization",
        tenant.cbo.name,
        str(path),
        stdout=out,
    )
    assert "organizations.csv row 2: rejected." in out.getvalue()
    assert not Program.objects.exists()


def test_import_command_refuses_a_non_hsds_file(tenant, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a dataset")
    with pytest.raises(CommandError, match="This file is not an HSDS dataset"):
        call_command("import_hsds", "--network", tenant.network.name, str(path))
    with pytest.raises(CommandError, match="No network named"):
        call_command("import_hsds", "--network", "Atlantis", str(path))
    assert not HsdsImport.objects.exists()
