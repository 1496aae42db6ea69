"""Property: for random histories, every rollup row the SQL writes equals a straightforward
Python computation over the same rows (tests/metrics/reference.py), and no row is missing
or extra — for every source: referrals (and referrals routed through the backbone, counted
once), declines by reason, screenings, needs, contacts, Self-Sufficiency matrices, the
national measures and the outcome measures partnerships define.

Each test recomputes only its sources (engine.recompute(only=...)) and keeps its examples
few and small: the whole tests/metrics suite stays within about a minute and a half."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assessments.models import Assessment, Need
from metrics import engine
from metrics.models import OutcomeMeasure, OutcomeResult, Rollup, RollupRun
from metrics.registry import MEASURES
from organizations.models import Organization
from referrals.models import Referral, ReferralEvent, ReferralNeed
from tests.factories import (
    ClientFactory,
    OrganizationFactory,
    PartnershipFactory,
    ProgramFactory,
    instrument,
)
from tests.metrics import reference
from tests.metrics.reference import referral_rollups

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
# The SDOH category a screening's positive domain is recorded as.
NEED_OF = {
    "food": "food-insecurity",
    "living-situation": "housing-instability",
    "transportation": "transportation-insecurity",
    "utilities": "utility-insecurity",
    "safety": "intimate-partner-violence",
}
START = datetime(2025, 12, 20, tzinfo=UTC)

REFERRAL_FIELDS = {
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
    # A declined referral's reason ("": recorded before reasons were coded).
    "decline_reason": st.sampled_from(["", *Referral.DeclineReason.values]),
}
referral_spec = st.fixed_dictionaries(REFERRAL_FIELDS)
# A referral to the backbone's hub and the referrals the backbone routed it to (each a
# while later, to the pantry or the other CBO), each with its own status and history.
routed_spec = st.fixed_dictionaries(
    {
        **REFERRAL_FIELDS,
        "sender": st.sampled_from(["hco", "hco", "external"]),
        "children": st.lists(
            st.fixed_dictionaries(
                {
                    **REFERRAL_FIELDS,
                    "receiver": st.integers(0, 1),
                    "after_hours": st.integers(0, 24 * 40),
                }
            ),
            max_size=2,
        ),
    }
)
# For the national measures: referrals dated from a screening (the SNS-E 30-day and MIPS
# #498 60-day windows, near their edges), for the needs the screening found.
anchored_referral_spec = st.fixed_dictionaries(
    {
        **REFERRAL_FIELDS,
        # The CBO's program, another CBO's, or one the HCO runs.
        "receiver": st.integers(0, 2),
        "anchor": st.integers(0, 20),
        "offset_hours": st.one_of(st.integers(-30, 24 * 10), st.integers(24 * 29, 24 * 31)),
        "contact_hours": st.one_of(st.integers(0, 24 * 20), st.integers(24 * 59, 24 * 61)),
        "needs": st.sets(
            st.sampled_from(
                [
                    "food-insecurity",
                    "housing-instability",
                    "homelessness",
                    "transportation-insecurity",
                    "utility-insecurity",
                ]
            ),
            max_size=2,
        ),
    }
)
screening_spec = st.fixed_dictionaries(
    {
        "client": st.integers(0, 5),
        "org": st.sampled_from(["hco", "cbo", "outsider"]),
        "hours": st.integers(0, 24 * 170),
        "completed": st.sampled_from([True, True, True, False]),
        # Each HRSN domain answered (positive or negative), declined, or left out.
        "domains": st.fixed_dictionaries(
            {
                d: st.sampled_from(["positive", "negative", "negative", "declined", None])
                for d in reference.HRSN
            }
        ),
        # The needs the screening recorded (counted by the screening and need sources).
        "needs": st.sets(st.sampled_from(sorted(NEED_OF)), max_size=3),
    }
)
matrix_spec = st.fixed_dictionaries(
    {
        "client": st.integers(0, 5),
        "org": st.sampled_from(["hco", "cbo"]),
        "hours": st.integers(0, 24 * 170),
        "completed": st.sampled_from([True, True, False]),
        # Scores 1-5; a domain not rated, or rated with a non-number, adds nothing.
        "scores": st.lists(
            st.one_of(st.integers(1, 5), st.just("n/a"), st.none()), min_size=0, max_size=4
        ),
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


OPEN_STATUSES = ["draft", "requested", "accepted", "in-progress", "on-hold"]


def _referral(spec, tenant, client, program, sent, needs=(), part_of=None):
    status = spec["status"]
    # One open referral per client and program, and one open routed referral per referral
    # (the database guards).
    if status in OPEN_STATUSES and (
        Referral.objects.filter(client=client, program=program, status__in=OPEN_STATUSES).exists()
        or (
            part_of is not None
            and Referral.objects.filter(part_of=part_of, status__in=OPEN_STATUSES).exists()
        )
    ):
        status = "cancelled"
    sender = {
        "hco": tenant.hco,
        "cbo": tenant.cbo,
        "backbone": tenant.backbone,
        "external": None,
    }[spec["sender"]]
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
        decline_reason=spec.get("decline_reason", "") if status == "rejected" else "",
        part_of=part_of,
        created_at=sent,
        sent_at=None if status == "draft" else sent,
        accepted_at=accepted_at,
        closed_at=closed_at,
        ack_due_at=due,
        update_due_at=due,
    )
    ReferralNeed.objects.bulk_create([ReferralNeed(referral=referral, code=c) for c in needs])
    return referral


def _contacts(referral, n: int, first, types=("phone", "home-visit", "")):
    ReferralEvent.objects.bulk_create(
        [
            ReferralEvent(
                referral=referral,
                kind=ReferralEvent.Kind.CONTACT,
                organization=referral.receiver_organization,
                occurred_at=first + timedelta(hours=i),
                contact_type=types[i % len(types)],
            )
            for i in range(n)
        ]
    )


def _write(specs, tenant, clients, programs):
    for spec in specs:
        sent = START + timedelta(hours=spec["sent_hours"])
        referral = _referral(
            spec, tenant, clients[spec["client"]], programs[spec["receiver"]], sent
        )
        _contacts(referral, spec["contacts"], sent + timedelta(hours=1), types=("phone",))


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _source_measures(*sources: str) -> set[str]:
    return {m.key for m in MEASURES if m.source in sources}


def _recompute(tenant, sources) -> RollupRun:
    run = RollupRun.objects.create(network=tenant.network)
    engine.recompute([tenant.network.pk], run_id=run.pk, now=NOW, only=sources)
    return run


def _assert_same(run, expected: dict, measures: set[str], label: str) -> None:
    """Every row the run wrote for these measures is expected, with the expected
    numerator, denominator and value, and every expected row is there."""
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
        for r in Rollup.objects.filter(run=run, measure__in=measures)
    }
    wanted = {k: v for k, v in expected.items() if k[4] in measures}
    assert set(actual) - set(wanted) == set(), (label, "extra rows")
    assert set(wanted) - set(actual) == set(), (label, "missing rows")
    for key, (num, den, value) in wanted.items():
        got = actual[key]
        assert got[0] == num, (label, key, got, (num, den, value))
        assert got[1] == den, (label, key, got, (num, den, value))
        assert _close(got[2], value), (label, key, got, (num, den, value))


def _partnerships(*partnerships) -> dict[int, set[int]]:
    return {p.pk: set(p.organizations.values_list("pk", flat=True)) for p in partnerships}


BOUNDED = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.django_db
@settings(BOUNDED, max_examples=25)
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
        run = _recompute(tenant, ["referral", "decline"])
        referrals = list(Referral.objects.filter(network=tenant.network).select_related("client"))
        partnerships = _partnerships(tenant.partnership)
        expected = referral_rollups(referrals, partnerships, NOW)
        _assert_same(run, expected, _source_measures("referral"), "referral")
        declines = reference.decline_rollups(referrals, partnerships)
        _assert_same(run, declines, _source_measures("decline"), "decline")
        transaction.set_rollback(True)


def _routed_world(tenant):
    """The clinic-CBO partnership of the tenant, a backbone-CBO one, a clinic-backbone one
    and a three-party one with the other CBO; the backbone's hub, the pantry, the other
    CBO's program."""
    other_cbo = OrganizationFactory(
        network=tenant.network, name="Other Pantry", kind=Organization.Kind.CBO
    )
    partnerships = [
        tenant.partnership,
        PartnershipFactory(
            network=tenant.network,
            name="Hub + Food Bank",
            organizations=[tenant.backbone, tenant.cbo],
        ),
        PartnershipFactory(
            network=tenant.network, name="Clinic + Hub", organizations=[tenant.hco, tenant.backbone]
        ),
        PartnershipFactory(
            network=tenant.network,
            name="Clinic + Hub + Other",
            organizations=[tenant.hco, tenant.backbone, other_cbo],
        ),
    ]
    hub = ProgramFactory(organization=tenant.backbone, name="Hub")
    programs = [
        ProgramFactory(organization=tenant.cbo, name="Pantry"),
        ProgramFactory(organization=other_cbo, name="Other"),
    ]
    return partnerships, hub, programs


def _write_routed(specs, tenant, clients, hub, programs):
    for spec in specs:
        sent = START + timedelta(hours=spec["sent_hours"])
        client = clients[spec["client"]]
        parent = _referral(spec, tenant, client, hub, sent)
        _contacts(parent, spec["contacts"], sent + timedelta(hours=1), types=("phone",))
        for child in spec["children"]:
            at = sent + timedelta(hours=child["after_hours"])
            routed = _referral(
                {**child, "sender": "backbone"},
                tenant,
                client,
                programs[child["receiver"]],
                at,
                part_of=parent,
            )
            _contacts(routed, child["contacts"], at + timedelta(hours=1), types=("home-visit",))


@pytest.mark.django_db
@settings(BOUNDED, max_examples=25)
@given(specs=st.lists(routed_spec, max_size=6))
def test_routed_referral_rollups_match_python(tenant, specs):
    """Referrals routed through the backbone: the network counts each once (its top-level
    row), organizations their own rows, and partnerships a routed referral between its
    sender and the receiver of its latest routed referral (its children by their own
    pair) — for the referral measures and the declines by reason."""
    with transaction.atomic():
        partnerships, hub, programs = _routed_world(tenant)
        clients = _clients(tenant)
        _write_routed(specs, tenant, clients, hub, programs)
        run = _recompute(tenant, ["referral", "decline"])
        referrals = list(Referral.objects.filter(network=tenant.network).select_related("client"))
        members = _partnerships(*partnerships)
        expected = referral_rollups(referrals, members, NOW)
        _assert_same(run, expected, _source_measures("referral"), "referral")
        declines = reference.decline_rollups(referrals, members)
        _assert_same(run, declines, _source_measures("decline"), "decline")
        transaction.set_rollback(True)


def _total(run, measure, **scope) -> int:
    rows = Rollup.objects.filter(
        run=run, measure=measure, period_kind="month", breakdown="", **scope
    )
    return sum(r.numerator for r in rows)


@pytest.mark.django_db
def test_a_routed_referral_is_counted_once_for_the_network(tenant):
    """The clinic's referral to the hub, routed to the food bank and completed there: one
    referral sent and completed for the network, the clinic and the clinic-food bank
    partnership; the backbone received one and sent one; the food bank received one."""
    partnerships, hub, programs = _routed_world(tenant)
    (client,) = _clients(tenant)[:1]
    done = {
        "status": "completed",
        "sender": "hco",
        "accept_hours": 2,
        "close_hours": 48,
        "outcome": "need-met",
        "overdue": False,
    }
    parent = _referral(done, tenant, client, hub, START)
    _referral({**done, "sender": "backbone"}, tenant, client, programs[0], START, part_of=parent)
    run = _recompute(tenant, ["referral"])
    network = {"partnership": None, "organization": None}
    assert _total(run, "referrals_sent", **network) == 1
    assert _total(run, "referrals_completed", **network) == 1
    assert _total(run, "referrals_sent", partnership=None, organization=tenant.hco) == 1
    backbone = {"partnership": None, "organization": tenant.backbone}
    assert (
        _total(run, "referrals_sent", **backbone),
        _total(run, "referrals_received", **backbone),
    ) == (1, 1)
    assert _total(run, "referrals_received", partnership=None, organization=tenant.cbo) == 1
    clinic_cbo, hub_cbo, clinic_hub, three = partnerships
    assert _total(run, "referrals_sent", partnership=clinic_cbo) == 1
    assert _total(run, "referrals_completed", partnership=clinic_cbo) == 1
    assert _total(run, "referrals_sent", partnership=hub_cbo) == 1  # the routed one
    # Routed on to the food bank, the clinic's referral is no longer the clinic and the
    # hub's; the hub's routed one is not between them either.
    assert _total(run, "referrals_sent", partnership=clinic_hub) == 0
    assert _total(run, "referrals_sent", partnership=three) == 0


def _assessment(tenant, kind, client, org, when, completed, results):
    return Assessment.objects.create(
        instrument=instrument(
            "ahc-hrsn-core" if kind == "screening" else "self-sufficiency-matrix"
        ),
        client=client,
        organization=org,
        administered_by=tenant.hco_navigator,
        mode="in_person",
        status="completed" if completed else "in_progress",
        started_at=when,
        completed_at=when if completed else None,
        domain_results=results,
    )


def _anchored(**fields) -> dict:
    spec = {
        "client": 0,
        "receiver": 0,
        "sender": "hco",
        "sent_hours": 0,
        "status": "completed",
        "accept_hours": 1,
        "close_hours": 48,
        "outcome": "need-met",
        "contacts": 0,
        "overdue": False,
        "anchor": 0,
        "offset_hours": 2,
        "contact_hours": 5,
        "needs": set(),
    }
    return {**spec, **fields}


# The edges random examples rarely reach: an adult positive for food whose only contact
# within 60 days is on a referral entered in error (not a connection), and one a minute
# past the window; the food referral sent exactly 30 days after the screening (in time).
EDGES = {
    "screenings": [
        {
            "client": 0,
            "org": "hco",
            "hours": 100,
            "completed": True,
            "domains": {d: "positive" if d == "food" else "negative" for d in reference.HRSN},
            "needs": {"food"},
        }
    ],
    "matrices": [],
    "referrals": [
        _anchored(status="entered-in-error", contacts=1, contact_hours=24 * 60),
        _anchored(status="accepted", receiver=1, contacts=1, contact_hours=24 * 60 + 1),
        _anchored(offset_hours=24 * 30, needs={"food-insecurity"}),
    ],
}


@pytest.mark.django_db
@settings(BOUNDED, max_examples=20)
@example(**EDGES)
@given(
    screenings=st.lists(screening_spec, max_size=8),
    matrices=st.lists(matrix_spec, max_size=8),
    referrals=st.lists(anchored_referral_spec, max_size=8),
)
def test_screening_need_contact_ssm_and_national_rollups_match_python(
    tenant, foreign_tenant, screenings, matrices, referrals
):
    """Screenings (with their needs), Self-Sufficiency matrices and referrals dated from
    the screenings, with contacts: the screening, need, contact, ssm and national sources."""
    with transaction.atomic():
        outsider = OrganizationFactory(
            network=tenant.network, name="Walk-in Clinic", kind=Organization.Kind.HCO
        )
        other_cbo = OrganizationFactory(
            network=tenant.network, name="Other Pantry", kind=Organization.Kind.CBO
        )
        orgs = {"hco": tenant.hco, "cbo": tenant.cbo, "outsider": outsider}
        clients = _clients(tenant)
        # An HCO-run program too: a contact it records is not a community provider's.
        programs = [
            ProgramFactory(organization=tenant.cbo, name="Pantry"),
            ProgramFactory(organization=other_cbo, name="Other"),
            ProgramFactory(organization=tenant.hco, name="Clinic social work"),
        ]
        done = []
        for spec in screenings:
            when = START + timedelta(hours=spec["hours"])
            results = {d: {"status": s} for d, s in spec["domains"].items() if s is not None}
            a = _assessment(
                tenant,
                "screening",
                clients[spec["client"]],
                orgs[spec["org"]],
                when,
                spec["completed"],
                results,
            )
            Need.objects.bulk_create(
                [Need(assessment=a, domain=d, category=NEED_OF[d]) for d in spec["needs"]]
            )
            done.append(a)
        for spec in matrices:
            scores = {
                f"d{i}": {"status": "negative", **({} if s is None else {"score": s})}
                for i, s in enumerate(spec["scores"])
            }
            _assessment(
                tenant,
                "matrix",
                clients[spec["client"]],
                orgs[spec["org"]],
                START + timedelta(hours=spec["hours"]),
                spec["completed"],
                scores,
            )
        for spec in referrals:
            program = programs[spec["receiver"]]
            anchor = done[spec["anchor"] % len(done)] if done else None
            base = anchor.started_at if anchor else START + timedelta(hours=spec["sent_hours"])
            client = anchor.client if anchor else clients[spec["client"]]
            referral = _referral(
                spec,
                tenant,
                client,
                program,
                base + timedelta(hours=spec["offset_hours"]),
                needs=spec["needs"],
            )
            _contacts(referral, spec["contacts"], base + timedelta(hours=spec["contact_hours"]))
        # Another network's rows, which must not be counted here.
        (stranger,) = _clients(foreign_tenant)[:1]
        _assessment(
            foreign_tenant,
            "screening",
            stranger,
            foreign_tenant.hco,
            START,
            True,
            {d: {"status": "positive"} for d in reference.HRSN},
        )
        sources = ["screening", "need", "contact", "ssm", "national"]
        run = _recompute(tenant, sources)

        assessments = list(
            Assessment.objects.filter(organization__network=tenant.network)
            .select_related("client", "instrument")
            .prefetch_related("needs")
        )
        rows = list(
            Referral.objects.filter(network=tenant.network)
            .select_related("client", "receiver_organization")
            .prefetch_related("events", "needs")
        )
        partnerships = _partnerships(tenant.partnership)
        _assert_same(
            run,
            reference.screening_rollups(assessments, partnerships),
            _source_measures("screening"),
            "screening",
        )
        _assert_same(
            run,
            reference.need_rollups(assessments, partnerships),
            _source_measures("need"),
            "need",
        )
        _assert_same(
            run,
            reference.contact_rollups(rows, partnerships),
            _source_measures("contact"),
            "contact",
        )
        _assert_same(
            run,
            reference.ssm_rollups(assessments, partnerships),
            _source_measures("ssm"),
            "ssm",
        )
        national = reference.national_rollups(assessments, rows, partnerships)
        _assert_same(run, national, _source_measures("national"), "national")
        # The part of the national source a contact recomputes (its measures over the
        # screening rows alone) writes exactly the same rows for its measures.
        part = _recompute(tenant, [engine.NATIONAL_CONNECTED])
        connected = set(engine.source_measures(engine.NATIONAL_CONNECTED))
        assert connected and connected < _source_measures("national")
        _assert_same(part, national, connected, engine.NATIONAL_CONNECTED)
        assert not Rollup.objects.filter(run=part).exclude(measure__in=connected).exists()
        transaction.set_rollback(True)


GOALS = [g for g, _ in OutcomeMeasure.Goal.choices]
result_spec = st.fixed_dictionaries(
    {
        "measure": st.integers(0, 2),
        "client": st.integers(0, 5),
        "org": st.sampled_from(["hco", "cbo", "other"]),
        # Around the goal, to tell "below" from "at most" and "at least" from "above".
        "delta": st.sampled_from(["-1", "-0.0001", "0", "0", "0.0001", "2.5"]),
        # Days from 2025-12-20: month and quarter edges, and birthdays, fall inside.
        "day": st.integers(0, 190),
        "error": st.sampled_from([False, False, False, True]),
    }
)


@pytest.mark.django_db
@settings(BOUNDED, max_examples=20)
@given(
    goals=st.lists(st.sampled_from(GOALS), min_size=3, max_size=3),
    thresholds=st.lists(st.sampled_from(["7.9", "8", "20"]), min_size=3, max_size=3),
    results=st.lists(result_spec, max_size=16),
)
def test_outcome_rollups_match_python(tenant, foreign_tenant, goals, thresholds, results):
    """Outcome results of three measures of two partnerships (and one of another
    network): per measure, per measure by each client breakdown, for the network, the
    recording organization and the measure's partnership only."""
    with transaction.atomic():
        other_cbo = OrganizationFactory(
            network=tenant.network, name="Asthma Home Visits", kind=Organization.Kind.CBO
        )
        second = PartnershipFactory(
            network=tenant.network,
            name="Clinic + Home Visits",
            organizations=[tenant.hco, other_cbo],
        )
        orgs = {"hco": tenant.hco, "cbo": tenant.cbo, "other": other_cbo}
        measures = [
            OutcomeMeasure.objects.create(
                partnership=p,
                name=f"Measure {i}",
                unit="%",
                goal=goals[i],
                threshold=Decimal(thresholds[i]),
            )
            for i, p in enumerate([tenant.partnership, tenant.partnership, second])
        ]
        clients = _clients(tenant)
        seen = set()
        for spec in results:
            m, client = measures[spec["measure"]], clients[spec["client"]]
            day = date(2025, 12, 20) + timedelta(days=spec["day"])
            if (m.pk, client.pk, day) in seen and not spec["error"]:
                continue  # one counted result per measure, client and day
            if not spec["error"]:
                seen.add((m.pk, client.pk, day))
            OutcomeResult.objects.create(
                measure=m,
                client=client,
                organization=orgs[spec["org"]],
                recorded_by=tenant.hco_navigator,
                value=m.threshold + Decimal(spec["delta"]),
                observed_on=day,
                entered_in_error_at=NOW if spec["error"] else None,
            )
        foreign = OutcomeMeasure.objects.create(
            partnership=foreign_tenant.partnership,
            name="Elsewhere",
            unit="%",
            goal="below",
            threshold=Decimal(8),
        )
        OutcomeResult.objects.create(
            measure=foreign,
            client=foreign_tenant.client,
            organization=foreign_tenant.hco,
            recorded_by=foreign_tenant.hco_navigator,
            value=Decimal(7),
            observed_on=date(2026, 1, 5),
        )
        run = _recompute(tenant, ["outcome"])
        found = list(
            OutcomeResult.objects.filter(
                measure__partnership__network=tenant.network
            ).select_related("client", "measure")
        )
        _assert_same(run, reference.outcome_rollups(found), _source_measures("outcome"), "outcome")
        transaction.set_rollback(True)
