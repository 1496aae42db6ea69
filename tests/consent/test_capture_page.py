"""Capturing a release on the page: the text agreed to, the three methods, bad input."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from consent.forms import add_months
from consent.models import Release
from organizations.roles import Role
from tests.factories import ClientFactory, OrganizationFactory, member, release_for

pytestmark = pytest.mark.django_db


def url(client) -> str:
    return f"/clients/{client.pk}/releases/new/"


def form_data(tenant, **overrides) -> dict:
    today = timezone.localdate()
    data = {
        "recipients": [tenant.cbo.pk],
        "categories": ["demographics", "social_needs"],
        "purpose": "care_coordination",
        "language": "en",
        "method": "esignature",
        "esignature_name": "Marrowdaleina Marrowdalesdottir",
        "esignature_confirmed": "on",
        "signer": "client",
        "effective_at": today.isoformat(),
        "expires_at": add_months(today, 12).isoformat(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_capture_page_shows_the_exact_text_beside_the_signature(client, login, tenant):
    login(tenant.hco_navigator)
    page = text(client.get(url(tenant.client)))
    assert "I, the signer, agree to this release" in page
    assert 'name="esignature_name"' in page
    assert 'enctype="multipart/form-data"' in page
    assert f"I authorize {tenant.hco.name} to share the information" in page
    assert "You may revoke" not in page  # first person: the signer's own words
    assert "I may revoke this authorization at any time" in page
    # Recipients offered: the network's active organizations, never a foreign one.
    assert tenant.cbo.name in page
    assert tenant.backbone.name in page


def test_esignature_capture_records_the_release(client, login, tenant, settings):
    login(tenant.hco_staff)
    moment = timezone.now()
    with time_machine.travel(moment, tick=False):
        response = client.post(url(tenant.client), form_data(tenant))
    release = Release.objects.exclude(pk=tenant.release.pk).get()
    assert response.status_code == 302
    assert response["Location"] == f"/releases/{release.pk}/"
    assert release.organization == tenant.hco
    assert release.captured_by == tenant.hco_staff
    assert release.staff_present == tenant.hco_staff
    assert release.esignature_signed_at == moment
    assert release.esignature_name == "Marrowdaleina Marrowdalesdottir"
    assert release.effective_at == moment  # effective today: from now
    expected_expiry = add_months(timezone.localdate(moment), 12)
    assert timezone.localdate(release.expires_at) == expected_expiry
    assert [c.value for c in release.categories] == ["demographics", "social_needs"]
    assert list(release.recipients.all()) == [tenant.cbo]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_type="release", object_ids=[release.pk]
    ).exists()
    detail = text(client.get(response["Location"]))
    assert "Active" in detail
    assert "recorded" in detail


def test_paper_form_upload_is_kept_and_shown_to_who_may_see_the_client(
    client, login, tenant, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    login(tenant.hco_staff)
    upload = SimpleUploadedFile("signed.pdf", b"%PDF-1.4 signed by hand", "application/pdf")
    data = form_data(tenant, method="paper", esignature_name=None, esignature_confirmed=None)
    response = client.post(url(tenant.client), {**data, "paper_form": upload})
    assert response.status_code == 302
    release = Release.objects.get(method=Release.Method.PAPER)
    assert release.esignature_signed_at is None
    file_response = client.get(f"/releases/{release.pk}/paper-form/")
    assert file_response.status_code == 200
    assert b"".join(file_response.streaming_content) == b"%PDF-1.4 signed by hand"
    assert file_response["Cache-Control"] == "private, no-store"

    # A named recipient that may not see demographics gets no signed form.
    viewer = OrganizationFactory(network=tenant.network, name="Needs Only Org")
    release.recipients.add(viewer)
    release.covers_demographics = False
    release.save()
    client.logout()
    login(member(viewer, Role.STAFF))
    assert client.get(f"/releases/{release.pk}/paper-form/").status_code == 404


def test_verbal_consent_by_a_representative(client, login, tenant):
    login(tenant.hco_staff)
    data = form_data(
        tenant,
        method="verbal",
        esignature_name=None,
        esignature_confirmed=None,
        verbal_witness_name="Wendy Witness",
        signer="representative",
        representative_name="Rita Representative",
        representative_relationship="legal guardian",
        all_network_partners="on",
        recipients=None,
    )
    assert client.post(url(tenant.client), data).status_code == 302
    release = Release.objects.get(method=Release.Method.VERBAL)
    assert release.all_network_partners
    assert release.verbal_witness_name == "Wendy Witness"
    assert (release.representative_name, release.representative_relationship) == (
        "Rita Representative",
        "legal guardian",
    )


def test_agreement_text_updates_without_saving(client, login, tenant):
    login(tenant.hco_staff)
    centro = OrganizationFactory(network=tenant.network, name="Centro Comunitario")
    data = form_data(
        tenant,
        recipients=[tenant.cbo.pk, centro.pk],
        categories=["health", "sud"],
        language="es",
        esignature_name=None,
        esignature_confirmed=None,
        preview="1",
    )
    before = Release.objects.count()
    partial = client.post(url(tenant.client), data, headers={"HX-Request": "true"})
    body = text(partial)
    assert partial.status_code == 200
    assert "<html" not in body  # just the text, for htmx to swap in
    assert "Centro Comunitario" in body
    assert tenant.cbo.name in body
    assert "Información de salud" in body
    assert "42 CFR Parte 2" in body
    # Without JavaScript the same button re-renders the page, complaining about nothing.
    page = client.post(url(tenant.client), data)
    assert page.status_code == 200
    assert "Centro Comunitario" in text(page)
    assert "form-errors" not in text(page)
    assert Release.objects.count() == before


BAD_INPUT = {
    "esignature without typed name": ({"esignature_name": ""}, "Type the signer's full name"),
    "esignature without the confirming checkbox": (
        {"esignature_confirmed": None},
        "must tick the box",
    ),
    "paper without file": (
        {"method": "paper", "esignature_name": None, "esignature_confirmed": None},
        "Upload the signed paper form",
    ),
    "verbal without witness": (
        {"method": "verbal", "esignature_name": None, "esignature_confirmed": None},
        "Name the witness",
    ),
    "expiry before effective": (
        {"expires_at": timezone.localdate().isoformat()},
        "expiry date must be after the effective date",
    ),
    "SUD with all partners": (
        {"categories": ["sud", "health"], "all_network_partners": "on", "recipients": None},
        "may only be released to organizations named one by one",
    ),
    "no category": ({"categories": None}, "Choose at least one kind of information"),
    "no recipient and not all partners": (
        {"recipients": None},
        "Name at least one organization, or choose all active partners",
    ),
    "representative without name": (
        {"signer": "representative", "representative_relationship": "parent"},
        "Give the legal representative's name",
    ),
    "representative without relationship": (
        {"signer": "representative", "representative_name": "Rita Rep"},
        "Give the representative's relationship",
    ),
    "effective date in the past": (
        {"effective_at": (timezone.localdate() - timedelta(days=1)).isoformat()},
        "cannot take effect in the past",
    ),
    "purpose other undescribed": ({"purpose": "other"}, "Describe the purpose"),
    "paper form of the wrong type": (
        {"method": "paper", "paper_form": "form.exe"},
        "File extension",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_input_gets_a_clear_error_and_saves_nothing(client, login, tenant, case):
    overrides, message = BAD_INPUT[case]
    if "paper_form" in overrides:  # a fresh upload per request
        overrides = {**overrides, "paper_form": SimpleUploadedFile(overrides["paper_form"], b"MZ")}
    login(tenant.hco_staff)
    before = Release.objects.count(), AuditEvent.objects.filter(action="create").count()
    response = client.post(url(tenant.client), form_data(tenant, **overrides))
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert "Nothing was saved" in page
    assert (Release.objects.count(), AuditEvent.objects.filter(action="create").count()) == before


def test_recipient_outside_the_clients_network_is_refused(client, login, tenant, foreign_tenant):
    login(tenant.hco_staff)
    before = Release.objects.count()
    response = client.post(
        url(tenant.client), form_data(tenant, recipients=[tenant.cbo.pk, foreign_tenant.cbo.pk])
    )
    assert response.status_code == 400
    assert "Recipients must be active organizations of the client's network" in text(response)
    assert foreign_tenant.cbo.name not in text(response)
    assert Release.objects.count() == before


def test_only_an_organization_that_sees_the_clients_demographics_may_capture(client, login, tenant):
    needs_only = OrganizationFactory(network=tenant.network, name="Needs Only Org")
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[needs_only],
        categories=("social_needs",),
    )
    login(member(needs_only, Role.NAVIGATOR))
    before = Release.objects.count()
    assert client.get(url(tenant.client)).status_code == 404
    assert client.post(url(tenant.client), form_data(tenant)).status_code == 404
    assert Release.objects.count() == before
    client.logout()
    # The food bank sees the demographics through the tenant's release: it may capture.
    login(tenant.cbo_staff)
    assert client.get(url(tenant.client)).status_code == 200


def test_client_of_another_organization_without_release_is_not_found(client, login, tenant):
    other = ClientFactory(created_by_organization=tenant.cbo, created_by=tenant.cbo_staff)
    login(tenant.hco_staff)
    assert client.get(url(other)).status_code == 404
