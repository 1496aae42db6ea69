"""Personas, a clock and builders for the reminder tests (built on the `tenant` fixture:
the HCO sends, the CBO receives, the backbone looks on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from directory.models import Program
from organizations.models import Organization, User
from organizations.roles import Role
from referrals.models import Referral, Reminder
from referrals.services import referral_send, referral_transition
from tests.conftest import Tenant
from tests.factories import ProgramFactory, member

NEEDS = ["food-insecurity"]
# A Monday morning far from the real date, in a month without a daylight-saving change.
START = "2031-05-05 09:00:00-05:00"


def at(text: str) -> datetime:
    """A local moment written as people read it: "2031-05-07 09:00"."""
    return timezone.make_aware(datetime.fromisoformat(text))


@dataclass
class World:
    tenant: Tenant
    program: Program  # the CBO's program
    sender: User  # the HCO navigator who sends
    receiver: User  # CBO staff
    receiver_colleague: User  # CBO staff too
    backbone_admin: User
    second_backbone_admin: User
    backbone_staff: User  # at the backbone, not an admin: never escalated to

    @property
    def client(self):
        return self.tenant.client

    @property
    def receiving_team(self) -> set[int]:
        return {self.receiver.pk, self.receiver_colleague.pk}


def build_world(tenant: Tenant) -> World:
    """The tenant, with its release in force for decades (the tests travel in time)."""
    release = tenant.release
    release.effective_at = timezone.make_aware(datetime(2020, 1, 1))
    release.expires_at = timezone.make_aware(datetime(2045, 1, 1))
    release.save(update_fields=["effective_at", "expires_at"])
    return World(
        tenant=tenant,
        program=ProgramFactory(organization=tenant.cbo, name="Weekly Groceries"),
        sender=tenant.hco_navigator,
        receiver=tenant.cbo_staff,
        receiver_colleague=member(tenant.cbo, Role.STAFF, email="cbo-colleague@reminders.test"),
        backbone_admin=tenant.backbone_admin,
        second_backbone_admin=member(
            tenant.backbone, Role.ORG_ADMIN, email="bb-admin-2@reminders.test"
        ),
        backbone_staff=member(tenant.backbone, Role.STAFF, email="bb-staff@reminders.test"),
    )


def send(w: World, *, client=None, program=None, **fields) -> Referral:
    return referral_send(
        client=client or w.client,
        program=program or w.program,
        sender_organization=w.tenant.hco,
        sender_user=w.sender,
        needs=NEEDS,
        **fields,
    )


def move(w: World, referral: Referral, name: str, **fields) -> Referral:
    actor, org = (w.sender, w.tenant.hco) if name == "cancel" else (w.receiver, w.tenant.cbo)
    return referral_transition(
        referral_id=referral.pk, move=name, actor=actor, organization=org, **fields
    )


class Queue:
    """A publisher for `reminders_sweep(publish=...)` that records what would be queued
    (and queues nothing): for tests of what the sweep creates, not of delivery."""

    def __init__(self):
        self.sent: list[tuple[str, int]] = []

    def __call__(self, task, ids) -> list[int]:
        ids = list(ids)
        self.sent += [(task.name.rsplit(".", 1)[-1], pk) for pk in ids]
        return ids


def reminders(**filters) -> list[tuple[str, int, list[int]]]:
    """(kind, object id, recipients) of the reminders, in creation order."""
    rows = Reminder.objects.filter(**filters).order_by("id")
    return [(r.kind, r.object_id, r.recipient_ids) for r in rows]


def third_cbo(w: World) -> tuple[Organization, Program]:
    from tests.factories import OrganizationFactory

    org = OrganizationFactory(
        network=w.tenant.network, name="Riverside Housing", kind=Organization.Kind.CBO
    )
    member(org, Role.STAFF, email="riverside@reminders.test")
    return org, ProgramFactory(organization=org, name="Rent Help")
