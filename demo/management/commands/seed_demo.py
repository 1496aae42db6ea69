from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo import network as demo
from demo.payments import seed_payments
from directory.models import Program
from directory.services import ProgramData, program_create
from organizations.models import Organization, Partnership, PartnershipDocument
from organizations.services import (
    membership_add,
    network_get_or_create,
    organization_get_or_create,
    partnership_get_or_create,
)


class Command(BaseCommand):
    help = "Load the demo network (idempotent). Refuses when DEBUG is off unless --force."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="load even with DEBUG off (never in production)"
        )

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo has known passwords. "
                "Use --force only on a throwaway installation."
            )
        created = 0
        network = network_get_or_create(name=demo.NETWORK)
        created += network.created
        orgs: dict[str, Organization] = {}
        for name, kind, sub_kind in demo.ORGANIZATIONS:
            outcome = organization_get_or_create(
                network=network.obj, name=name, kind=kind, sub_kind=sub_kind
            )
            orgs[name] = outcome.obj
            created += outcome.created
        for email, first, last, roles in demo.USERS:
            for org_name, role in roles:
                outcome = membership_add(
                    organization=orgs[org_name],
                    email=email,
                    role=role,
                    password=demo.DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                )
                created += outcome.created
                user = outcome.obj.user
                if role == "org_admin":
                    _, device_created = TOTPDevice.objects.get_or_create(
                        user=user,
                        name="Demo authenticator",
                        defaults={"key": demo.DEMO_TOTP_KEY_HEX, "confirmed": True},
                    )
                    created += device_created
        for name, members, description in demo.PARTNERSHIPS:
            outcome = partnership_get_or_create(
                network=network.obj,
                name=name,
                organizations=[orgs[n] for n in members],
                description=description,
                start_date=date(2026, 1, 1),
            )
            if outcome.created:
                created += 1
                PartnershipDocument.objects.create(
                    partnership=outcome.obj,
                    kind=PartnershipDocument.Kind.DSA,
                    title="Data-sharing agreement",
                    signed_on=date(2025, 12, 15),
                )
                PartnershipDocument.objects.create(
                    partnership=outcome.obj,
                    kind=PartnershipDocument.Kind.BAA,
                    title="Business associate agreement",
                    signed_on=date(2025, 12, 15),
                )
        for spec in demo.PROGRAMS:
            fields = dict(spec)
            org = orgs[fields.pop("organization")]
            if not Program.objects.filter(organization=org, name=fields["name"]).exists():
                program_create(organization=org, data=ProgramData(**fields), actor=None)
                created += 1
        # Each partnership covers its community organizations' programs.
        for name, members, _ in demo.PARTNERSHIPS:
            partnership = Partnership.objects.get(network=network.obj, name=name)
            if not partnership.programs.exists():
                partnership.programs.set(
                    Program.objects.filter(
                        organization__in=[orgs[n] for n in members],
                        organization__kind=Organization.Kind.CBO,
                    )
                )
                created += 1
        created += _seed_history(network.obj, orgs)
        created += _seed_community_to_clinic(network.obj, orgs)
        created += seed_payments(network.obj)
        self.stdout.write(
            f"Demo network {demo.NETWORK}: "
            + (f"{created} record(s) created." if created else "already loaded, nothing changed.")
        )
        self.stdout.write(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for email, _, _, roles in demo.USERS:
            what = "; ".join(f"{role} at {org}" for org, role in roles)
            self.stdout.write(f"  {email:42} {what}")
        self.stdout.write(
            "Admins sign in with a second factor: `python manage.py demo_totp` prints the code."
        )


# Why the history's declined referrals were declined, in turn (the reasons networks see
# most: full programs, eligibility, reach), so "Declined, by reason" has several rows.
_DECLINES = [
    ("no-capacity", "The program is full this month."),
    ("outside-service-area", "The client lives outside our service area."),
    ("not-eligible", "Over the program's income limit."),
    ("no-capacity", ""),
    ("unable-to-contact", "Three calls and a text, no answer."),
    ("referred-elsewhere", "The county's program fits better; we passed it on."),
]


def _seed_history(network, orgs: dict[str, Organization]) -> int:
    """Screenings and referrals over the past months, so every measure chart shows something.
    Made through the real services, then dated back. Runs once (its clients mark it)."""
    from datetime import timedelta

    from django.utils import timezone

    from assessments.engine import ItemAnswer
    from assessments.models import Assessment, Instrument
    from assessments.services import assessment_record
    from clients.models import Client
    from organizations.models import User
    from referrals.models import Notification, Referral, ReferralEvent
    from referrals.services import referral_record_contact, referral_send, referral_transition

    if Client.objects.filter(network=network, email__endswith=demo.HISTORY_EMAIL_DOMAIN).exists():
        return _seed_outcomes(network)
    instrument = Instrument.objects.filter(key="ahc-hrsn-core", is_current=True).first()
    users = {u.email: u for u in User.objects.filter(email__endswith="@demo.linkage.test")}
    programs = {
        need: Program.objects.get(organization__network=network, name=name)
        for need, (name, _, _) in demo.HISTORY_PROGRAMS.items()
    }
    receivers = sorted({p.organization_id for p in programs.values()})
    races = [c for c, _ in Client.Race.choices]
    languages = ["en", "en", "es", "en", "zh", "es", "vi", "en", "ar"]
    insurance = ["medicaid", "medicare", "commercial", "medicaid", "uninsured", "dual"]
    now = timezone.now()
    n_referral = n_declined = 0
    for i in range(demo.HISTORY_CLIENTS):
        clinic_name, navigator_email = demo.HISTORY_CLINICS[i % 2]
        clinic, navigator = orgs[clinic_name], users[navigator_email]
        age = [8, 34, 52, 70, 45, 27, 81, 16, 60][i % 9]
        client = Client.objects.create(
            network=network,
            created_by_organization=clinic,
            created_by=navigator,
            given_name=f"Demo{i}",
            family_name=["Rivera", "Chen", "Johnson", "Nguyen", "Haddad", "Smith"][i % 6],
            date_of_birth=(now - timedelta(days=365 * age + 40 + i)).date(),
            email=f"client{i}@{demo.HISTORY_EMAIL_DOMAIN}",
            preferred_language=languages[i % len(languages)],
            race=races[(i * 5) % len(races)] if i % 4 else "2106-3",
            ethnicity="2135-2" if i % 3 == 0 else "2186-5",
            insurance_type=insurance[i % len(insurance)],
        )
        _demo_release(
            client,
            organization=clinic,
            staff=navigator,
            signer=f"Demo{i}",
            since=now - timedelta(days=demo.HISTORY_DAYS + 5),
            until=now + timedelta(days=200),
            recipients=receivers,
        )
        needs = [
            k for j, k in enumerate(["food", "housing", "transport"]) if (i + j) % (j + 2) == 0
        ]
        answers = dict(demo.AHC_NEGATIVE)
        for need in needs:
            answers.update(demo.AHC_POSITIVE[need])
        # Dated back: day 0 is the screening, spread over the past HISTORY_DAYS.
        base = now - timedelta(
            days=demo.HISTORY_DAYS - (i * demo.HISTORY_DAYS) // demo.HISTORY_CLIENTS
        )
        if instrument is not None:
            assessment = assessment_record(
                client=client,
                organization=clinic,
                instrument=instrument,
                mode="in_person",
                actor=navigator,
                answers={k: ItemAnswer(codes=v) for k, v in answers.items()},
            )
            Assessment.objects.filter(pk=assessment.pk).update(
                started_at=base, completed_at=base, rescreen_due_at=base + timedelta(days=365)
            )
        for need in needs:
            _, receiver_email, code = demo.HISTORY_PROGRAMS[need]
            program, worker = programs[need], users[receiver_email]
            referral = referral_send(
                client=client,
                program=program,
                needs=[code],
                sender_organization=clinic,
                sender_user=navigator,
            )
            path, outcome = demo.HISTORY_PATHS[n_referral % len(demo.HISTORY_PATHS)]
            n_referral += 1
            receiver = program.organization
            sent = base + timedelta(days=1, hours=n_referral % 5)
            accepted = sent + timedelta(days=1 + n_referral % 4)
            closed = accepted + timedelta(days=4 + (n_referral * 3) % 40)
            stamps = {"sent_at": sent, "created_at": sent, "updated_at": sent}
            if path == "reject":
                decline_reason, why = _DECLINES[n_declined % len(_DECLINES)]
                n_declined += 1
                referral_transition(
                    referral_id=referral.pk,
                    move="reject",
                    actor=worker,
                    organization=receiver,
                    decline_reason=decline_reason,
                    reason=why,
                )
                stamps.update(closed_at=accepted)
            elif path == "cancel":
                referral_transition(
                    referral_id=referral.pk,
                    move="cancel",
                    actor=navigator,
                    organization=clinic,
                    reason="Client moved away",
                )
                stamps.update(closed_at=accepted)
            elif path != "open":
                referral_transition(
                    referral_id=referral.pk, move="accept", actor=worker, organization=receiver
                )
                referral_record_contact(
                    referral=referral,
                    actor=worker,
                    organization=receiver,
                    contact_type=["phone", "text", "in-person", "home-visit"][n_referral % 4],
                    successful=path != "fail",
                )
                stamps.update(accepted_at=accepted)
                if path == "complete":
                    referral_transition(
                        referral_id=referral.pk,
                        move="complete",
                        actor=worker,
                        organization=receiver,
                        outcome=outcome,
                    )
                    stamps.update(closed_at=closed)
                elif path == "fail":
                    referral_transition(
                        referral_id=referral.pk,
                        move="fail",
                        actor=worker,
                        organization=receiver,
                        reason="Unable to contact",
                    )
                    stamps.update(closed_at=closed)
            if "closed_at" not in stamps:
                # Still open: its due dates fall in the past, as they would have.
                stamps.update(
                    ack_due_at=sent + timedelta(days=2), update_due_at=accepted + timedelta(days=7)
                )
            Referral.objects.filter(pk=referral.pk).update(**stamps)
            ReferralEvent.objects.filter(referral=referral, kind=ReferralEvent.Kind.CONTACT).update(
                occurred_at=accepted + timedelta(hours=3)
            )
            ReferralEvent.objects.filter(referral=referral).exclude(
                kind=ReferralEvent.Kind.CONTACT
            ).update(occurred_at=sent)
    _seed_capacity_crunch(programs["housing"], users, now)
    # Months-old news: the history's notifications count as read and already emailed, so
    # neither the bell nor the worker (which claims on emailed_at) replays them.
    Notification.objects.filter(referral__client__email__endswith=demo.HISTORY_EMAIL_DOMAIN).update(
        read_at=now, emailed_at=now
    )
    return demo.HISTORY_CLIENTS + _seed_outcomes(network)


# Last month the eviction fund ran out of money: it declined what came in for lack of
# capacity (the commonest reason programs decline), which "Declined, by reason" shows.
CRUNCH_DECLINES = 14


def _seed_capacity_crunch(program, users, now) -> None:
    """Referrals to `program` sent last month and declined for no capacity, one each for
    history clients without an open referral to it (through the services, dated back)."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from clients.models import Client
    from referrals.models import Referral, ReferralEvent
    from referrals.services import referral_send, referral_transition
    from referrals.workflow import OPEN

    _, receiver_email, code = demo.HISTORY_PROGRAMS["housing"]
    worker = users[receiver_email]
    network = program.organization.network
    clinics = {
        Organization.objects.get(network=network, name=name): users[email]
        for name, email in demo.HISTORY_CLINICS
    }
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    start = timezone.make_aware(datetime.combine(last_month.replace(day=2), time.min))
    candidates = (
        Client.objects.filter(
            network=network,
            email__endswith=demo.HISTORY_EMAIL_DOMAIN,
            created_by_organization__in=list(clinics),
        )
        .exclude(referrals__program=program, referrals__status__in=OPEN)
        .order_by("pk")
    )
    for n, client in enumerate(candidates[:CRUNCH_DECLINES]):
        clinic = client.created_by_organization
        referral = referral_send(
            client=client,
            program=program,
            needs=[code],
            sender_organization=clinic,
            sender_user=clinics[clinic],
        )
        referral_transition(
            referral_id=referral.pk,
            move="reject",
            actor=worker,
            organization=program.organization,
            decline_reason=Referral.DeclineReason.NO_CAPACITY,
            reason="The fund is spent until next month's allocation.",
        )
        sent = start + timedelta(days=n * 25 // CRUNCH_DECLINES, hours=9 + n % 6)
        Referral.objects.filter(pk=referral.pk).update(
            sent_at=sent, created_at=sent, updated_at=sent, closed_at=sent + timedelta(hours=5)
        )
        ReferralEvent.objects.filter(referral=referral).update(occurred_at=sent)


# Outcome measures two partnerships follow, each reported by its clinic for the clinic's
# own history clients: (partnership, who defines it, recording clinic, who records, the
# measure's fields, (first value, its spread, change per result, bound, rounding)).
# HbA1c's LOINC code is 4548-4 (Hemoglobin A1c/Hemoglobin.total in Blood, as listed in
# HL7's vulcan-rwd ExampleHbA1cTestCodes value set); the Asthma Control Test is left
# without one.
_OUTCOMES = [
    (
        "Eastside Clinic + Food Bank: Food as Medicine",
        "clinic.admin@demo.linkage.test",
        "Eastside Community Clinic",
        "clinic.coordinator@demo.linkage.test",
        {
            "name": "HbA1c",
            "loinc_code": "4548-4",
            "unit": "%",
            "goal": "below",
            "threshold": Decimal("8"),
            "description": "The clinic's HbA1c lab results for patients in the food-as-"
            "medicine program; the partnership's goal is a result below 8 %.",
        },
        (Decimal("6.6"), Decimal("4.0"), Decimal("-0.3"), Decimal("5.4"), Decimal("0.1")),
    ),
    (
        "St. Brigid + County Health Department: Asthma and Diabetes",
        "backbone.admin@demo.linkage.test",
        "St. Brigid Health System",
        "hospital.coordinator@demo.linkage.test",
        {
            "name": "Asthma Control Test score",
            "loinc_code": "",
            "unit": "points",
            "goal": "at-least",
            "threshold": Decimal("20"),
            "description": "The Asthma Control Test (5 to 25 points) at follow-up visits "
            "after the home-visit program; 20 or more is well controlled.",
        },
        (Decimal("10"), Decimal("14"), Decimal("2"), Decimal("25"), Decimal("1")),
    ),
]


def _seed_outcomes(network) -> int:
    """The outcome measures above, with a result every 45 days for each history client of
    the recording clinic, from a week after their screening to today (through the real
    services, so the consent check and the audit trail apply). Runs once per measure (the
    measure marks it)."""
    from datetime import timedelta

    from django.utils import timezone

    from assessments.models import Assessment
    from metrics.models import OutcomeMeasure
    from metrics.outcomes.services import (
        OutcomeRow,
        outcome_measure_create,
        outcome_results_record,
    )
    from organizations.models import Partnership, User

    today = timezone.localdate()
    created = 0
    for partnership_name, definer, clinic_name, recorder, fields, values in _OUTCOMES:
        partnership = Partnership.objects.filter(network=network, name=partnership_name).first()
        done = OutcomeMeasure.objects.filter(partnership=partnership, name=fields["name"])
        if partnership is None or done.exists():
            continue
        clinic = partnership.organizations.get(name=clinic_name)
        measure = outcome_measure_create(
            partnership=partnership,
            organization=clinic,
            actor=User.objects.get(email=definer),
            data=fields,
        )
        created += 1
        first, spread, step, bound, quantum = values
        screenings = Assessment.objects.filter(
            client__created_by_organization=clinic,
            client__email__endswith=demo.HISTORY_EMAIL_DOMAIN,
            completed_at__isnull=False,
        )
        screened = dict(screenings.values_list("client_id", "completed_at"))
        rows = []
        for k, (client_id, moment) in enumerate(sorted(screened.items())):
            value = first + spread * ((k * 37) % 40) / 40
            day = timezone.localdate(moment) + timedelta(days=7)
            while day <= today:
                rows.append(
                    OutcomeRow(
                        client_number=str(client_id),
                        value=str(value.quantize(quantum)),
                        observed_on=day.isoformat(),
                    )
                )
                value = min(value + step, bound) if step > 0 else max(value + step, bound)
                day += timedelta(days=45)
        reports = outcome_results_record(
            measure=measure,
            organization=clinic,
            actor=User.objects.get(email=recorder),
            rows=rows,
        )
        created += sum(r.recorded for r in reports)
    return created


def _seed_community_to_clinic(network, orgs: dict[str, Organization]) -> int:
    """A few referrals the other way round: the food bank refers its clients to the
    clinic's program (through the real services). Runs once (its clients mark it)."""
    from datetime import timedelta

    from django.utils import timezone

    from clients.models import Client
    from organizations.models import User
    from referrals.services import referral_send, referral_transition

    if Client.objects.filter(network=network, email__endswith=demo.COMMUNITY_EMAIL_DOMAIN).exists():
        return 0
    bank = orgs["Riverbend Food Bank"]
    clinic = orgs["Eastside Community Clinic"]
    staff = User.objects.get(email="foodbank.staff@demo.linkage.test")
    coordinator = User.objects.get(email="clinic.coordinator@demo.linkage.test")
    program = Program.objects.get(
        organization=clinic, name="Nutrition and Diabetes Prevention Visits"
    )
    now = timezone.now()
    for i, (given, family, age, moves) in enumerate(demo.COMMUNITY_REFERRALS):
        client = Client.objects.create(
            network=network,
            created_by_organization=bank,
            created_by=staff,
            given_name=given,
            family_name=family,
            date_of_birth=(now - timedelta(days=365 * age + 60 + i)).date(),
            email=f"{given.lower()}@{demo.COMMUNITY_EMAIL_DOMAIN}",
            preferred_language="es" if i % 2 else "en",
        )
        _demo_release(
            client,
            organization=bank,
            staff=staff,
            signer=f"{given} {family}",
            since=now - timedelta(days=3),
            until=now + timedelta(days=365),
            recipients=[clinic],
        )
        referral = referral_send(
            client=client,
            program=program,
            needs=["food-insecurity"],
            sender_organization=bank,
            sender_user=staff,
            reason="Comes to the pantry weekly; asked about seeing a doctor about blood sugar.",
        )
        for move in moves:
            referral_transition(
                referral_id=referral.pk,
                move=move,
                actor=coordinator,
                organization=clinic,
                outcome="need-met" if move == "complete" else "",
            )
    return len(demo.COMMUNITY_REFERRALS)


def _demo_release(client, *, organization, staff, signer, since, until, recipients):
    """An e-signed release covering what a referral carries, naming `recipients`."""
    from consent.models import Release

    release = Release.objects.create(
        client=client,
        organization=organization,
        captured_by=staff,
        purpose=Release.Purpose.CARE_COORDINATION,
        method=Release.Method.ESIGNATURE,
        esignature_name=signer,
        esignature_confirmed=True,
        esignature_signed_at=since,
        staff_present=staff,
        effective_at=since,
        expires_at=until,
        covers_demographics=True,
        covers_social_needs=True,
        covers_referrals=True,
    )
    release.recipients.set(recipients)
    return release
