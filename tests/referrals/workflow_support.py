"""Personas and builders for the referral core tests (services, workflow, notifications).

Built on the `tenant` fixture: the HCO sends, the CBO receives, a second CBO of the same
network is the third organization, and the backbone admin looks on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db import connection

from directory.models import Program
from organizations.models import Membership, Organization, User
from organizations.roles import Role
from referrals.models import Referral, ReferralEvent
from referrals.services import referral_send
from tests.conftest import Tenant
from tests.factories import OrganizationFactory, ProgramFactory, member

NEEDS = ["food-insecurity"]


@dataclass
class Parties:
    tenant: Tenant
    program: Program  # the CBO's program
    sender: User  # sends the referrals (HCO navigator)
    sender_colleague: User  # another HCO staff member
    receiver: User  # CBO staff
    receiver_colleague: User  # CBO staff too
    third_org: Organization  # another CBO in the same network
    third: User
    backbone_admin: User

    @property
    def client(self):
        return self.tenant.client

    def actor(self, persona: str) -> tuple[User, Organization]:
        """(user, active organization) of a persona of the permission matrix."""
        t = self.tenant
        return {
            "sender": (self.sender_colleague, t.hco),
            "receiver": (self.receiver, t.cbo),
            "third": (self.third, self.third_org),
            "backbone": (self.backbone_admin, t.backbone),
        }[persona]


def parties(tenant: Tenant, *, capacity: int | None = None) -> Parties:
    third_org = OrganizationFactory(
        network=tenant.network, name="Riverside Housing", kind=Organization.Kind.CBO
    )
    return Parties(
        tenant=tenant,
        program=ProgramFactory(organization=tenant.cbo, name="Weekly Groceries", capacity=capacity),
        sender=tenant.hco_navigator,
        sender_colleague=tenant.hco_staff,
        receiver=tenant.cbo_staff,
        receiver_colleague=member(tenant.cbo, Role.STAFF, email="cbo-colleague@test.test"),
        third_org=third_org,
        third=member(third_org, Role.STAFF, email="third@test.test"),
        backbone_admin=tenant.backbone_admin,
    )


def send(p: Parties, *, client=None, program=None, **overrides) -> Referral:
    """A referral from the HCO to the CBO's program, through the real service."""
    fields = {
        "client": client or p.client,
        "program": program or p.program,
        "sender_organization": p.tenant.hco,
        "sender_user": p.sender,
        "needs": NEEDS,
    }
    fields.update(overrides)
    return referral_send(**fields)


def at_status(p: Parties, status: str, **send_fields) -> Referral:
    """A sent referral forced into `status` (a completed one gets its required outcome)."""
    referral = send(p, **send_fields)
    extra = {"outcome": Referral.Outcome.NEED_MET} if status == "completed" else {}
    Referral.objects.filter(pk=referral.pk).update(status=status, **extra)
    referral.refresh_from_db()
    return referral


def transitions(referral: Referral) -> list[ReferralEvent]:
    return list(referral.events.filter(kind=ReferralEvent.Kind.TRANSITION).order_by("id"))


def make_lead_navigator(client, user: User) -> Membership:
    membership = Membership.objects.get(user=user)
    client.lead_navigator = membership
    client.save(update_fields=["lead_navigator"])
    return membership


def run_together(*calls):
    """Run the calls in threads that start together (a barrier); each thread has its own
    database connection, closed at the end. Returns [(result, exception)] in call order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = (call(), None)
        except Exception as exc:  # the loser's refusal is the point of the test
            results[i] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results
