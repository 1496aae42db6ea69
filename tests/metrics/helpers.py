"""Referral histories written as rows, and a finished rollup run over them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from metrics.models import RollupRun
from metrics.services import rollup_run_execute_now
from referrals.models import Referral
from tests.factories import ClientFactory, ProgramFactory

SENT = datetime(2026, 3, 10, 15, tzinfo=UTC)


def clients(tenant, n: int, **fields):
    return [
        ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator, **fields)
        for _ in range(n)
    ]


def referrals(tenant, people, *, status="completed", outcome="need-met", sent=SENT, program=None):
    """One referral per client from the tenant's HCO to its CBO (completed by default)."""
    program = program or ProgramFactory(organization=tenant.cbo)
    out = []
    for client in people:
        done = status in ("completed", "failed", "rejected", "cancelled")
        out.append(
            Referral.objects.create(
                network=tenant.network,
                client=client,
                program=program,
                sender_organization=tenant.hco,
                receiver_organization=program.organization,
                status=status,
                outcome=outcome if status == "completed" else "",
                created_at=sent,
                sent_at=sent,
                accepted_at=sent + timedelta(days=2) if status != "rejected" else None,
                closed_at=sent + timedelta(days=9) if done else None,
            )
        )
    return out


def rollup(tenant) -> RollupRun:
    run = RollupRun.objects.create(network=tenant.network)
    return rollup_run_execute_now(run_id=run.pk)
