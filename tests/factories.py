"""Test data builders. Every persona is a real user with a real membership."""

from __future__ import annotations

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from organizations.models import Membership, Network, Organization, Partnership, User
from organizations.roles import Role

PASSWORD = "correct-horse-battery-9"


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network

    name = factory.Sequence(lambda n: f"Network {n}")
    slug = factory.Sequence(lambda n: f"network-{n}")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    network = factory.SubFactory(NetworkFactory)
    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    kind = Organization.Kind.CBO


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.SelfAttribute("email")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.STAFF


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership
        skip_postgeneration_save = True

    network = factory.SubFactory(NetworkFactory)
    name = factory.Sequence(lambda n: f"Partnership {n}")
    status = Partnership.Status.ACTIVE

    @factory.post_generation
    def organizations(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.organizations.set(extracted)


def member(org: Organization, role: str = Role.STAFF, **user_fields) -> User:
    """A user with one membership."""
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organization=org, role=role)
    return user


def give_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def totp_now(device: TOTPDevice) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


class ClientFactory(factory.django.DjangoModelFactory):
    """A client created by `created_by_organization` (pass it; network follows)."""

    class Meta:
        model = "clients.Client"

    created_by_organization = factory.SubFactory(OrganizationFactory)
    network = factory.SelfAttribute("created_by_organization.network")
    created_by = factory.LazyAttribute(
        lambda o: MembershipFactory(organization=o.created_by_organization).user
    )
    given_name = factory.Sequence(lambda n: f"Given{n}")
    family_name = factory.Sequence(lambda n: f"Family{n}")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=90)
    phone = "(555) 010-0000"
    zip_code = "60601"


def release_for(client, *, organization, recipients=(), categories=("demographics",), **fields):
    """An active e-signed release of `client`, captured by `organization`."""
    from datetime import timedelta

    from django.utils import timezone

    from consent.models import Release

    now = timezone.now()
    captured_by = (
        fields.pop("captured_by", None) or MembershipFactory(organization=organization).user
    )
    release = Release.objects.create(
        client=client,
        organization=organization,
        captured_by=captured_by,
        purpose=Release.Purpose.CARE_COORDINATION,
        method=Release.Method.ESIGNATURE,
        esignature_name="Typed Name",
        esignature_confirmed=True,
        esignature_signed_at=now,
        staff_present=captured_by,
        effective_at=fields.pop("effective_at", now - timedelta(days=1)),
        expires_at=fields.pop("expires_at", now + timedelta(days=365)),
        **{f"covers_{c}": True for c in categories},
        **fields,
    )
    release.recipients.set(recipients)
    return release
