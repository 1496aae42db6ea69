"""Property: for random referral histories, every referral rollup row the SQL writes equals
a straightforward Python computation over the same rows (and no row is missing or extra)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics import engine
from metrics.models import Rollup, RollupRun
from organizations.models import Organization
from referrals.models import Referral, ReferralEvent
from tests.factories import ClientFactory, OrganizationFactory, ProgramFactory
from tests.metrics.reference import referral_rollups

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
START = datetime(2025, 12, 20, tzinfo=UTC)

referral_spec = st.fixed_dictionaries(
    {
        "client": st.integers(0, 5),
        "receiver": st.integers(0, 1),
        "sender": st.sampled_from(["hco", "cbo", "external"]),
        "sent_hours": st.integers(0, 24 * 170),
        "status": st.sampled_from(
            [
                "draft",
                "requested",
                "accepted",
                "in-progress",
                "on-hold",
                "rejected",
                "completed",
                "failed",
                "cancelled",
                "entered-in-error",
            ]
        ),
        "accept_hours": st.one_of(st.just(0), st.integers(1, 24 * 20)),
        # Near the closed-loop rate's 30-day line often enough to catch an off-by-a-day.
        "close_hours": st.one_of(st.integers(1, 24 * 60), st.integers(24 * 29, 24 * 31)),
        "outcome": st.sampled_from(["need-met", "need-not-met", "unable-to-contact", ""]),
        "contacts": st.integers(0, 2),
        "overdue": st.booleans(),
    }
)


def _clients(tenant):
    people = [
        {
            "race": "2106-3",
            "ethnicity": "2186-5",
            "preferred_language": "en",
            "insurance_type": "medicaid",
            "date_of_birth": date(1950, 6, 20),
        },
        {
            "race": "2054-5",
            "ethnicity": "2135-2",
            "preferred_language": "es",
            "insurance_type": "medicare",
            "date_of_birth": date(2010, 3, 1),
        },
        {
            "race": "2028-9",
            "ethnicity": "unknown",
            "preferred_language": "zh",
            "insurance_type": "commercial",
            "date_of_birth": date(1961, 1, 31),
        },
        {
            "race": "unknown",
            "ethnicity": "2186-5",
            "preferred_language": "en",
            "insurance_type": "uninsured",
            "date_of_birth": date(2008, 2, 29),
        },
        {
            "race": "multiple",
            "ethnicity": "declined",
            "preferred_language": "vi",
            "insurance_type": "dual",
            "date_of_birth": date(1990, 12, 31),
        },
        {
            "race": "2106-3",
            "ethnicity": "2135-2",
            "preferred_language": "ar",
            "insurance_type": "unknown",
            "date_of_birth": date(1959, 4, 1),
        },
    ]
    return [
        ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator, **p)
        for p in people
    ]


def _write(specs, tenant, clients, programs):
    for spec in specs:
        sent = START + timedelta(hours=spec["sent_hours"])
        status = spec["status"]
        program = programs[spec["receiver"]]
        client = clients[spec["client"]]
        open_statuses = ["draft", "requested", "accepted", "in-progress", "on-hold"]
        # One open referral per client and program (the database guard).
        if (
            status in open_statuses
            and Referral.objects.filter(
                client=client, program=program, status__in=open_statuses
            ).exists()
        ):
            status = "cancelled"
        sender = {"hco": tenant.hco, "cbo": tenant.cbo, "external": None}[spec["sender"]]
        accepted_at = (
            sent + timedelta(hours=spec["accept_hours"])
            if status in ("accepted", "in-progress", "on-hold", "completed", "failed")
            else None
        )
        closed_at = None
        if status in ("rejected", "completed", "failed", "cancelled", "entered-in-error"):
            closed_at = (accepted_at or sent) + timedelta(hours=spec["close_hours"])
        outcome = spec["outcome"]
        if status == "completed" and not outcome:
            outcome = "need-met"
        due = NOW - timedelta(days=1) if spec["overdue"] else NOW + timedelta(days=1)
        referral = Referral.objects.create(
            network=tenant.network,
            client=client,
            program=program,
            sender_organization=sender,
            external_sender="" if sender else "A clinic",
            receiver_organization=program.organization,
            status=status,
            outcome=outcome,
            created_at=sent,
            sent_at=None if status == "draft" else sent,
            accepted_at=accepted_at,
            closed_at=closed_at,
            ack_due_at=due,
            update_due_at=due,
        )
        for i in range(spec["contacts"]):
            ReferralEvent.objects.create(
                referral=referral,
                kind=ReferralEvent.Kind.CONTACT,
                organization=program.organization,
                occurred_at=sent + timedelta(hours=i + 1),
                contact_type="phone",
            )


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(referral_spec, max_size=14))
def test_referral_rollups_match_python(tenant, specs):
    with transaction.atomic():
        other_cbo = OrganizationFactory(
            network=tenant.network, name="Other Pantry", kind=Organization.Kind.CBO
        )
        clients = _clients(tenant)
        programs = [
            ProgramFactory(organization=tenant.cbo, name="Pantry"),
            ProgramFactory(organization=other_cbo, name="Other"),
        ]
        _write(specs, tenant, clients, programs)
        run = RollupRun.objects.create(network=tenant.network)
        engine.recompute([tenant.network.pk], run_id=run.pk, now=NOW)

        referrals = list(Referral.objects.filter(network=tenant.network).select_related("client"))
        partnerships = {
            tenant.partnership.pk: set(
                tenant.partnership.organizations.values_list("pk", flat=True)
            )
        }
        expected = referral_rollups(referrals, partnerships, NOW)
        keys = {m for (_, _, _, _, m, _, _) in expected} or {"referrals_sent"}
        actual = {
            (
                r.partnership_id,
                r.organization_id,
                r.period_kind,
                r.period_start,
                r.measure,
                r.breakdown,
                r.breakdown_value,
            ): (r.numerator, r.denominator, r.value)
            for r in Rollup.objects.filter(run=run, measure__in=keys)
        }
        assert set(actual) == set(expected)
        for key, (num, den, value) in expected.items():
            got = actual[key]
            assert got[0] == num, key
            assert got[1] == den, key
            assert _close(got[2], value), (key, got, value)
        transaction.set_rollback(True)
