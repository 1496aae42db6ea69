"""release_create and release_revoke: the rules hold on every path, and both are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from consent import policy
from consent.categories import Category
from consent.models import Release
from consent.services import release_create, release_revoke
from consent.signals import release_ended
from organizations.roles import Role
from tests.factories import ClientFactory, OrganizationFactory, member, release_for

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]

NOW = timezone.make_aware(timezone.datetime(2026, 3, 10, 15, 30))


def args(tenant, **overrides) -> dict:
    now = timezone.now()
    values = {
        "client": tenant.client,
        "organization": tenant.hco,
        "captured_by": tenant.hco_staff,
        "recipients": [tenant.cbo],
        "all_network_partners": False,
        "categories": ["demographics", "health"],
        "purpose": Release.Purpose.CARE_COORDINATION,
        "language": "en",
        "method": Release.Method.ESIGNATURE,
        "esignature_name": "Marrowdaleina Marrowdalesdottir",
        "esignature_confirmed": True,
        "signer": Release.Signer.CLIENT,
        "effective_at": now,
        "expires_at": now + timedelta(days=365),
    }
    values.update(overrides)
    return values


@pytest.fixture
def received():
    """The release_ended signals sent during the test."""
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    release_ended.connect(receiver, dispatch_uid="test-receiver")
    yield calls
    release_ended.disconnect(dispatch_uid="test-receiver")


@time_machine.travel(NOW, tick=False)
def test_esignature_records_time_and_staff_present_and_is_audited(tenant):
    release = release_create(**args(tenant))
    release.refresh_from_db()
    assert release.esignature_signed_at == NOW
    assert release.staff_present == tenant.hco_staff
    assert release.captured_by == tenant.hco_staff
    assert release.categories == [Category.DEMOGRAPHICS, Category.HEALTH]
    assert list(release.recipients.all()) == [tenant.cbo]
    assert release.is_active()
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="release")
    assert event.object_ids == [release.pk]
    assert list(event.clients.values_list("client_id", flat=True)) == [tenant.client.pk]
    assert event.actor == tenant.hco_staff
    assert event.organization == tenant.hco
    assert event.detail["categories"] == ["demographics", "health"]
    # Codes and ids only, never the typed name.
    assert "Marrowdaleina" not in str(event.detail)


def test_only_the_chosen_method_and_signer_fields_are_kept(tenant):
    release = release_create(
        **args(
            tenant,
            method=Release.Method.VERBAL,
            verbal_witness_name="Wendy Witness",
            representative_name="Stray Name",
        )
    )
    assert release.verbal_witness_name == "Wendy Witness"
    assert release.esignature_name == ""
    assert release.esignature_signed_at is None
    assert release.staff_present is None
    assert release.representative_name == ""


def test_paper_form_is_stored_under_a_name_without_phi(tenant, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("Marrowdalesdottir-consent.pdf", b"%PDF-1.4 signed")
    release = release_create(
        **args(tenant, method=Release.Method.PAPER, esignature_name="", paper_form=upload)
    )
    assert release.paper_form.name.startswith("releases/")
    assert release.paper_form.name.endswith(".pdf")
    assert "Marrowdalesdottir" not in release.paper_form.name
    assert release.paper_form.read() == b"%PDF-1.4 signed"


BAD_INPUT = {
    "esignature without typed name": ({"esignature_name": "  "}, "esignature_name"),
    "esignature without confirmation": ({"esignature_confirmed": False}, "esignature_confirmed"),
    "paper without file": ({"method": "paper"}, "paper_form"),
    "verbal without witness": ({"method": "verbal"}, "verbal_witness_name"),
    # Built when the module is imported: a fixed moment, the day before the test's (frozen) now.
    "expiry before effective": ({"expires_at": NOW - timedelta(days=1)}, "expires_at"),
    "SUD to all partners": (
        {"categories": ["sud"], "all_network_partners": True, "recipients": []},
        "all_network_partners",
    ),
    "no category": ({"categories": []}, "categories"),
    "no recipient": ({"recipients": []}, "recipients"),
    "representative without name": (
        {"signer": "representative", "representative_relationship": "parent"},
        "representative_name",
    ),
    "representative without relationship": (
        {"signer": "representative", "representative_name": "Rita Rep"},
        "representative_relationship",
    ),
    "purpose other without description": ({"purpose": "other"}, "purpose_other"),
}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_service_refuses_bad_input_and_writes_nothing(tenant, case):
    overrides, field = BAD_INPUT[case]
    before = Release.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as error:
        release_create(**args(tenant, **overrides))
    assert field in error.value.message_dict
    assert (Release.objects.count(), AuditEvent.objects.count()) == before


def test_service_refuses_recipients_of_another_network(tenant, foreign_tenant):
    before = Release.objects.count()
    with pytest.raises(ValidationError) as error:
        release_create(**args(tenant, recipients=[foreign_tenant.cbo]))
    assert "client's network" in error.value.message_dict["recipients"][0]
    assert Release.objects.count() == before


def test_service_refuses_an_organization_that_may_not_see_the_client(tenant):
    stranger = OrganizationFactory(network=tenant.network, name="Stranger Org")
    before = Release.objects.count()
    with pytest.raises(ValidationError, match="may not capture"):
        release_create(
            **args(tenant, organization=stranger, captured_by=member(stranger, Role.STAFF))
        )
    assert Release.objects.count() == before


def test_service_refuses_a_user_who_is_not_staff_of_the_organization(tenant):
    with pytest.raises(ValidationError, match="Only staff"):
        release_create(**args(tenant, captured_by=tenant.cbo_staff))


def test_a_recipient_that_sees_demographics_may_capture_a_release(tenant):
    other = OrganizationFactory(network=tenant.network, name="Third Org")
    release = release_create(
        **args(tenant, organization=tenant.cbo, captured_by=tenant.cbo_staff, recipients=[other])
    )
    assert release.organization == tenant.cbo


def test_revoke_records_who_when_why_and_removes_access_at_once(
    tenant, received, django_capture_on_commit_callbacks
):
    assert policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, tenant.client)
    moment = timezone.now()
    with (
        time_machine.travel(moment, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        release_revoke(
            release=tenant.release,
            actor=tenant.hco_staff,
            organization=tenant.hco,
            reason="Client asked to stop sharing.",
        )
    release = Release.objects.get(pk=tenant.release.pk)
    assert release.revoked_at == moment
    assert release.revoked_by == tenant.hco_staff
    assert release.revocation_reason == "Client asked to stop sharing."
    assert release.status_at() == "revoked"
    for category in release.categories:
        assert not policy.may_see(tenant.cbo, category, tenant.client)
    assert policy.may_see(tenant.hco, Category.DEMOGRAPHICS, tenant.client)  # the creator

    assert len(callbacks) == 1
    assert received == [{"signal": release_ended, "release_id": release.pk, "reason": "revoked"}]
    event = AuditEvent.objects.get(action=AuditEvent.Action.REVOKE)
    assert event.object_ids == [release.pk]
    assert event.actor == tenant.hco_staff
    assert "stop sharing" not in str(event.detail)  # free text stays off the trail


def test_revoke_sends_nothing_until_commit(tenant, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        release_revoke(
            release=tenant.release, actor=tenant.hco_staff, organization=tenant.hco, reason="x"
        )
    assert received == []
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("revoked", "already revoked"),
        ("expired", "expired"),
    ],
)
def test_revoke_refuses_a_release_no_longer_in_force(tenant, received, setup, message):
    now = timezone.now()
    if setup == "revoked":
        Release.objects.filter(pk=tenant.release.pk).update(
            revoked_at=now - timedelta(hours=1), revoked_by=tenant.hco_navigator
        )
    else:
        Release.objects.filter(pk=tenant.release.pk).update(
            effective_at=now - timedelta(days=400), expires_at=now - timedelta(days=1)
        )
    before = Release.objects.get(pk=tenant.release.pk).revoked_at
    with pytest.raises(ValidationError, match=message):
        release_revoke(
            release=tenant.release, actor=tenant.hco_staff, organization=tenant.hco, reason="x"
        )
    assert Release.objects.get(pk=tenant.release.pk).revoked_at == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.REVOKE).exists()


def test_revoke_requires_a_reason(tenant):
    with pytest.raises(ValidationError) as error:
        release_revoke(
            release=tenant.release, actor=tenant.hco_staff, organization=tenant.hco, reason="  "
        )
    assert "reason" in error.value.message_dict
    assert Release.objects.get(pk=tenant.release.pk).revoked_at is None


def test_only_the_capturing_organization_revokes(tenant):
    with pytest.raises(ValidationError, match="captured this release"):
        release_revoke(
            release=tenant.release, actor=tenant.cbo_staff, organization=tenant.cbo, reason="x"
        )
    assert Release.objects.get(pk=tenant.release.pk).revoked_at is None


def test_a_release_not_yet_in_force_can_be_revoked(tenant):
    client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release = release_for(
        client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        effective_at=timezone.now() + timedelta(days=5),
    )
    release_revoke(release=release, actor=tenant.hco_staff, organization=tenant.hco, reason="x")
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert not policy.may_see(tenant.cbo, Category.DEMOGRAPHICS, client)
