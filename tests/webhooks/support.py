"""Builders shared by the webhook tests: referrals moved through the real services, with
their after-commit work (announcement, fan-out, delivery) run as a commit runs it."""

from __future__ import annotations

from referrals.services import referral_note_add, referral_transition
from tests.factories import referral_for


class Flow:
    def __init__(self, tenant, capture):
        self.tenant = tenant
        self.capture = capture

    def send(self, **fields):
        with self.capture(execute=True):
            return referral_for(self.tenant, **fields)

    def move(self, referral, name: str, **fields):
        t = self.tenant
        actor, org = (t.hco_navigator, t.hco) if name == "cancel" else (t.cbo_staff, t.cbo)
        with self.capture(execute=True):
            return referral_transition(
                referral_id=referral.pk, move=name, actor=actor, organization=org, **fields
            )

    def note(self, referral, body: str, *, by_sender: bool = True):
        t = self.tenant
        actor, org = (t.hco_navigator, t.hco) if by_sender else (t.cbo_staff, t.cbo)
        with self.capture(execute=True):
            return referral_note_add(referral=referral, author=actor, organization=org, body=body)

    def run(self, fn, *args, **kwargs):
        """Call `fn` and run what it queued for after the commit."""
        with self.capture(execute=True):
            return fn(*args, **kwargs)
