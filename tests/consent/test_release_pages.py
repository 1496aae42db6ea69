"""Reading, printing and revoking a release; the releases section of the client profile."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from audit.models import AuditEvent
from consent import policy
from consent.categories import Category
from consent.models import Release
from consent.signals import release_ended
from organizations.roles import Role
from tests.factories import OrganizationFactory, member, release_for

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def shown_releases(page: str) -> dict[int, str]:
    """Release id -> status, as listed by the client_releases tag."""
    return {
        int(pk): status
        for pk, status in re.findall(r'data-testid="release-(\d+)" data-status="([^"]+)"', page)
    }


# --- detail -------------------------------------------------------------------------------


def test_detail_for_capturing_org_and_named_recipient_and_audited(client, login, tenant):
    login(tenant.hco_staff)
    page = text(client.get(f"/releases/{tenant.release.pk}/"))
    assert tenant.client.display_name in page
    assert tenant.cbo.name in page
    assert "Demographics and contact, Social needs and assessments" in page
    assert 'data-testid="revoke-link"' in page
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type="release")
    assert event.object_ids == [tenant.release.pk]
    assert list(event.clients.values_list("client_id", flat=True)) == [tenant.client.pk]
    assert event.detail == {"categories": ["demographics"]}
    client.logout()

    login(tenant.cbo_staff)
    page = text(client.get(f"/releases/{tenant.release.pk}/"))
    assert tenant.client.display_name in page
    assert 'data-testid="revoke-link"' not in page  # recipients do not revoke
    assert f"{tenant.hco.name} records the revocation" in page


def test_detail_is_not_found_for_an_organization_not_named(client, login, tenant):
    bystander = OrganizationFactory(network=tenant.network, name="Bystander Org")
    login(member(bystander, Role.ORG_ADMIN))
    assert client.get(f"/releases/{tenant.release.pk}/").status_code == 404
    assert client.get(f"/releases/{tenant.release.pk}/print/").status_code == 404
    assert not AuditEvent.objects.filter(object_type="release").exists()


# --- print --------------------------------------------------------------------------------


def test_printed_spanish_form_lists_what_is_agreed_in_spanish(client, login, tenant):
    centro = OrganizationFactory(network=tenant.network, name="Centro Comunitario del Valle")
    release = release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[tenant.cbo, centro],
        categories=("demographics", "behavioral_health", "sud"),
        language="es",
        signer="representative",
        representative_name="Rita Representante",
        representative_relationship="madre",
    )
    login(tenant.hco_staff)
    response = client.get(f"/releases/{release.pk}/print/")
    page = text(response)
    assert response.status_code == 200
    assert '<html lang="es">' in page
    assert "Autorización para compartir información" in page
    assert "Organizaciones que pueden recibir la información" in page
    assert tenant.cbo.name in page
    assert "Centro Comunitario del Valle" in page
    assert "Datos demográficos y de contacto" in page
    assert "Información de salud mental y conductual" in page
    assert "42 CFR Parte 2" in page
    assert "Coordinación de cuidados" in page
    effective = timezone.localdate(release.effective_at)
    assert f"{effective.day} de " in page and "entra en vigor" in page
    assert "Rita Representante, representante legal (madre)" in page
    assert f"{tenant.client.given_name} {tenant.client.family_name}" in page
    assert "Authorization to share" not in page  # not English
    assert "main-nav" not in page and "Sign out" not in page  # no navigation
    # Its print stylesheet is a static file (the Content-Security-Policy refuses <style>).
    assert "css/release_print.css" in page
    assert "@media print" in (settings.BASE_DIR / "static/css/release_print.css").read_text()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PRINT, object_ids=[release.pk]
    ).exists()


def test_printed_english_form(client, login, tenant):
    login(tenant.hco_staff)
    page = text(client.get(f"/releases/{tenant.release.pk}/print/"))
    assert '<html lang="en">' in page
    assert "Authorization to share information" in page
    assert tenant.cbo.name in page
    assert "Typed Name" in page  # the e-signature as typed


# --- revoke -------------------------------------------------------------------------------


def test_revoke_confirmation_states_the_consequences(client, login, tenant):
    login(tenant.hco_staff)
    page = text(client.get(f"/releases/{tenant.release.pk}/revoke/"))
    assert "What happens when you confirm" in page
    assert f"At once, {tenant.cbo.name} lose access to: Demographics and contact" in page
    assert "go on hold" in page
    assert 'name="reason"' in page
    assert Release.objects.get(pk=tenant.release.pk).revoked_at is None  # GET changes nothing


def test_revoking_on_the_page_removes_access_at_once(
    client, login, tenant, django_capture_on_commit_callbacks
):
    calls = []
    release_ended.connect(
        lambda sender, **kw: calls.append(kw["release_id"]), weak=False, dispatch_uid="page-test"
    )
    try:
        login(tenant.cbo_staff)
        assert client.get(f"/clients/{tenant.client.pk}/").status_code == 200
        client.logout()

        login(tenant.hco_navigator)
        moment = timezone.now()
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(
                f"/releases/{tenant.release.pk}/revoke/", {"reason": "Client said stop."}
            )
        assert response.status_code == 302
        release = Release.objects.get(pk=tenant.release.pk)
        assert (release.revoked_at, release.revoked_by, release.revocation_reason) == (
            moment,
            tenant.hco_navigator,
            "Client said stop.",
        )
        assert calls == [release.pk]
        page = text(client.get(f"/releases/{release.pk}/"))
        assert "Revoked on" in page
        assert tenant.hco_navigator.get_full_name() in page  # who recorded it, to its own org
        assert "Client said stop." in page
        client.logout()

        # The food bank lost the client at once: policy, profile page and release page.
        assert not policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, tenant.client)
        login(tenant.cbo_staff)
        assert client.get(f"/clients/{tenant.client.pk}/").status_code == 404
        page = text(client.get(f"/releases/{release.pk}/"))
        assert 'data-testid="release-status">Revoked' in page
        assert 'data-testid="client-hidden"' in page
        assert tenant.client.family_name not in page
        assert "Client said stop." not in page  # the reason stays with the capturing org
    finally:
        release_ended.disconnect(dispatch_uid="page-test")


def test_revoke_without_reason_changes_nothing(client, login, tenant):
    login(tenant.hco_staff)
    response = client.post(f"/releases/{tenant.release.pk}/revoke/", {"reason": "  "})
    assert response.status_code == 400
    assert "Give the reason for the revocation" in text(response)
    assert Release.objects.get(pk=tenant.release.pk).revoked_at is None


def test_revoking_twice_is_refused_clearly(client, login, tenant):
    login(tenant.hco_staff)
    client.post(f"/releases/{tenant.release.pk}/revoke/", {"reason": "stop"})
    first = Release.objects.get(pk=tenant.release.pk).revoked_at
    page = text(client.get(f"/releases/{tenant.release.pk}/revoke/"))
    assert "nothing left to revoke" in page
    response = client.post(f"/releases/{tenant.release.pk}/revoke/", {"reason": "again"})
    assert response.status_code == 409  # the release is no longer in force: a conflict
    assert "already revoked" in text(response)
    assert "nothing left to revoke" in text(response)
    assert Release.objects.get(pk=tenant.release.pk).revoked_at == first


def test_a_recipient_cannot_revoke(client, login, tenant):
    login(tenant.cbo_staff)
    assert client.get(f"/releases/{tenant.release.pk}/revoke/").status_code == 403
    assert client.post(f"/releases/{tenant.release.pk}/revoke/", {"reason": "x"}).status_code == 403
    assert Release.objects.get(pk=tenant.release.pk).revoked_at is None


# --- the client_releases tag on the client profile -----------------------------------------


def test_profile_lists_releases_with_status_and_expiry_flag(client, login, tenant):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        hco, cbo = tenant.hco, tenant.cbo
        expired = release_for(
            tenant.client,
            organization=hco,
            recipients=[cbo],
            effective_at=now - timedelta(days=400),
            expires_at=now - timedelta(days=3),
        )
        revoked = release_for(
            tenant.client,
            organization=hco,
            recipients=[cbo],
            revoked_at=now - timedelta(days=1),
            revoked_by=tenant.hco_staff,
        )
        future = release_for(
            tenant.client,
            organization=hco,
            recipients=[cbo],
            effective_at=now + timedelta(days=5),
        )
        expiring = release_for(
            tenant.client,
            organization=hco,
            all_network_partners=True,
            categories=("health",),
            expires_at=now + timedelta(days=10),
        )
        login(tenant.hco_staff)
        page = text(client.get(f"/clients/{tenant.client.pk}/"))
    assert shown_releases(page) == {
        tenant.release.pk: "active",
        expired.pk: "expired",
        revoked.pk: "revoked",
        future.pk: "not yet effective",
        expiring.pk: "active",
    }
    item = page.split(f'data-testid="release-{expiring.pk}"')[1].split("</li>")[0]
    assert "Expires in 10 days" in item
    assert "all active partners in the network" in item
    assert "Health information" in item
    other = page.split(f'data-testid="release-{tenant.release.pk}"')[1].split("</li>")[0]
    assert "Expires in" not in other
    assert tenant.cbo.name in other
    assert 'data-testid="capture-release"' in page
    listed = AuditEvent.objects.get(action=AuditEvent.Action.LIST, object_type="release")
    assert sorted(listed.object_ids) == sorted(
        [tenant.release.pk, expired.pk, revoked.pk, future.pk, expiring.pk]
    )


def test_profile_lists_only_the_releases_the_organization_may_see(client, login, tenant):
    needs_only = OrganizationFactory(network=tenant.network, name="Needs Only Org")
    named = release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[needs_only],
        categories=("social_needs",),
    )
    login(member(needs_only, Role.NAVIGATOR))
    page = text(client.get(f"/clients/{tenant.client.pk}/"))
    assert shown_releases(page) == {named.pk: "active"}
    # It may not see who the client is, so it may not capture a release for them.
    assert 'data-testid="capture-release"' not in page
    assert 'data-testid="section-demographics"' not in page


def test_client_releases_tag_queries_do_not_grow_with_the_list(
    rf, tenant, django_assert_max_num_queries
):
    from django.template import Context, Template

    from organizations.models import Membership

    for _ in range(5):
        release_for(tenant.client, organization=tenant.hco, recipients=[tenant.cbo])
    request = rf.get("/")
    request.user = tenant.hco_staff
    request.organization = tenant.hco
    request.membership = Membership.objects.select_related("organization").get(
        user=tenant.hco_staff
    )
    template = Template("{% load consent_tags %}{% client_releases client %}")
    # releases, their recipients, and the audit event with its client row inside a savepoint
    # (2 + 4); the creator needs no release lookup to be offered the capture link.
    with django_assert_max_num_queries(6):
        page = template.render(Context({"request": request, "client": tenant.client}))
    assert len(shown_releases(page)) == 6


def test_the_expiry_flag_starts_thirty_days_ahead(tenant):
    from datetime import datetime

    from consent.selectors import days_until_expiry

    now = timezone.make_aware(datetime(2031, 5, 5, 12, 0))  # midday, no DST change in 30 days
    release = tenant.release
    release.expires_at = now + timedelta(days=30)
    assert days_until_expiry(release, now) == 30
    release.expires_at = now + timedelta(days=30, minutes=1)
    assert days_until_expiry(release, now) is None
    release.expires_at = now + timedelta(days=29)
    assert days_until_expiry(release, now) == 29
