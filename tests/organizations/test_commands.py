"""Provisioning from the command line, and the demo network."""

import io

import pytest
from django.core.management import CommandError, call_command

from demo import network as demo
from organizations.models import Membership, Network, Organization, Partnership, User

pytestmark = pytest.mark.django_db


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_organization_creates_network_and_org_then_is_idempotent():
    args = ["create_organization", "--network", "Lakeside", "--name", "Lakeside Pantry"]
    first = run(*args, "--kind", "cbo", "--sub-kind", "nonprofit")
    assert "Created network Lakeside" in first
    assert "Created organization Lakeside Pantry" in first
    second = run(*args, "--kind", "cbo", "--sub-kind", "nonprofit")
    assert "Exists:" in second and "Created" not in second
    assert Organization.objects.filter(name="Lakeside Pantry").count() == 1
    assert Network.objects.count() == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "spaceship"], "Unknown kind 'spaceship'"),
        (["--kind", "cbo", "--sub-kind", "fqhc"], "does not fit kind"),
    ],
)
def test_create_organization_refuses_bad_kinds(extra, message):
    with pytest.raises(CommandError, match=message):
        run("create_organization", "--network", "N", "--name", "X", *extra)
    assert not Organization.objects.exists()


def test_only_one_backbone_per_network():
    run("create_organization", "--network", "N", "--name", "Hub", "--kind", "backbone")
    with pytest.raises(CommandError, match="already has a backbone"):
        run("create_organization", "--network", "N", "--name", "Hub 2", "--kind", "backbone")


def test_add_member_creates_account_and_membership_then_is_idempotent():
    run("create_organization", "--network", "N", "--name", "Clinic", "--kind", "hco")
    args = ["add_member", "--org", "clinic", "--email", "Nurse@Example.test", "--role", "navigator"]
    out = run(*args, "--password", "a-good-long-passphrase")
    assert "Added nurse@example.test to Clinic as Navigator" in out
    again = run(*args, "--password", "a-good-long-passphrase")
    assert "unchanged" in again
    user = User.objects.get(email="nurse@example.test")
    assert user.check_password("a-good-long-passphrase")
    assert Membership.objects.get(user=user).role == "navigator"


def test_add_member_reads_the_password_from_stdin(monkeypatch):
    run("create_organization", "--network", "N", "--name", "Clinic", "--kind", "hco")
    monkeypatch.setattr("sys.stdin", io.StringIO("from-standard-input-pw\n"))
    run("add_member", "--org", "Clinic", "--email", "a@example.test", "--role", "staff")
    assert User.objects.get(email="a@example.test").check_password("from-standard-input-pw")


@pytest.mark.parametrize(
    ("org", "role", "password", "message"),
    [
        ("nowhere", "staff", "a-good-long-passphrase", "No organization named"),
        ("clinic", "overlord", "a-good-long-passphrase", "Unknown role 'overlord'"),
        ("clinic", "staff", "short", "too short"),
    ],
)
def test_add_member_refuses_bad_input_and_writes_nothing(org, role, password, message):
    run("create_organization", "--network", "N", "--name", "Clinic", "--kind", "hco")
    with pytest.raises(CommandError, match=message):
        run(
            "add_member",
            "--org",
            org,
            "--email",
            "x@example.test",
            "--role",
            role,
            "--password",
            password,
        )
    assert not User.objects.filter(email="x@example.test").exists()


def test_commands_exit_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_organization",
            "--network",
            "N",
            "--name",
            "X",
            "--kind",
            "nope",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Unknown kind 'nope'" in result.stderr


def test_seed_demo_builds_the_network_and_running_it_twice_changes_nothing(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    from config import broker
    from referrals.models import Notification

    settings.DEBUG = True
    queued: list[int] = []
    monkeypatch.setattr(broker, "publish", lambda task, ids: queued.extend(ids) or list(ids))
    with django_capture_on_commit_callbacks(execute=True):
        run("seed_demo")
    # The worker is handed exactly what is still to be emailed (today's news), not the
    # months-old history's notifications, which count as emailed already.
    history = Notification.objects.filter(emailed_at__isnull=False)
    assert history.exists()
    assert not set(queued) & set(history.values_list("pk", flat=True))
    assert sorted(queued) == sorted(
        Notification.objects.filter(emailed_at__isnull=True).values_list("pk", flat=True)
    )
    counts = (
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Partnership.objects.count(),
    )
    kinds = sorted(Organization.objects.values_list("kind", flat=True))
    assert kinds == ["backbone", "cbo", "cbo", "cbo", "cbo", "hco", "hco"]
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {"staff", "navigator", "org_admin"}
    assert Partnership.objects.filter(status="active").count() == len(demo.PARTNERSHIPS)
    user = User.objects.get(email="clinic.coordinator@demo.linkage.test")
    assert user.check_password(demo.DEMO_PASSWORD)
    # Referrals go both ways: community organizations refer to a clinic's program too.
    from referrals.models import Referral

    upstream = Referral.objects.filter(
        sender_organization__kind="cbo", receiver_organization__kind="hco"
    )
    assert upstream.count() == len(demo.COMMUNITY_REFERRALS)
    assert set(upstream.values_list("status", flat=True)) == {"requested", "accepted", "completed"}

    second = run("seed_demo")
    assert "nothing changed" in second
    assert counts == (
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Partnership.objects.count(),
    )


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        run("seed_demo")
    assert not Organization.objects.exists()


def test_grant_partnership_access_command(tenant):
    from organizations.roles import Role
    from tests.factories import OrganizationFactory, member

    payer = OrganizationFactory(network=tenant.network, kind=Organization.Kind.PAYER)
    analyst = member(payer, Role.NAVIGATOR)
    args = ["grant_partnership_access", "--partnership", str(tenant.partnership.pk)]
    assert "Granted" in run(*args, "--email", analyst.email)
    assert "Exists:" in run(*args, "--email", analyst.email)
    assert analyst.has_perm("organizations.view_partnership", tenant.partnership)
    with pytest.raises(CommandError, match="No account"):
        run(*args, "--email", "ghost@example.test")
