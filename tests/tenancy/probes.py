"""How to build each URL parameter from the victim tenant's real objects.

A new route with a new object parameter adds one line here (and the harness refuses to run
it until then). Values are callables so that only the probes a route uses are built.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import HsdsImportFactory, ProgramFactory, assessment_for, referral_for


def victim_program(victim):
    """The victim CBO's program, made once, before any route is requested, so list pages
    (the directory search) could show it if they leaked."""
    from directory.models import Program

    program = Program.objects.filter(organization=victim.cbo, name=_program_name(victim)).first()
    return program or ProgramFactory(organization=victim.cbo, name=_program_name(victim))


def _program_name(victim) -> str:
    return f"{victim.cbo.name} Hidden Pantry"


def victim_data(victim) -> dict:
    """What list and summary pages could show if they leaked, made before any route is
    requested (URL order would otherwise reach the inbox before the first referral): an
    open referral with a note only it carries, overdue and escalated (the stalled lists),
    its notification, an assessment, and a finished rollup of the victim's network."""
    from django.utils import timezone

    from metrics.models import RollupRun
    from metrics.services import rollup_run_execute_now
    from referrals.models import Referral

    referral = Referral.objects.filter(reason=_referral_note(victim)).first() or referral_for(
        victim, reason=_referral_note(victim)
    )
    now = timezone.now()
    Referral.objects.filter(pk=referral.pk).update(
        ack_due_at=now - timedelta(days=5), overdue_count=2, escalated_at=now
    )
    assessment = assessment_for(victim.client, organization=victim.hco)
    _duplicate_of(victim)  # the victim's possible-duplicates queue is not empty
    _statement_of(victim)  # the victim's payment statements list is not empty
    _pathway_instance_of(victim)  # nor its pathways list
    if not RollupRun.objects.filter(network=victim.network, status="done").exists():
        rollup_run_execute_now(run_id=RollupRun.objects.create(network=victim.network).pk)
    return {"referral": referral, "assessment": assessment}


def _referral_note(victim) -> str:
    return f"{victim.cbo.name} referral note"


def page_probes(victim) -> dict:
    program = victim_program(victim)
    data = victim_data(victim)
    # Made before any page is probed, so a list page that leaked it would show it.
    agreement = _agreement_of(victim)
    return {
        "partnership_id": lambda: victim.partnership.pk,
        # An agreement on file for the victim's partnership, with its file.
        "document_id": lambda: agreement,
        "client_id": lambda: victim.client.pk,
        "release_id": lambda: victim.release.pk,
        # A release link made for the victim's client (consent by link).
        "link_id": lambda: _release_link_of(victim),
        # The self-referral page is public by design and shows its network's name: an
        # unknown network's slug must answer 404, not another network's page.
        "network_slug": lambda: "no-such-network",
        # The victim's CBO's program, and an HSDS import (built here: the Tenant has none).
        "program_id": lambda: program.pk,
        "import_id": lambda: HsdsImportFactory(organization=victim.cbo).pk,
        "organization_id": lambda: victim.cbo.pk,
        "key_id": lambda: _api_key_of(victim),
        "assessment_id": lambda: data["assessment"].pk,
        "step": lambda: 1,
        # The victim's HCO-to-CBO referral, and a notification it gave the CBO's staff.
        "referral_id": lambda: data["referral"].pk,
        "notification_id": lambda: _notification_of(victim),
        # An open possible-duplicates entry about the victim's client.
        "duplicate_id": lambda: _duplicate_of(victim),
        # A holiday on the victim network's reminder calendar.
        "holiday_id": lambda: _holiday_of(victim),
        # The victim HCO's webhook endpoint and FHIR subscription (interop).
        "endpoint_id": lambda: _webhook_of(victim),
        "subscription_id": lambda: _subscription_of(victim),
        # A Procedure the victim CBO's system POSTed for the victim referral (FHIR).
        "procedure_id": lambda: _reported_procedure_of(data["referral"]),
        # The victim's HCO-pays-CBO payment term, its January 2031 statement and its line,
        # and the victim HCO's open housing pathway for the victim's client (payments).
        "term_id": lambda: _statement_of(victim).term_id,
        "statement_id": lambda: _statement_of(victim).pk,
        "line_id": lambda: _statement_of(victim).lines.get().pk,
        "pathway_instance_id": lambda: _pathway_instance_of(victim),
        "uidb64": lambda: urlsafe_base64_encode(force_bytes(victim.hco_admin.pk)),
        # A well-formed token the outsider could not have: the page must say the link is dead.
        "token": lambda: default_token_generator.make_token(victim.hco_admin)[:-3] + "xyz",
    }


AGREEMENT_TITLE = "Victim data-sharing agreement"


def _agreement_of(victim) -> int:
    from django.core.files.base import ContentFile

    from organizations.models import PartnershipDocument

    document, made = PartnershipDocument.objects.get_or_create(
        partnership=victim.partnership,
        title=AGREEMENT_TITLE,
        defaults={"kind": PartnershipDocument.Kind.DSA},
    )
    if made:
        document.file.save("victim-agreement.pdf", ContentFile(b"%PDF-1.4 victim"), save=True)
    return document.pk


def _statement_of(victim):
    from payments.models import PaymentTerm, Statement, StatementLine

    term, _ = PaymentTerm.objects.get_or_create(
        partnership=victim.partnership,
        name="Victim pantry fee",
        defaults={
            "kind": PaymentTerm.Kind.FEE_FOR_SERVICE,
            "payer": victim.hco,
            "payee": victim.cbo,
            "effective_from": date(2031, 1, 1),
            "unit_amount": Decimal("100.00"),
        },
    )
    statement, made = Statement.objects.get_or_create(
        term=term,
        period_start=date(2031, 1, 1),
        adjusts=None,
        defaults={
            "period_end": date(2031, 1, 31),
            "subtotal": Decimal("100.00"),
            "total": Decimal("100.00"),
        },
    )
    if made:
        StatementLine.objects.create(
            statement=statement,
            position=1,
            kind=StatementLine.Kind.REFERRAL,
            date=date(2031, 1, 5),
            client=victim.client,
            description="Victim pantry referral",
            quantity=1,
            unit_amount=Decimal("100.00"),
            amount=Decimal("100.00"),
        )
    return statement


def _pathway_instance_of(victim) -> int:
    from payments.models import Pathway, PathwayInstance
    from payments.pathways import pathways_install

    pathways_install(victim.network)
    instance, _ = PathwayInstance.objects.get_or_create(
        pathway=Pathway.objects.get(network=victim.network, code="housing"),
        client=victim.client,
        organization=victim.hco,
        status=PathwayInstance.Status.OPEN,
    )
    return instance.pk


def _duplicate_of(victim) -> int:
    from clients.models import PossibleDuplicate
    from tests.factories import ClientFactory

    entry = PossibleDuplicate.objects.filter(match=victim.client).first()
    if entry is None:
        entry = PossibleDuplicate.objects.create(
            client=ClientFactory(created_by_organization=victim.hco, created_by=victim.hco_staff),
            match=victim.client,
            strength="possible",
            reason="Same given name, date of birth and ZIP",
            created_by_organization=victim.hco,
            created_by=victim.hco_staff,
        )
    return entry.pk


def _release_link_of(victim) -> int:
    from consent.links import release_link_create
    from consent.models import ConsentLink

    link = ConsentLink.objects.filter(client=victim.client).first()
    if link is None:
        link, _url = release_link_create(
            client=victim.client,
            organization=victim.hco,
            actor=victim.hco_navigator,
            recipients=[victim.cbo],
            all_network_partners=False,
            categories=["demographics"],
            purpose="care_coordination",
            channel="email",
        )
    return link.pk


def _notification_of(victim) -> int:
    from referrals.models import Notification

    return Notification.objects.filter(user=victim.cbo_staff).values_list("pk", flat=True)[0]


def _api_key_of(victim) -> int:
    from apikeys.services import api_key_create

    return api_key_create(organization=victim.hco, role="staff", name="Victim EHR")[0].pk


def _webhook_of(victim) -> int:
    from interop.models import WebhookEndpoint

    # Made directly: the service would resolve the (unresolvable) host name.
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        organization=victim.hco,
        name="Victim EHR hook",
        defaults={"url": "https://ehr.victim.invalid/hook", "secret": "whsec_victim"},
    )
    return endpoint.pk


def _subscription_of(victim) -> int:
    from interop.models import Subscription
    from interop.subscriptions.topic import TOPIC_URL

    subscription, _ = Subscription.objects.get_or_create(
        organization=victim.hco,
        endpoint="https://ehr.victim.invalid/fhir-hook",
        defaults={"topic": TOPIC_URL},
    )
    return subscription.pk


def _reported_procedure_of(referral) -> str:
    from interop.models import ReportedProcedure

    reported, _ = ReportedProcedure.objects.get_or_create(
        referral=referral,
        organization_id=referral.receiver_organization_id,
        defaults={"resource": {"resourceType": "Procedure", "status": "completed"}},
    )
    return reported.fhir_id


def _holiday_of(victim) -> int:
    from referrals.models import NetworkHoliday

    holiday, _ = NetworkHoliday.objects.get_or_create(
        network=victim.network, date=date(2030, 12, 25), defaults={"name": "Victim Holiday"}
    )
    return holiday.pk


def admin_probes(victim) -> dict:
    partnership = victim.partnership
    return {
        "object_id": lambda: partnership.pk,
        "pk": lambda: partnership.pk,
        "id": lambda: victim.hco_admin.pk,
        "content_type_id": lambda: ContentType.objects.get_for_model(partnership).pk,
        "app_label": lambda: "organizations",
        "url": lambda: f"organizations/partnership/{partnership.pk}/change/",
    }


# Strings only the victim HCO's admins see: its API key's label, its webhook's and FHIR
# subscription's endpoints (made by the probes above when a route needs them).
ADMIN_ONLY = ["Victim EHR", "ehr.victim.invalid"]


def _client_strings(victim) -> list[str]:
    client = victim.client
    return [client.given_name, client.family_name, client.email, _referral_note(victim)]


def _users(victim) -> list:
    return [
        victim.backbone_admin,
        victim.hco_admin,
        victim.hco_navigator,
        victim.hco_staff,
        victim.cbo_staff,
    ]


def sentinels(victim) -> list[str]:
    """Strings that appear only in the victim tenant's data: what no member of another
    network may see anywhere."""
    users = _users(victim)
    return [
        *_client_strings(victim),
        victim.network.name,
        victim.backbone.name,
        victim.hco.name,
        victim.cbo.name,
        victim.partnership.name,
        AGREEMENT_TITLE,
        _program_name(victim),
        *ADMIN_ONLY,
        *(u.email for u in users),
        *(u.last_name for u in users),
    ]


def same_network_sentinels(victim) -> list[str]:
    """What an organization of the victim's own network that is party to none of its
    referrals and named in no release must not see: everything but the network's shared
    directory (the network, its organizations and their listed programs)."""
    users = _users(victim)
    return [
        *_client_strings(victim),
        victim.partnership.name,
        AGREEMENT_TITLE,
        *ADMIN_ONLY,
        *(u.email for u in users),
        *(u.last_name for u in users),
    ]


def wrong_role_sentinels(victim, persona) -> list[str]:
    """What a route a member's role does not allow must not show that member: the client's
    record and the admin-only settings, and the other members' addresses (a staff list).
    Names of organizations are not secrets to their own members."""
    return [
        *_client_strings(victim),
        *ADMIN_ONLY,
        *(u.email for u in _users(victim) if u.pk != persona.pk),
    ]
