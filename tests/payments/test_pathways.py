"""Pathways on a frozen clock (America/Chicago, from 2032-01-10): the starter set installs
once; opening refuses a second open instance, a referral without the need, and a client the
organization may not see; the housing rule (met on the need-met close date, complete 183
days later, undone by a new housing referral in between); the rescreen rule; the nightly
task; the pages; and a completed pathway on a PATHWAY statement."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Assessment, Need
from audit.models import AuditEvent
from organizations.roles import Role
from organizations.sdoh import SDOHCategory
from payments import pathways as svc
from payments import statements as calc
from payments.models import Pathway, PathwayInstance, PaymentTerm
from payments.tasks import check_pathways
from referrals.models import Referral
from tests.factories import (
    ClientFactory,
    OrganizationFactory,
    ProgramFactory,
    ReferralFactory,
    instrument,
    member,
    release_for,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
HOUSING = "housing-instability"
OPENED = date(2032, 1, 10)
MET = date(2032, 2, 1)
# 2032 is a leap year: Feb 1 + 183 days = Feb 29 (28) + Mar 31 (59) + Apr 30 (89)
# + May 31 (120) + Jun 30 (150) + Jul 31 (181) + 2 days = Aug 2.
CHECKABLE = date(2032, 8, 2)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=CHICAGO)


@pytest.fixture
def clock():
    with time_machine.travel(at(OPENED, 9), tick=False) as traveller:
        yield traveller


@pytest.fixture
def starter(tenant, clock) -> dict[str, Pathway]:
    return {p.code: p for p in svc.pathways_install(tenant.network)}


def housing_referral(tenant, *, created: date, client=None, **fields) -> Referral:
    """A referral for housing from the HCO to the CBO's housing program, written directly."""
    program = ProgramFactory(organization=tenant.cbo, categories=[HOUSING])
    fields.setdefault("status", "in-progress")
    return ReferralFactory(
        client=client or tenant.client,
        program=program,
        needs=[HOUSING],
        created_at=at(created, 10),
        **fields,
    )


def close_need_met(referral: Referral, day: date) -> None:
    Referral.objects.filter(pk=referral.pk).update(
        status="completed", outcome="need-met", closed_at=at(day)
    )


def release_to_cbo(tenant) -> None:
    """The client's release naming the CBO, in force on the frozen clock (the tenant's own
    was captured today, years before it)."""
    release_for(
        tenant.client,
        organization=tenant.hco,
        recipients=[tenant.cbo],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=tenant.hco_navigator,
    )


def open_housing(tenant, starter, **fields) -> PathwayInstance:
    referral = fields.pop("referral", None) or housing_referral(tenant, created=date(2032, 1, 5))
    return svc.pathway_open(
        pathway=starter["housing"],
        client=referral.client,
        organization=fields.pop("organization", tenant.hco),
        actor=fields.pop("actor", tenant.hco_navigator),
        referral=referral,
        **fields,
    )


def screening(tenant, day: date, *needs: str) -> Assessment:
    """A completed screening of the tenant's client by the HCO on `day`, finding `needs`."""
    made = Assessment.objects.create(
        instrument=instrument(),
        client=tenant.client,
        organization=tenant.hco,
        administered_by=tenant.hco_navigator,
        mode="in_person",
        status="completed",
        started_at=at(day, 8),
        completed_at=at(day, 9),
    )
    for code in needs:
        Need.objects.create(assessment=made, domain=code, category=code)
    return made


# --- the starter set -----------------------------------------------------------------------


def test_install_is_idempotent_and_keeps_a_networks_own_edits(tenant, clock):
    first = svc.pathways_install(tenant.network)
    assert sorted(p.code for p in first) == [
        "food",
        "housing",
        "medical-home",
        "transportation",
        "utilities",
    ]
    housing = Pathway.objects.get(network=tenant.network, code="housing")
    assert (housing.need, housing.rule, housing.hold_days) == (
        HOUSING,
        Pathway.Rule.REFERRAL_NEED_MET,
        183,
    )
    assert "six consecutive months" in housing.completion and housing.steps
    Pathway.objects.filter(pk=housing.pk).update(value=Decimal("999.00"))

    again = svc.pathways_install(tenant.network)
    call_command("install_pathways", "--network", tenant.network.slug, stdout=None)
    assert [p.pk for p in again] == [p.pk for p in first]
    assert Pathway.objects.filter(network=tenant.network).count() == 5
    assert Pathway.objects.get(pk=housing.pk).value == Decimal("999.00")
    # Every need is an SDOH category code that exists; every value a positive amount.
    assert all(p.need in SDOHCategory.values and p.value > 0 for p in again)


# --- opening -------------------------------------------------------------------------------


def test_open_from_a_referral_is_owned_by_the_lead_navigator_of_the_organization(tenant, starter):
    tenant.client.lead_navigator = tenant.hco_navigator.memberships.get()
    tenant.client.save()
    instance = open_housing(tenant, starter, actor=tenant.hco_admin)
    assert instance.owner == tenant.hco_navigator.memberships.get()
    assert instance.status == PathwayInstance.Status.OPEN
    assert AuditEvent.objects.filter(
        object_type="pathway_instance", action="create", object_ids=[instance.pk]
    ).exists()


def test_open_refuses_a_second_open_instance(tenant, starter):
    open_housing(tenant, starter)
    with pytest.raises(ValidationError, match="already has an open Housing pathway"):
        open_housing(tenant, starter)
    assert PathwayInstance.objects.count() == 1


def test_open_refuses_a_referral_without_the_need(tenant, starter):
    food = ReferralFactory(
        client=tenant.client,
        program=ProgramFactory(organization=tenant.cbo),
        needs=["food-insecurity"],
    )
    with pytest.raises(ValidationError, match="not for the Housing pathway's need"):
        open_housing(tenant, starter, referral=food)
    assert not PathwayInstance.objects.exists()


def test_open_refuses_a_client_the_organization_may_not_see(tenant, starter):
    elsewhere = OrganizationFactory(network=tenant.network, kind="cbo", sub_kind="nonprofit")
    unseen = ClientFactory(created_by_organization=elsewhere)  # no release names the HCO
    referral = housing_referral(tenant, created=date(2032, 1, 5), client=unseen)
    with pytest.raises(ValidationError, match="may not see this client"):
        open_housing(tenant, starter, referral=referral)
    assert not PathwayInstance.objects.exists()


# --- the housing rule ----------------------------------------------------------------------


def test_housing_is_met_on_the_close_date_and_complete_183_days_later(tenant, starter):
    referral = housing_referral(tenant, created=date(2032, 1, 5))
    instance = open_housing(tenant, starter, referral=referral)
    assert svc.pathway_check(instance, date(2032, 1, 20)).status == svc.Check.NOT_MET

    close_need_met(referral, MET)
    waiting = svc.pathway_check(instance, date(2032, 2, 10))
    assert (waiting.status, waiting.met_on, waiting.checkable_on) == (
        svc.Check.WAITING,
        MET,
        CHECKABLE,
    )
    assert svc.pathway_check(instance, date(2032, 8, 1)).status == svc.Check.WAITING

    done = svc.pathway_check(instance, CHECKABLE)
    assert (done.status, done.completed_on) == (svc.Check.COMPLETE, CHECKABLE)


def test_housing_is_undone_by_a_new_housing_referral_before_the_hold_ends(tenant, starter):
    referral = housing_referral(tenant, created=date(2032, 1, 5))
    instance = open_housing(tenant, starter, referral=referral)
    close_need_met(referral, MET)
    svc.pathway_checks_run(date(2032, 2, 10))
    instance.refresh_from_db()
    assert instance.met_on == MET

    housing_referral(tenant, created=date(2032, 5, 1))  # looking for housing again
    result = svc.pathway_check(instance, CHECKABLE)
    assert (result.status, result.undone) == (svc.Check.NOT_MET, True)
    svc.pathway_checks_run(CHECKABLE)
    instance.refresh_from_db()
    assert (instance.status, instance.met_on, instance.completed_on) == ("open", None, None)


# --- the rescreen rule ---------------------------------------------------------------------


def test_rescreen_rule_completes_when_a_later_screening_no_longer_finds_the_need(tenant, starter):
    origin = screening(tenant, date(2032, 1, 9), "food-insecurity")
    instance = svc.pathway_open(
        pathway=starter["food"],
        client=tenant.client,
        organization=tenant.hco,
        actor=tenant.hco_navigator,
        assessment=origin,
    )
    screening(tenant, date(2032, 3, 1), "food-insecurity", HOUSING)  # still hungry
    assert svc.pathway_check(instance, date(2032, 3, 2)).status == svc.Check.NOT_MET

    screening(tenant, date(2032, 4, 1), HOUSING)  # food no longer a need
    result = svc.pathway_check(instance, date(2032, 4, 2))
    assert (result.status, result.met_on, result.completed_on) == (
        svc.Check.COMPLETE,
        date(2032, 4, 1),
        date(2032, 4, 1),
    )


# --- the task ------------------------------------------------------------------------------


def test_the_nightly_task_completes_what_is_due(tenant, starter, clock):
    referral = housing_referral(tenant, created=date(2032, 1, 5))
    instance = open_housing(tenant, starter, referral=referral)
    close_need_met(referral, MET)

    clock.move_to(at(date(2032, 8, 1), 2))
    check_pathways()
    instance.refresh_from_db()
    assert (instance.status, instance.met_on) == ("open", MET)

    clock.move_to(at(CHECKABLE, 2))
    check_pathways()
    check_pathways()  # a second run changes nothing
    instance.refresh_from_db()
    assert (instance.status, instance.completed_on) == ("completed", CHECKABLE)
    assert AuditEvent.objects.filter(object_type="pathway_instance", action="update").count() == 2


# --- the pages -----------------------------------------------------------------------------


def test_list_shows_definitions_and_instances_with_the_checkable_date(
    tenant, starter, login, django_assert_max_num_queries
):
    referral = housing_referral(tenant, created=date(2032, 1, 5))
    instance = open_housing(tenant, starter, referral=referral)
    close_need_met(referral, MET)
    svc.pathway_checks_run(date(2032, 2, 10))

    c = login(tenant.hco_navigator)
    # The same 18 with one row or many: the request's own (session, user, second factor,
    # membership, organization), then the count, the page of instances with their pathway
    # and owner, the clients whose names may show, the definitions, and the audit row with
    # its client rows. Nothing per row.
    with django_assert_max_num_queries(18):
        response = c.get(reverse("pathway_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "six consecutive months" in html and "$1200.00" in html
    assert "checkable on" in html and "2032-08-02" in html
    assert tenant.client.given_name in html  # the HCO created the client's record
    assert AuditEvent.objects.filter(
        object_type="pathway_instance", action="view", object_ids=[instance.pk]
    ).exists()


def test_list_hides_the_client_name_without_sight_of_demographics(tenant, starter, login):
    navigator = member(tenant.cbo, Role.NAVIGATOR, email="cbo-nav@marrowdale.test")
    release_to_cbo(tenant)
    unseen = ClientFactory(created_by_organization=tenant.hco, given_name="Hiddenella")
    for client in (tenant.client, unseen):  # the release names the CBO for tenant.client only
        PathwayInstance.objects.create(
            pathway=starter["housing"], client=client, organization=tenant.cbo
        )
    html = login(navigator).get(reverse("pathway_list")).content.decode()
    assert html.count('data-testid="pathway-row"') == 2
    assert tenant.client.given_name in html
    assert "Hiddenella" not in html and "Not shown" in html


def test_open_form_opens_from_a_referral(tenant, starter, login):
    referral = housing_referral(tenant, created=date(2032, 1, 5))
    c = login(tenant.hco_navigator)
    url = reverse("pathway_open") + f"?referral={referral.pk}"
    form = c.get(url)
    assert form.status_code == 200
    assert f'value="{starter["housing"].pk}"' in form.content.decode()
    assert f'value="{starter["food"].pk}"' not in form.content.decode()  # not this need

    wrong = c.post(
        reverse("pathway_open"), {"referral": referral.pk, "pathway": starter["food"].pk}
    )
    assert wrong.status_code == 400 and not PathwayInstance.objects.exists()

    done = c.post(
        reverse("pathway_open"), {"referral": referral.pk, "pathway": starter["housing"].pk}
    )
    assert done.status_code == 302
    instance = PathwayInstance.objects.get()
    assert (instance.referral, instance.organization) == (referral, tenant.hco)

    again = c.post(
        reverse("pathway_open"), {"referral": referral.pk, "pathway": starter["housing"].pk}
    )
    assert again.status_code == 400 and "already has an open" in again.content.decode()
    assert PathwayInstance.objects.count() == 1


def test_open_form_is_404_for_an_outsider_and_403_for_staff(
    tenant, foreign_tenant, starter, login, client
):
    referral = housing_referral(tenant, created=date(2032, 1, 5))
    url = reverse("pathway_open") + f"?referral={referral.pk}"
    outsider = login(foreign_tenant.hco_navigator)
    assert outsider.get(url).status_code == 404
    posted = outsider.post(
        reverse("pathway_open"), {"referral": referral.pk, "pathway": starter["housing"].pk}
    )
    assert posted.status_code == 404 and not PathwayInstance.objects.exists()
    client.logout()
    assert login(tenant.hco_staff).get(url).status_code == 403


def test_close_without_completion(tenant, foreign_tenant, starter, login, client):
    instance = open_housing(tenant, starter)
    url = reverse("pathway_close", args=[instance.pk])

    outsider = login(foreign_tenant.hco_navigator)
    assert outsider.post(url, {"reason": "moved-away"}).status_code == 404
    client.logout()

    c = login(tenant.hco_navigator)
    c.post(url, {"reason": "not-a-reason"})
    instance.refresh_from_db()
    assert instance.status == "open"

    assert c.post(url, {"reason": "moved-away"}).status_code == 302
    instance.refresh_from_db()
    assert instance.status == "closed"
    event = AuditEvent.objects.filter(object_type="pathway_instance", action="update").get()
    assert event.detail == {"step": "closed", "reason": "moved-away"}
    # Closed, the client may have the pathway opened again.
    assert open_housing(tenant, starter).status == "open"


# --- statements ----------------------------------------------------------------------------


def test_a_completed_pathway_is_a_line_on_a_pathway_statement(tenant, starter, clock):
    navigator = member(tenant.cbo, Role.NAVIGATOR, email="cbo-nav@marrowdale.test")
    release_to_cbo(tenant)
    referral = housing_referral(tenant, created=date(2032, 1, 5))
    instance = open_housing(
        tenant, starter, referral=referral, organization=tenant.cbo, actor=navigator
    )
    close_need_met(referral, MET)
    svc.pathway_checks_run(CHECKABLE)
    term = PaymentTerm.objects.create(
        partnership=tenant.partnership,
        name="Pathway payments",
        kind=PaymentTerm.Kind.PATHWAY,
        payer=tenant.hco,
        payee=tenant.cbo,
        effective_from=date(2032, 1, 1),
        unit_amount=Decimal("0.00"),  # each pathway at its own value
    )
    computed = calc.compute(term, date(2032, 8, 1))
    assert [(line.pathway_id, line.date, line.amount) for line in computed.lines] == [
        (instance.pk, CHECKABLE, Decimal("1200.00"))
    ]
