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
        esignature_name=fields.pop("esignature_name", "Typed Name"),
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


# --- assessments ---------------------------------------------------------------------------

AHC_NEGATIVE = {
    # Every AHC HRSN core question answered, nothing positive.
    "124296": ("LA31993-1",),  # steady place to live
    "123820": ("LA9-3",),  # none of the above
    "123821": ("LA28398-8",),  # never true
    "123822": ("LA28398-8",),
    "123823": ("LA32-8",),  # no
    "123824": ("LA32-8",),
    "123825": ("LA6270-8",),  # never
    "123826": ("LA6270-8",),
    "123827": ("LA6270-8",),
    "123828": ("LA6270-8",),
}


def instrument(key: str = "ahc-hrsn-core"):
    """The current version of a shipped instrument. Loads the files first: the data
    migration loaded them, but transactional tests (browser) empty every table."""
    from assessments.loader import load_instruments
    from assessments.models import Instrument

    load_instruments()
    return Instrument.objects.get(key=key, is_current=True)


def item_answers(answers: dict) -> dict:
    """{linkId: codes tuple or "declined"} -> the engine's {linkId: ItemAnswer}."""
    from assessments.engine import ItemAnswer

    return {
        link_id: ItemAnswer(declined=True) if value == "declined" else ItemAnswer(codes=value)
        for link_id, value in answers.items()
    }


def assessment_for(
    client,
    *,
    organization,
    answers: dict | None = None,
    instrument_key: str = "ahc-hrsn-core",
    actor=None,
    mode: str = "in_person",
):
    """A completed assessment of `client` by `organization` through the real services
    (default: the AHC HRSN core, everything answered, nothing positive)."""
    from assessments.services import assessment_record

    actor = actor or MembershipFactory(organization=organization).user
    if answers is None:
        answers = AHC_NEGATIVE if instrument_key == "ahc-hrsn-core" else {}
    return assessment_record(
        client=client,
        organization=organization,
        instrument=instrument(instrument_key),
        mode=mode,
        actor=actor,
        answers=item_answers(answers),
    )


# --- directory -----------------------------------------------------------------------------


class ProgramFactory(factory.django.DjangoModelFactory):
    """A listed program accepting referrals (pass `organization`; categories etc. via
    `categories=[...]`, `zip_codes=[...]`, `languages=[("es", "Spanish")]`)."""

    class Meta:
        model = "directory.Program"
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Program {n}")
    description = "Groceries once a week."

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):
        if create:
            for code in extracted or ("food-insecurity",):
                obj.categories.create(code=code)

    @factory.post_generation
    def zip_codes(obj, create, extracted, **kwargs):
        if create:
            for code in extracted or ():
                obj.service_areas.create(kind="zip", value=code)

    @factory.post_generation
    def languages(obj, create, extracted, **kwargs):
        if create:
            for code, name in extracted or ():
                obj.languages.create(code=code, name=name)


class HsdsImportFactory(factory.django.DjangoModelFactory):
    """A finished HSDS import run by `organization` (pass it; the network follows)."""

    class Meta:
        model = "directory.HsdsImport"

    organization = factory.SubFactory(OrganizationFactory)
    network = factory.SelfAttribute("organization.network")
    file_name = "directory.zip"
    payload = b""
    status = "done"
    report = factory.LazyFunction(
        lambda: [
            {
                "table": "services.csv",
                "row": 2,
                "id": "s1",
                "action": "created",
                "message": "Created program",
            }
        ]
    )


# --- referrals -----------------------------------------------------------------------------


def referral_program(tenant):
    """The tenant's CBO's food pantry program (one per tenant, made on first use)."""
    from directory.models import Program

    name = f"{tenant.cbo.name} Pantry"
    return Program.objects.filter(organization=tenant.cbo, name=name).first() or ProgramFactory(
        organization=tenant.cbo, name=name
    )


def referral_for(tenant, *, program=None, client=None, needs=("food-insecurity",), **fields):
    """A referral sent through the real service by the tenant's HCO navigator for the
    tenant's client (or `client`), to the CBO's pantry (or `program`). Called with the
    defaults it returns the open one if there is one, so probes can ask for it repeatedly.
    Other `fields` go to `referral_send` (reason, urgency, do_not_contact, sender_...)."""
    from referrals.models import Referral
    from referrals.services import referral_send
    from referrals.workflow import OPEN

    client = client or tenant.client
    program = program or referral_program(tenant)
    if not fields:
        existing = Referral.objects.filter(client=client, program=program, status__in=OPEN)
        if existing.exists():
            return existing.first()
    fields.setdefault("sender_organization", tenant.hco)
    fields.setdefault("sender_user", tenant.hco_navigator)
    return referral_send(client=client, program=program, needs=list(needs), **fields)


def _now():
    from django.utils import timezone

    return timezone.now()


class ReferralFactory(factory.django.DjangoModelFactory):
    """A referral row written directly, for lists and volume (pass `client` and `program`;
    the network, sender and receiver follow). `needs=[...]` adds need rows. Pages that
    depend on the rules of sending use `referral_for` (the real service) instead."""

    class Meta:
        model = "referrals.Referral"
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    program = factory.SubFactory(ProgramFactory)
    network = factory.SelfAttribute("client.network")
    sender_organization = factory.SelfAttribute("client.created_by_organization")
    receiver_organization = factory.SelfAttribute("program.organization")
    status = "requested"
    created_at = factory.LazyFunction(_now)
    updated_at = factory.SelfAttribute("created_at")
    sent_at = factory.SelfAttribute("created_at")

    @factory.post_generation
    def needs(obj, create, extracted, **kwargs):
        if create:
            for code in extracted or ("food-insecurity",):
                obj.needs.create(code=code)
