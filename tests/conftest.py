from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from config.celery import app as celery_app
from organizations.models import Organization, Partnership, User
from organizations.roles import Role
from tests.factories import (
    ClientFactory,
    NetworkFactory,
    OrganizationFactory,
    PartnershipFactory,
    member,
    release_for,
)

# `--dated-runs`: the `calendar` tests again at fixed awkward moments (tests/dated.py);
# real Celery workers' fixtures and helpers (tests/workers.py).
pytest_plugins = ["tests.dated", "tests.workers"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for test personas.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language: a request that spoke Spanish
    leaves Spanish active in the test's thread, and lazy labels would follow it into the
    next test."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Each test gets an empty cache of its own (throttle counts, lockout state): a key prefix
    no other test uses. Clearing instead would flush the shared Redis database under the
    other xdist worker's running test, and counts left by an earlier run would carry over."""
    caches = {alias: dict(conf) for alias, conf in settings.CACHES.items()}
    for conf in caches.values():
        conf["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _migration_data(request):
    """What the data migrations loaded (the instruments), as every migrated database has it.

    A transactional test (browser, worker, live server) ends with a flush that empties every
    table, data migrations' rows included; the tests after it on the same process would
    otherwise depend on the order xdist happened to run them in."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    from assessments.loader import load_instruments
    from assessments.models import Instrument

    if not Instrument.objects.exists():
        load_instruments()


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Tasks run inline unless the test starts a real worker (marked `worker`)."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@dataclass
class Tenant:
    """One network with a backbone, an HCO and a CBO in partnership, and people in each."""

    network: object
    backbone: Organization
    hco: Organization
    cbo: Organization
    partnership: Partnership
    backbone_admin: User
    hco_admin: User
    hco_navigator: User
    hco_staff: User
    cbo_staff: User
    client: object  # created by the HCO
    release: object  # the client's release naming the CBO (demographics, social needs)


def build_tenant(label: str) -> Tenant:
    network = NetworkFactory(name=f"{label} Network", slug=f"{label.lower()}-network")
    backbone = OrganizationFactory(
        network=network, name=f"{label} Backbone", kind=Organization.Kind.BACKBONE
    )
    hco = OrganizationFactory(
        network=network, name=f"{label} Clinic", kind=Organization.Kind.HCO, sub_kind="fqhc"
    )
    cbo = OrganizationFactory(
        network=network, name=f"{label} Food Bank", kind=Organization.Kind.CBO, sub_kind="nonprofit"
    )
    partnership = PartnershipFactory(
        network=network, name=f"{label} Clinic + Food Bank", organizations=[hco, cbo]
    )
    slug = label.lower()
    hco_navigator = member(hco, Role.NAVIGATOR, email=f"hco-nav@{slug}.test")
    client = ClientFactory(
        created_by_organization=hco,
        created_by=hco_navigator,
        given_name=f"{label}ina",
        family_name=f"{label}sdottir",
        email=f"client@{slug}.test",
    )
    release = release_for(
        client,
        organization=hco,
        recipients=[cbo],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=hco_navigator,
    )
    return Tenant(
        network=network,
        backbone=backbone,
        hco=hco,
        cbo=cbo,
        partnership=partnership,
        backbone_admin=member(backbone, Role.ORG_ADMIN, email=f"bb-admin@{slug}.test"),
        hco_admin=member(hco, Role.ORG_ADMIN, email=f"hco-admin@{slug}.test"),
        hco_navigator=hco_navigator,
        hco_staff=member(hco, Role.STAFF, email=f"hco-staff@{slug}.test"),
        cbo_staff=member(cbo, Role.STAFF, email=f"cbo-staff@{slug}.test"),
        client=client,
        release=release,
    )


@pytest.fixture
def tenant(db) -> Tenant:
    return build_tenant("Marrowdale")


@pytest.fixture
def foreign_tenant(db) -> Tenant:
    return build_tenant("Zanzibarish")


@dataclass
class Neighbour:
    """An organization of a tenant's own network that is party to none of its referrals and
    named in no release: it shares the directory, nothing else."""

    organization: Organization
    admin: User
    navigator: User
    staff: User


def build_neighbour(tenant: Tenant, label: str = "Quillfeather") -> Neighbour:
    org = OrganizationFactory(
        network=tenant.network,
        name=f"{label} Shelter",
        kind=Organization.Kind.CBO,
        sub_kind="nonprofit",
    )
    slug = label.lower()
    # Names of their own: the factory's "PersonN" would contain a victim's "PersonM".
    return Neighbour(
        organization=org,
        admin=member(org, Role.ORG_ADMIN, email=f"admin@{slug}.test", last_name=f"{label}-A"),
        navigator=member(org, Role.NAVIGATOR, email=f"nav@{slug}.test", last_name=f"{label}-N"),
        staff=member(org, Role.STAFF, email=f"staff@{slug}.test", last_name=f"{label}-S"),
    )


@pytest.fixture
def neighbour(tenant) -> Neighbour:
    return build_neighbour(tenant)


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    """The database right after `seed_demo`, taken once per session (per xdist worker)."""
    from tests import demo_snapshot as snapshot

    with django_db_blocker.unblock():
        return snapshot.build()


@pytest.fixture
def demo_network(db, demo_snapshot):
    """The demo network loaded, as `seed_demo` leaves it, for tests that read it (in the
    test's transaction: what the test changes does not outlive it)."""
    from tests import demo_snapshot as snapshot

    snapshot.restore(demo_snapshot)
    yield
    snapshot.forget()


def verified_login(client, user: User) -> None:
    """Sign in through the real form and, for users with a device, the second factor."""
    from django_otp import user_has_device

    from tests.factories import PASSWORD, totp_now

    response = client.post("/account/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    if user_has_device(user, confirmed=True):
        device = user.totpdevice_set.filter(confirmed=True).first()
        response = client.post("/account/two-factor/verify/", {"token": totp_now(device)})
        assert response.status_code == 302


@pytest.fixture
def login(client):
    """`login(user)`: a session as that user, second factor passed (forced for admins)."""

    def _login(user: User, c=None):
        from django_otp import user_has_device

        from tests.factories import give_totp

        c = c or client
        if user.requires_two_factor() and not user_has_device(user, confirmed=True):
            give_totp(user)
        verified_login(c, user)
        return c

    return _login


# The tenancy harness's probe count (tests/tenancy/harness.py PROBES) and the consent
# matrix's face checks (tests/consent/matrix.py FACE_CHECKS), one summary line each per
# session. Under xdist each worker hands its counts to the controller, which adds them up.
def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        from tests.consent.matrix import FACE_CHECKS
        from tests.tenancy.harness import PROBES

        workeroutput["tenancy_probes"] = dict(PROBES)
        workeroutput["consent_faces"] = dict(FACE_CHECKS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    from tests.consent.matrix import FACE_CHECKS
    from tests.tenancy.harness import PROBES

    output = getattr(node, "workeroutput", {})
    PROBES.update(output.get("tenancy_probes", {}))
    FACE_CHECKS.update(output.get("consent_faces", {}))


def pytest_terminal_summary(terminalreporter):
    from tests.consent.matrix import FACE_CHECKS
    from tests.tenancy.harness import FOREIGN_NETWORK, PROBES, SAME_NETWORK, WRONG_ROLE

    if getattr(terminalreporter.config, "workeroutput", None) is not None:
        return
    if PROBES:
        terminalreporter.write_line(
            f"tenancy: {sum(PROBES.values())} probes (foreign network {PROBES[FOREIGN_NETWORK]}, "
            f"same network {PROBES[SAME_NETWORK]}, wrong role {PROBES[WRONG_ROLE]})"
        )
    if FACE_CHECKS:
        terminalreporter.write_line(
            f"consent matrix: {FACE_CHECKS['cells']} cells (recipient x release state), "
            f"{FACE_CHECKS['faces']} face checks (pages, print, REST, FHIR, payloads, emails)"
        )
