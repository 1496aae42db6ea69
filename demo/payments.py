"""A year of payment statements in the demo network, made from the demo's own referral
history: a fee-for-service term (Eastside pays RideWell per completed ride referral) and
a case-rate term (Eastside pays the Food Bank per client served, 80% of months 1-6 and 60%
of months 7-12 paid by the state's innovation fund).

Dates are relative to the demo's clock (today, as the history is), so the statements always
cover the twelve months before the current one. Built through payments.services (generate →
submit → approve → paid; the latest month left submitted, one disputed), then dated back as
the history is. Idempotent: a term is found by its name in its partnership, and a month that
already has a statement is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from organizations.models import Network, Organization, Partnership, User

FUNDER = "State Medicaid innovation fund"


@dataclass(frozen=True)
class DemoTerm:
    partnership: str
    name: str
    kind: str
    payer: tuple[str, str]  # organization, the user who approves and pays
    payee: tuple[str, str]  # organization, the user who generates and submits
    program: str
    # The term starts this many months before the current month; statements run from its
    # first month to last month.
    months_back: int
    fields: dict = field(default_factory=dict)
    subsidies: tuple[tuple[int, int, Decimal], ...] = ()
    # Which statement (index from the oldest) the payer disputes, if it has lines.
    disputed: int | None = None


TERMS = [
    DemoTerm(
        # Eastside's patients are the ones the history sends for rides: a term pays only
        # for referrals its partnership's organizations sent (payments.statements).
        partnership="Eastside Clinic + RideWell",
        name="Rides to appointments: fee per completed referral",
        kind="fee_for_service",
        payer=("Eastside Community Clinic", "clinic.admin@demo.linkage.test"),
        payee=("RideWell Community Transportation", "rides.staff@demo.linkage.test"),
        program="Rides to Medical Appointments",
        months_back=12,
        fields={
            "unit_amount": Decimal("35.00"),
            "amount_need_met": Decimal("40.00"),
            "amount_attempted": Decimal("15.00"),
        },
        disputed=9,
    ),
    DemoTerm(
        partnership="Eastside Clinic + Food Bank: Food as Medicine",
        name="Food as Medicine: case rate per client served",
        kind="case_rate",
        payer=("Eastside Community Clinic", "clinic.admin@demo.linkage.test"),
        payee=("Riverbend Food Bank", "foodbank.admin@demo.linkage.test"),
        program="Community Pantry",
        # Eleven months back: its sixth month (the last at 80%) falls where the history's
        # completed referrals are, whatever day of the month the demo is seeded on.
        months_back=11,
        fields={
            "unit_amount": Decimal("2900.00"),
            "contracted_volume": 120,
            "escalator_percent": Decimal("3.00"),
        },
        subsidies=((1, 6, Decimal("80.00")), (7, 12, Decimal("60.00"))),
    ),
]


def _months_ago(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _at(day: date, hour: int) -> datetime:
    moment = timezone.make_aware(datetime.combine(day, time(hour)))
    return min(moment, timezone.now())


def seed_payments(network: Network) -> int:
    """The demo's payment terms and their statements (what was created: 0 on a re-run)."""
    from payments import services
    from payments.models import PaymentTerm, Statement, SubsidyShare
    from payments.pathways import pathways_install

    pathways_install(network)  # the starter pathways (idempotent; not counted as new work)
    this_month = timezone.localdate().replace(day=1)
    created = 0
    for spec in TERMS:
        partnership = Partnership.objects.filter(network=network, name=spec.partnership).first()
        if partnership is None:
            continue
        payer = Organization.objects.get(network=network, name=spec.payer[0])
        payee = Organization.objects.get(network=network, name=spec.payee[0])
        payer_user = User.objects.get(email=spec.payer[1])
        payee_user = User.objects.get(email=spec.payee[1])
        start = _months_ago(this_month, spec.months_back)
        term = PaymentTerm.objects.filter(partnership=partnership, name=spec.name).first()
        if term is None:
            term = PaymentTerm.objects.create(
                partnership=partnership,
                name=spec.name,
                kind=spec.kind,
                payer=payer,
                payee=payee,
                effective_from=start,
                **spec.fields,
            )
            term.programs.set(payee.programs.filter(name=spec.program))
            for month_from, month_to, percent in spec.subsidies:
                SubsidyShare.objects.create(
                    term=term,
                    funder_name=FUNDER,
                    month_from=month_from,
                    month_to=month_to,
                    percent=percent,
                )
            created += 1
        months = [_months_ago(this_month, n) for n in range(spec.months_back, 0, -1)]
        for index, month in enumerate(months):
            if Statement.objects.filter(
                term=term, period_start__gte=month, period_start__lt=month + timedelta(days=31)
            ).exists():
                continue
            statement = services.statement_generate(
                term=term, month=month, actor=payee_user, organization=payee
            )
            services.statement_submit(
                statement_id=statement.pk, actor=payee_user, organization=payee
            )
            created += 1
            after = statement.period_end + timedelta(days=1)
            stamps = {"generated_at": _at(after + timedelta(days=2), 10)}
            stamps["submitted_at"] = stamps["generated_at"]
            if index == len(months) - 1:
                # Last month's statement waits for the payer.
                Statement.objects.filter(pk=statement.pk).update(**stamps)
                continue
            first_line = statement.lines.order_by("position").first()
            if index == spec.disputed and first_line is not None:
                services.statement_dispute(
                    statement_id=statement.pk,
                    comments={
                        first_line.pk: "Our discharge log shows the patient drove "
                        "themselves that day: please check this ride."
                    },
                    actor=payer_user,
                    organization=payer,
                )
                stamps["decided_at"] = _at(after + timedelta(days=9), 15)
                Statement.objects.filter(pk=statement.pk).update(**stamps)
                continue
            services.statement_approve(
                statement_id=statement.pk, actor=payer_user, organization=payer
            )
            services.statement_mark_paid(
                statement_id=statement.pk,
                paid_on=min(after + timedelta(days=20), timezone.localdate()),
                reference=f"ACH-{term.pk}-{month:%Y%m}",
                actor=payer_user,
                organization=payer,
            )
            stamps["decided_at"] = _at(after + timedelta(days=9), 15)
            Statement.objects.filter(pk=statement.pk).update(**stamps)
    return created
