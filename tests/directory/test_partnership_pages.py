"""Partnerships in pages: the backbone and the partners' org admins set them up and edit
them; agreements are uploaded, listed with a status people understand, downloaded through
a permission-checked view and removed after a confirmation. Refusals write nothing."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEvent
from organizations.models import Organization, Partnership, PartnershipDocument
from organizations.roles import Role
from tests.factories import OrganizationFactory, PartnershipFactory, ProgramFactory, member

pytestmark = pytest.mark.django_db

# A Tuesday afternoon in the server's time zone; "today" for every date rule below.
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=zoneinfo.ZoneInfo("America/Chicago"))
TODAY = date(2026, 3, 10)
PDF = b"%PDF-1.4 signed by both parties"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _frozen_and_private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def shelter(tenant):
    """A third organization of the network, party to nothing yet."""
    return OrganizationFactory(
        network=tenant.network, name="Harbor Shelter", kind=Organization.Kind.CBO
    )


@pytest.fixture
def cbo_admin(tenant):
    return member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@marrowdale.test")


def as_user(login, user) -> Client:
    return login(user, Client())


def form(orgs, **overrides) -> dict:
    data = {
        "name": "Clinic + Shelter",
        "organizations": [o.pk for o in orgs],
        "status": "proposed",
        "start_date": "2026-04-01",
        "end_date": "2027-03-31",
        "description": "Housing navigation for the clinic's patients.",
        "referral_protocol": "Answer within two business days.",
    }
    data.update(overrides)
    return data


def audits(object_type: str, action: str | None = None):
    rows = AuditEvent.objects.filter(object_type=object_type)
    return rows.filter(action=action) if action else rows


def upload(name="dsa.pdf", content=PDF, content_type="application/pdf", **overrides) -> dict:
    data = {
        "kind": "dsa",
        "title": "Data-sharing agreement 2026",
        "signed_on": "2026-03-01",
        "expires_on": "2027-02-28",
        "file": SimpleUploadedFile(name, content, content_type),
    }
    data.update(overrides)
    return data


def detail_url(p) -> str:
    return f"/partnerships/{p.pk}/"


# Creating


def test_backbone_admin_sets_up_a_partnership_between_any_organizations(login, tenant, shelter):
    c = as_user(login, tenant.backbone_admin)
    assert c.get("/partnerships/new/").status_code == 200
    response = c.post("/partnerships/new/", form([tenant.hco, shelter]))
    assert response.status_code == 302
    made = Partnership.objects.get(name="Clinic + Shelter")
    assert response["Location"] == detail_url(made)
    assert made.network == tenant.network
    assert set(made.organizations.all()) == {tenant.hco, shelter}
    assert (made.status, made.start_date, made.end_date) == (
        "proposed",
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    assert made.referral_protocol == "Answer within two business days."
    event = audits("partnership", "create").get()
    assert event.object_ids == [made.pk]
    assert (event.actor, event.organization) == (tenant.backbone_admin, tenant.backbone)
    assert event.detail["organization_ids"] == sorted([tenant.hco.pk, shelter.pk])
    page = c.get(detail_url(made)).content.decode()
    assert "Clinic + Shelter" in page and "Harbor Shelter" in page


def test_an_org_admin_sets_up_one_with_their_own_organization_ticked(login, tenant, shelter):
    c = as_user(login, tenant.hco_admin)
    blank = c.get("/partnerships/new/").content.decode()
    # Their own organization starts ticked, the others do not.
    assert re.search(rf'value="{tenant.hco.pk}" id="id_organizations_\d+" checked', blank)
    assert not re.search(rf'value="{shelter.pk}" id="id_organizations_\d+" checked', blank)
    response = c.post("/partnerships/new/", form([tenant.hco, shelter]))
    assert response.status_code == 302
    made = Partnership.objects.get(name="Clinic + Shelter")
    assert set(made.organizations.all()) == {tenant.hco, shelter}
    assert audits("partnership", "create").get().organization == tenant.hco


def test_an_org_admin_cannot_leave_their_own_organization_out(login, tenant, shelter):
    c = as_user(login, tenant.hco_admin)
    response = c.post("/partnerships/new/", form([tenant.cbo, shelter]))
    assert response.status_code == 400
    assert "Your own organization must be one of the partnership" in response.content.decode()
    assert not Partnership.objects.filter(name="Clinic + Shelter").exists()
    assert not audits("partnership").exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("one organization", "Choose at least two organizations"),
        ("end before start", "The end date cannot be before the start date."),
        ("duplicate name", "The network already has a partnership with this name."),
        ("another network", "Choose organizations of your network only."),
        ("no name", "This field is required."),
    ],
)
def test_invalid_partnerships_are_refused_and_nothing_is_written(
    login, tenant, foreign_tenant, shelter, case, message
):
    data = {
        "one organization": form([tenant.hco]),
        "end before start": form([tenant.hco, shelter], end_date="2026-03-31"),
        # Case does not make another name.
        "duplicate name": form([tenant.hco, shelter], name=tenant.partnership.name.upper()),
        "another network": form([tenant.hco, foreign_tenant.cbo]),
        "no name": form([tenant.hco, shelter], name=""),
    }[case]
    before = Partnership.objects.count()
    c = as_user(login, tenant.backbone_admin)
    response = c.post("/partnerships/new/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was saved" in body
    assert message in body
    assert Partnership.objects.count() == before
    assert not audits("partnership").exists()


def test_an_inactive_organization_joins_no_new_partnership(login, tenant, shelter):
    from directory.partnerships import PartnershipData, partnership_create

    shelter.is_active = False
    shelter.save()
    c = as_user(login, tenant.backbone_admin)
    # Not offered by the form...
    assert c.post("/partnerships/new/", form([tenant.hco, shelter])).status_code == 400
    # ...and refused by the service on any other path.
    with pytest.raises(Exception, match="no longer active"):
        partnership_create(
            acting_for=tenant.backbone,
            actor=tenant.backbone_admin,
            data=PartnershipData(name="Closed pact", organizations=[tenant.hco, shelter]),
        )
    assert not Partnership.objects.filter(name__in=["Clinic + Shelter", "Closed pact"]).exists()


@pytest.mark.parametrize("persona", ["hco_staff", "hco_navigator", "cbo_staff"])
def test_staff_and_navigators_may_not_create_or_edit(login, tenant, shelter, persona):
    c = as_user(login, getattr(tenant, persona))
    assert c.get("/partnerships/new/").status_code == 403
    assert c.post("/partnerships/new/", form([tenant.hco, shelter])).status_code == 403
    edit = f"/partnerships/{tenant.partnership.pk}/edit/"
    assert c.get(edit).status_code == 403
    assert c.post(edit, form([tenant.hco, tenant.cbo], name="Renamed")).status_code == 403
    assert not Partnership.objects.filter(name__in=["Clinic + Shelter", "Renamed"]).exists()
    assert not audits("partnership").exists()


# Editing


def test_backbone_admin_edits_the_fields_and_the_parties(login, tenant, shelter):
    p = tenant.partnership
    c = as_user(login, tenant.backbone_admin)
    page = c.get(f"/partnerships/{p.pk}/edit/").content.decode()
    assert f'value="{p.name}"' in page
    response = c.post(
        f"/partnerships/{p.pk}/edit/",
        form(
            [tenant.hco, tenant.cbo, shelter], name="Clinic, Food Bank and Shelter", status="ended"
        ),
    )
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.name == "Clinic, Food Bank and Shelter"
    assert p.status == "ended"
    assert set(p.organizations.all()) == {tenant.hco, tenant.cbo, shelter}
    event = audits("partnership", "update").get()
    assert set(event.detail["fields"]) >= {"name", "status", "organizations"}
    assert event.detail["added_organization_ids"] == [shelter.pk]


def test_an_org_admin_edits_but_cannot_remove_their_own_organization(login, tenant, shelter):
    p = tenant.partnership
    c = as_user(login, tenant.hco_admin)
    refused = c.post(f"/partnerships/{p.pk}/edit/", form([tenant.cbo, shelter], name=p.name))
    assert refused.status_code == 400
    assert "Your own organization must be one of" in refused.content.decode()
    assert set(p.organizations.all()) == {tenant.hco, tenant.cbo}

    ok = c.post(f"/partnerships/{p.pk}/edit/", form([tenant.hco, tenant.cbo], name=p.name))
    assert ok.status_code == 302
    p.refresh_from_db()
    assert p.description == "Housing navigation for the clinic's patients."
    assert audits("partnership", "update").get().organization == tenant.hco


def test_an_organization_that_leaves_takes_its_covered_programs_with_it(login, tenant, shelter):
    p = tenant.partnership
    pantry = ProgramFactory(organization=tenant.cbo, name="Weekly Pantry")
    p.programs.set([pantry])
    c = as_user(login, tenant.backbone_admin)
    response = c.post(f"/partnerships/{p.pk}/edit/", form([tenant.hco, shelter], name=p.name))
    assert response.status_code == 302
    assert not p.programs.exists()
    assert "programs" in audits("partnership", "update").get().detail["fields"]


def test_saving_unchanged_says_so_and_audits_nothing(login, tenant):
    p = tenant.partnership
    c = as_user(login, tenant.backbone_admin)
    same = {
        "name": p.name,
        "organizations": [tenant.hco.pk, tenant.cbo.pk],
        "status": p.status,
        "start_date": "",
        "end_date": "",
        "description": "",
        "referral_protocol": "",
    }
    response = c.post(f"/partnerships/{p.pk}/edit/", same, follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert not audits("partnership").exists()


def test_edit_refuses_a_duplicate_name_and_an_end_before_the_start(login, tenant, shelter):
    other = PartnershipFactory(
        network=tenant.network, name="Other pact", organizations=[tenant.hco, shelter]
    )
    p = tenant.partnership
    c = as_user(login, tenant.backbone_admin)
    for data in (
        form([tenant.hco, tenant.cbo], name=other.name),
        form([tenant.hco, tenant.cbo], name=p.name, start_date="2026-05-01", end_date="2026-04-01"),
    ):
        assert c.post(f"/partnerships/{p.pk}/edit/", data).status_code == 400
    p.refresh_from_db()
    assert (p.name, p.start_date, p.end_date) == (tenant.partnership.name, None, None)
    assert not audits("partnership").exists()


def test_another_network_and_a_bystander_get_404(login, tenant, foreign_tenant, neighbour):
    p = tenant.partnership
    document = PartnershipDocument.objects.create(partnership=p, kind="mou", title="MOU")
    urls = [
        f"/partnerships/{p.pk}/edit/",
        f"/partnerships/{p.pk}/agreements/new/",
        f"/partnerships/{p.pk}/agreements/{document.pk}/",
        f"/partnerships/{p.pk}/agreements/{document.pk}/delete/",
    ]
    for outsider in (foreign_tenant.backbone_admin, foreign_tenant.hco_admin, neighbour.admin):
        c = as_user(login, outsider)
        for url in urls:
            assert c.get(url).status_code == 404, (outsider, url)
            assert c.post(url, form([tenant.hco, tenant.cbo], name="Taken over")).status_code in {
                404,
                405,
            }
    p.refresh_from_db()
    assert p.name != "Taken over"
    assert PartnershipDocument.objects.filter(pk=document.pk).exists()


def test_a_granted_reviewer_may_download_but_not_manage(login, tenant):
    from organizations.services import partnership_grant_view

    payer = OrganizationFactory(network=tenant.network, kind=Organization.Kind.PAYER)
    analyst = member(payer, Role.ORG_ADMIN)
    partnership_grant_view(partnership=tenant.partnership, user=analyst)
    c = as_user(login, tenant.backbone_admin)
    c.post(f"/partnerships/{tenant.partnership.pk}/agreements/new/", upload())
    document = PartnershipDocument.objects.get()

    c = as_user(login, analyst)
    page = c.get(detail_url(tenant.partnership)).content.decode()
    assert 'data-testid="download-agreement"' in page
    assert 'data-testid="edit-partnership"' not in page
    assert (
        c.get(f"/partnerships/{tenant.partnership.pk}/agreements/{document.pk}/").status_code == 200
    )
    assert c.get(f"/partnerships/{tenant.partnership.pk}/edit/").status_code == 403
    assert (
        c.post(
            f"/partnerships/{tenant.partnership.pk}/agreements/{document.pk}/delete/"
        ).status_code
        == 403
    )
    assert PartnershipDocument.objects.filter(pk=document.pk).exists()


# Agreements


def test_upload_list_download_and_delete_an_agreement(
    login, tenant, cbo_admin, settings, django_capture_on_commit_callbacks
):
    p = tenant.partnership
    c = as_user(login, cbo_admin)
    response = c.post(f"/partnerships/{p.pk}/agreements/new/", upload())
    assert response.status_code == 302
    assert response["Location"] == detail_url(p)
    document = PartnershipDocument.objects.get()
    assert (document.kind, document.title) == ("dsa", "Data-sharing agreement 2026")
    assert (document.signed_on, document.expires_on) == (date(2026, 3, 1), date(2027, 2, 28))
    # Stored under a random name, never the uploaded one.
    assert "dsa" not in document.file.name.rsplit("/", 1)[-1]
    stored = settings.MEDIA_ROOT / document.file.name
    assert stored.read_bytes() == PDF
    created = audits("partnership_document", "create").get()
    assert created.object_ids == [document.pk]
    assert created.detail == {"partnership_id": p.pk, "kind": "dsa"}

    # Any member who may see the partnership downloads it, audited.
    reader = as_user(login, tenant.hco_navigator)
    page = reader.get(detail_url(p)).content.decode()
    assert "Data-sharing agreement: Data-sharing agreement 2026" in page
    assert "In force" in page
    assert 'data-testid="delete-agreement"' not in page
    file_response = reader.get(f"/partnerships/{p.pk}/agreements/{document.pk}/")
    assert file_response.status_code == 200
    assert b"".join(file_response.streaming_content) == PDF
    assert file_response["Content-Type"] == "application/pdf"
    assert file_response["Content-Disposition"].startswith("attachment;")
    assert f"dsa-{p.pk}-{document.pk}.pdf" in file_response["Content-Disposition"]
    assert file_response["Cache-Control"] == "private, no-store"
    read = audits("partnership_document", "view").get()
    assert (read.actor, read.organization) == (tenant.hco_navigator, tenant.hco)
    # A navigator may not remove it.
    delete_url = f"/partnerships/{p.pk}/agreements/{document.pk}/delete/"
    assert reader.post(delete_url).status_code == 403

    # Removing asks first, then removes the row and the file.
    confirm = c.get(delete_url)
    assert confirm.status_code == 200
    assert "Remove this agreement?" in confirm.content.decode()
    assert PartnershipDocument.objects.filter(pk=document.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert c.post(delete_url).status_code == 302
    assert not PartnershipDocument.objects.exists()
    assert not stored.exists()
    deleted = audits("partnership_document", "update").get()
    assert deleted.detail["fields"] == ["deleted"]
    assert reader.get(f"/partnerships/{p.pk}/agreements/{document.pk}/").status_code == 404


def test_the_backbone_admin_manages_agreements_too(login, tenant):
    c = as_user(login, tenant.backbone_admin)
    page = c.get(detail_url(tenant.partnership)).content.decode()
    assert 'data-testid="edit-partnership"' in page
    assert 'data-testid="upload-agreement"' in page
    response = c.post(
        f"/partnerships/{tenant.partnership.pk}/agreements/new/",
        upload(name="baa.png", content=PNG, content_type="image/png", kind="baa"),
    )
    assert response.status_code == 302
    assert PartnershipDocument.objects.get().file.name.endswith(".png")
    assert audits("partnership_document", "create").get().organization == tenant.backbone


def test_a_download_is_refused_to_a_foreign_organization_and_to_staff(
    login, tenant, foreign_tenant, neighbour
):
    c = as_user(login, tenant.backbone_admin)
    c.post(f"/partnerships/{tenant.partnership.pk}/agreements/new/", upload())
    document = PartnershipDocument.objects.get()
    url = f"/partnerships/{tenant.partnership.pk}/agreements/{document.pk}/"
    for outsider in (foreign_tenant.hco_navigator, neighbour.navigator):
        assert as_user(login, outsider).get(url).status_code == 404
    # A partnership of the outsider's own does not open another's agreement either.
    own = foreign_tenant.partnership
    assert (
        as_user(login, foreign_tenant.hco_navigator)
        .get(f"/partnerships/{own.pk}/agreements/{document.pk}/")
        .status_code
        == 404
    )
    assert as_user(login, tenant.hco_staff).get(url).status_code == 403
    assert not audits("partnership_document", "view").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (upload(name="dsa.docx"), "file", "Upload a PDF, JPEG or PNG file."),
        (upload(name="dsa.exe", content=b"MZ"), "file", "Upload a PDF, JPEG or PNG file."),
        (upload(name="dsa.pdf", content=PNG), "file", "is not the PDF, JPEG or PNG its name says"),
        (
            upload(name="big.pdf", content=b"%PDF-" + b"0" * (10 * 1024 * 1024)),
            "file",
            "The file is larger than 10 MB.",
        ),
        ({**upload(), "file": ""}, "file", "Choose the agreement"),
        (upload(expires_on="2026-02-01"), "expires_on", "cannot be before the signing date"),
        (upload(signed_on="2026-03-11"), "signed_on", "cannot be in the future"),
        (upload(title="  "), "title", ""),
        (upload(kind="nda"), "kind", "Select a valid choice"),
    ],
    ids=["docx", "exe", "png-as-pdf", "over-10MB", "no-file", "expiry", "future", "title", "kind"],
)
def test_an_agreement_outside_the_limits_is_refused_and_nothing_is_kept(
    login, tenant, settings, data, field, message
):
    c = as_user(login, tenant.hco_admin)
    response = c.post(f"/partnerships/{tenant.partnership.pk}/agreements/new/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert f'data-testid="error-{field}"' in body
    assert message in body
    assert not PartnershipDocument.objects.exists()
    assert not audits("partnership_document").exists()
    assert not list(settings.MEDIA_ROOT.rglob("*.*"))


def test_exactly_10_mb_is_accepted(login, tenant):
    c = as_user(login, tenant.hco_admin)
    content = b"%PDF-" + b"0" * (10 * 1024 * 1024 - 5)
    response = c.post(
        f"/partnerships/{tenant.partnership.pk}/agreements/new/", upload(content=content)
    )
    assert response.status_code == 302
    assert PartnershipDocument.objects.get().file.size == 10 * 1024 * 1024


def test_agreement_statuses_read_as_people_say_them(login, tenant):
    from directory.partnerships import agreement_status

    def doc(signed, expires):
        return PartnershipDocument(signed_on=signed, expires_on=expires)

    cases = {
        "Unsigned": doc(None, date(2027, 1, 1)),
        "In force": doc(date(2026, 1, 1), None),
        "Expires in 30 days": doc(date(2026, 1, 1), date(2026, 4, 9)),
        "Expires in 1 day": doc(date(2026, 1, 1), date(2026, 3, 11)),
        "Expires today": doc(date(2026, 1, 1), TODAY),
        "Expired": doc(date(2025, 1, 1), date(2026, 3, 9)),
    }
    for label, document in cases.items():
        assert agreement_status(document, today=TODAY).label == label
    # Beyond the 60-day warning it is simply in force.
    assert agreement_status(doc(date(2026, 1, 1), date(2026, 5, 10)), today=TODAY).label == (
        "In force"
    )

    for title, (signed, expires) in {
        "Old MOU": (date(2024, 1, 1), date(2025, 12, 31)),
        "Draft contract": (None, None),
        "Current BAA": (date(2026, 1, 5), date(2026, 3, 20)),
    }.items():
        PartnershipDocument.objects.create(
            partnership=tenant.partnership,
            kind="mou",
            title=title,
            signed_on=signed,
            expires_on=expires,
        )
    page = as_user(login, tenant.hco_navigator).get(detail_url(tenant.partnership))
    rows = page.content.decode().split('data-testid="agreement-row"')[1:]
    by_title = {
        t: next(r for r in rows if t in r) for t in ("Old MOU", "Draft contract", "Current BAA")
    }
    assert "Expired" in by_title["Old MOU"]
    assert "Unsigned" in by_title["Draft contract"]
    assert "No file" in by_title["Draft contract"]
    assert "Expires in 10 days" in by_title["Current BAA"]


# The list and detail pages


def test_the_list_shows_status_and_dates_and_a_new_button_for_admins(login, tenant):
    Partnership.objects.filter(pk=tenant.partnership.pk).update(
        start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)
    )
    admin_page = as_user(login, tenant.hco_admin).get("/partnerships/").content.decode()
    assert 'data-testid="new-partnership"' in admin_page
    assert "Active" in admin_page
    assert "from Jan. 1, 2026 to Dec. 31, 2026" in admin_page
    navigator_page = as_user(login, tenant.hco_navigator).get("/partnerships/").content.decode()
    assert 'data-testid="new-partnership"' not in navigator_page
    assert tenant.partnership.name in navigator_page
    detail = as_user(login, tenant.hco_navigator).get(detail_url(tenant.partnership))
    assert 'data-testid="edit-partnership"' not in detail.content.decode()
    assert 'data-testid="upload-agreement"' not in detail.content.decode()


def test_the_detail_page_uses_a_fixed_number_of_queries(
    login, tenant, django_assert_max_num_queries
):
    for n in range(15):
        PartnershipDocument.objects.create(
            partnership=tenant.partnership, kind="mou", title=f"MOU {n}", signed_on=TODAY
        )
    c = as_user(login, tenant.backbone_admin)
    # session, user, device, memberships, guardian's content types (2), the partnership
    # and its parties, the covered programs' ticks, the agreements, the parties, the covered
    # programs, the form's choices, the session's save and savepoints (18; an org admin's
    # may-manage check adds one): none per agreement.
    with django_assert_max_num_queries(19):
        response = c.get(detail_url(tenant.partnership))
    assert response.content.decode().count('data-testid="agreement-row"') == 15


def test_an_agreement_whose_file_is_gone_answers_404_not_500(login, tenant, settings):
    c = as_user(login, tenant.hco_admin)
    c.post(f"/partnerships/{tenant.partnership.pk}/agreements/new/", upload())
    document = PartnershipDocument.objects.get()
    (settings.MEDIA_ROOT / document.file.name).unlink()
    response = c.get(f"/partnerships/{tenant.partnership.pk}/agreements/{document.pk}/")
    assert response.status_code == 404
    assert not audits("partnership_document", "view").exists()
