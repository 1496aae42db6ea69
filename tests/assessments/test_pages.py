"""The assessment pages: start, steps (saved as you go, resumable), result with suggestions,
history with Self-Sufficiency change; who may see them; what is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from assessments.models import Answer, Assessment
from audit.models import AuditEvent
from consent.models import Release
from directory.models import Program, ProgramCategory
from organizations.models import Organization
from organizations.roles import Role
from tests.factories import (
    AHC_NEGATIVE,
    ClientFactory,
    OrganizationFactory,
    assessment_for,
    instrument,
    member,
    release_for,
)

pytestmark = pytest.mark.django_db


def step_url(assessment, step):
    return reverse("assessment_step", args=[assessment.pk, step])


def result_url(assessment):
    return reverse("assessment_result", args=[assessment.pk])


def outsider_cbo(tenant) -> tuple[Organization, object]:
    """Another CBO of the same network, named in no release."""
    org = OrganizationFactory(network=tenant.network, name="Riverside Shelter")
    return org, member(org, Role.STAFF)


def start_assessment(client, tenant_client, key="ahc-hrsn-core", **extra):
    return client.post(
        reverse("assessment_start", args=[tenant_client.pk]),
        {"instrument": instrument(key).pk, "mode": "in_person", **extra},
    )


# -- administering --------------------------------------------------------------------------


def test_screening_through_every_step(client, login, tenant):
    login(tenant.cbo_staff)
    page = client.get(reverse("assessment_start", args=[tenant.client.pk]))
    assert page.status_code == 200
    assert "AHC Health-Related Social Needs screening (core)" in page.content.decode()
    response = start_assessment(client, tenant.client, mode="phone")
    assessment = Assessment.objects.get()
    assert response["Location"] == step_url(assessment, 1)
    assert (assessment.organization, assessment.administered_by) == (tenant.cbo, tenant.cbo_staff)
    assert assessment.mode == "phone"

    page = client.get(step_url(assessment, 1))
    body = page.content.decode()
    assert "Step 1 of 4" in body and "What is your living situation today?" in body
    assert "Declined to answer" in body

    steps = [
        {"q-124296": "LA31993-1", "q-123820": ["LA9-3"]},
        {"q-123821": "LA6729-3", "q-123822": "LA28398-8"},
        {"q-123823": "LA33-6", "q-123824": "LA32-8"},
        {"q-123825": "LA6270-8", "q-123826": "LA6270-8", "q-123827": "declined"},
    ]
    for number, data in enumerate(steps, start=1):
        response = client.post(step_url(assessment, number), {**data, "save": "1"})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == result_url(assessment)
    assessment.refresh_from_db()
    assert assessment.status == "completed"
    assert assessment.need_codes == ["food-insecurity", "transportation-insecurity"]
    assert assessment.domain_results["safety"]["status"] == "not_screened"

    body = client.get(result_url(assessment)).content.decode()
    assert "Food Insecurity" in body and "Transportation Insecurity" in body
    assert "Not screened" in body
    assert "High" in body  # two positive domains


def test_resume_after_a_step(client, login, tenant):
    login(tenant.hco_navigator)
    start_assessment(client, tenant.client)
    assessment = Assessment.objects.get()
    client.post(step_url(assessment, 1), {"q-124296": "LA31994-9", "save": "1"})
    # Later: the start page offers to continue where it stopped, with the answer kept.
    page = client.get(reverse("assessment_start", args=[tenant.client.pk])).content.decode()
    assert f'href="{step_url(assessment, 2)}"' in page and "Continue" in page
    again = client.get(step_url(assessment, 1))
    assert again.context["form"]["q-124296"].value() == "LA31994-9"
    assert "checked" in again.content.decode().split('value="LA31994-9"')[1].split(">")[0]
    assessment.refresh_from_db()
    assert assessment.status == "in_progress" and assessment.current_step == 2
    assert Answer.objects.filter(assessment=assessment).count() == 1


def test_finish_early_gives_a_partial_result(client, login, tenant):
    login(tenant.hco_navigator)
    start_assessment(client, tenant.client)
    assessment = Assessment.objects.get()
    response = client.post(step_url(assessment, 1), {"q-124296": "LA31995-6", "finish": "1"})
    assert response["Location"] == result_url(assessment)
    assessment.refresh_from_db()
    assert assessment.status == "completed"
    assert assessment.domain_results["living-situation"]["status"] == "positive"
    assert assessment.domain_results["food"]["status"] == "not_screened"


def test_finishing_empty_says_why_and_saves_nothing(client, login, tenant):
    login(tenant.hco_navigator)
    start_assessment(client, tenant.client)
    assessment = Assessment.objects.get()
    updates = AuditEvent.objects.filter(action="update").count()
    response = client.post(step_url(assessment, 1), {"finish": "1"})
    assert response.status_code == 400
    assert "Answer at least one question" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == "in_progress"
    assert AuditEvent.objects.filter(action="update").count() == updates


def test_answering_an_assessment_completed_meanwhile_is_a_409(client, login, tenant, monkeypatch):
    """A colleague finishes the assessment between this page's read and its save: the
    service's lock-and-recheck refuses, and the page says so (409), keeping nothing."""
    from django.utils.timezone import now as django_now

    from assessments.forms import StepForm

    login(tenant.hco_navigator)
    start_assessment(client, tenant.client)
    assessment = Assessment.objects.get()
    original_is_valid = StepForm.is_valid

    def valid_then_completed_elsewhere(form):
        Assessment.objects.filter(pk=assessment.pk).update(
            status=Assessment.Status.COMPLETED, completed_at=django_now()
        )
        return original_is_valid(form)

    monkeypatch.setattr(StepForm, "is_valid", valid_then_completed_elsewhere)
    response = client.post(step_url(assessment, 1), {"q-124296": "LA31994-9"})
    assert response.status_code == 409
    assert "This assessment is completed: its answers can no longer change." in (
        response.content.decode()
    )
    assert not Answer.objects.filter(assessment=assessment).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"q-123823": "LA99999-9"}, "LA99999-9 is not one of the answers"),
        ({"q-123823": "LA33-6", "q-123821": "LA28397-0"}, "123821 is not part of this step"),
        ({"q-123823": "LA33-6", "q-housing": "housing-1"}, "housing is not part of this step"),
    ],
    ids=["unknown-code", "question-of-another-step", "question-of-another-instrument"],
)
def test_bad_step_input_is_a_clear_error_and_saves_nothing(client, login, tenant, data, message):
    login(tenant.hco_navigator)
    start_assessment(client, tenant.client)
    assessment = Assessment.objects.get()
    response = client.post(step_url(assessment, 3), {**data, "save": "1"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Answer.objects.filter(assessment=assessment).exists()
    assert Assessment.objects.get().current_step == 1


def test_multi_select_with_declined_is_refused(client, login, tenant):
    login(tenant.hco_navigator)
    start_assessment(client, tenant.client)
    assessment = Assessment.objects.get()
    response = client.post(step_url(assessment, 1), {"q-123820": ["LA28580-1", "declined"]})
    assert response.status_code == 400
    assert "declined cannot be combined with answers" in response.content.decode()
    assert not Answer.objects.exists()


def test_unknown_step_is_404_and_completed_goes_to_result(client, login, tenant):
    login(tenant.hco_navigator)
    start_assessment(client, tenant.client)
    assessment = Assessment.objects.get()
    assert client.get(step_url(assessment, 5)).status_code == 404
    done = assessment_for(tenant.client, organization=tenant.hco)
    response = client.get(step_url(done, 1))
    assert response["Location"] == result_url(done)


def test_only_the_administering_organization_answers(client, login, tenant):
    """The CBO may read the HCO's assessment (release), but not answer it."""
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    login(tenant.cbo_staff)
    assert client.get(result_url(assessment)).status_code == 200
    assert client.get(step_url(assessment, 1)).status_code == 404
    assert client.post(step_url(assessment, 1), {"q-124296": "LA31995-6"}).status_code == 404


# -- the release as the first page -----------------------------------------------------------


def _release_post(tenant, **changes):
    today = datetime.now(UTC).date()
    data = {
        "recipients": [tenant.cbo.pk],
        "categories": ["social_needs"],
        "purpose": "care_coordination",
        "language": "en",
        "method": "esignature",
        "esignature_name": "Marrowdaleina Marrowdalesdottir",
        "esignature_confirmed": "on",
        "signer": "client",
        "effective_at": today.isoformat(),
        "expires_at": today.replace(year=today.year + 1).isoformat(),
    }
    data.update(changes)
    return data


@time_machine.travel(datetime(2025, 5, 6, 15, 0, tzinfo=UTC), tick=False)
def test_release_captured_as_the_first_page(client, login, tenant):
    login(tenant.hco_navigator)
    response = start_assessment(client, tenant.client, capture_release="on")
    assessment = Assessment.objects.get()
    assert response["Location"] == step_url(assessment, 0)
    page = client.get(step_url(assessment, 0)).content.decode()
    assert "Release of information" in page and "Skip" in page
    response = client.post(step_url(assessment, 0), _release_post(tenant))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == step_url(assessment, 1)
    assessment.refresh_from_db()
    release = assessment.release
    assert release is not None and release.covers_social_needs
    assert list(release.recipients.all()) == [tenant.cbo]
    assert release.captured_by == tenant.hco_navigator


# Frozen: the form's dates are today and a year on, and a 29 February has no year on.
@time_machine.travel(datetime(2025, 5, 6, 15, 0, tzinfo=UTC), tick=False)
def test_bad_release_saves_nothing_and_skipping_still_saves_the_assessment(client, login, tenant):
    org, staff = outsider_cbo(tenant)
    own_client = ClientFactory(created_by_organization=org, created_by=staff)
    login(staff)
    start_assessment(client, own_client, capture_release="on")
    assessment = Assessment.objects.get()
    releases = Release.objects.count()
    response = client.post(step_url(assessment, 0), _release_post(tenant, esignature_name=""))
    assert response.status_code == 400
    assert Release.objects.count() == releases
    response = client.post(step_url(assessment, 0), {"skip": "1"})
    assert response["Location"] == step_url(assessment, 1)
    client.post(step_url(assessment, 1), {"q-124296": "LA31994-9", "finish": "1"})
    assessment.refresh_from_db()
    assert assessment.status == "completed" and assessment.release is None
    # Saved for the administering organization only: nobody else was released anything.
    assert client.get(result_url(assessment)).status_code == 200
    client.logout()
    login(tenant.hco_navigator)
    assert client.get(result_url(assessment)).status_code == 404


# -- visibility -----------------------------------------------------------------------------


def test_an_organization_without_a_release_cannot_see_anothers_assessment(client, login, tenant):
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    org, staff = outsider_cbo(tenant)
    login(staff)
    assert client.get(result_url(assessment)).status_code == 404
    assert client.get(reverse("assessment_fhir", args=[assessment.pk])).status_code == 404
    assert not Assessment.objects.visible_to(org).exists()
    # A release that does not cover social needs changes nothing.
    release_for(tenant.client, organization=tenant.hco, recipients=[org])
    assert client.get(result_url(assessment)).status_code == 404
    # One that does, does.
    release_for(
        tenant.client, organization=tenant.hco, recipients=[org], categories=("social_needs",)
    )
    assert client.get(result_url(assessment)).status_code == 200
    assert list(Assessment.objects.visible_to(org)) == [assessment]


def test_the_administering_organization_keeps_seeing_its_assessment(tenant):
    """The CBO screened the HCO's client under a release; the release is revoked: the CBO
    still sees what it administered, not the HCO's screenings."""
    own = assessment_for(tenant.client, organization=tenant.cbo)
    theirs = assessment_for(tenant.client, organization=tenant.hco)
    assert set(Assessment.objects.visible_to(tenant.cbo)) == {own, theirs}
    Release.objects.filter(pk=tenant.release.pk).update(revoked_at=datetime.now(UTC))
    assert list(Assessment.objects.visible_to(tenant.cbo)) == [own]
    # Creating the client's record grants no sight of others' screenings (provenance):
    # the clinic sees its own; the CBO's needs a release naming the clinic.
    assert list(Assessment.objects.visible_to(tenant.hco)) == [theirs]


def test_other_networks_see_nothing(tenant, foreign_tenant):
    assessment_for(tenant.client, organization=tenant.hco)
    for org in (foreign_tenant.hco, foreign_tenant.cbo, foreign_tenant.backbone):
        assert not Assessment.objects.visible_to(org).exists()


# -- reads are audited ----------------------------------------------------------------------


def test_result_read_is_audited(client, login, tenant):
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    login(tenant.cbo_staff)
    client.get(result_url(assessment))
    event = AuditEvent.objects.filter(object_type="assessment", action="view").get()
    assert event.object_ids == [assessment.pk]
    assert event.organization == tenant.cbo and event.actor == tenant.cbo_staff
    assert event.detail == {"categories": ["social_needs"]}
    assert list(event.clients.values_list("client_id", flat=True)) == [tenant.client.pk]


def test_fhir_download_is_audited_as_export(client, login, tenant):
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    login(tenant.hco_navigator)
    response = client.get(reverse("assessment_fhir", args=[assessment.pk]))
    assert response["Content-Type"] == "application/fhir+json"
    assert response.json()["entry"][0]["resource"]["resourceType"] == "QuestionnaireResponse"
    assert AuditEvent.objects.filter(object_type="assessment", action="export").count() == 1


# -- history --------------------------------------------------------------------------------


def _ssm(tenant, when, **levels):
    keys = [
        "housing",
        "income",
        "food",
        "transportation",
        "health-care-coverage",
        "employment",
        "adult-education",
        "social-support",
    ]
    answers = {k: (f"{k}-{levels.get(k.replace('-', '_'), 3)}",) for k in keys}
    with time_machine.travel(when, tick=False):
        return assessment_for(
            tenant.client,
            organization=tenant.cbo,
            instrument_key="self-sufficiency-matrix",
            answers=answers,
        )


def test_history_shows_the_change_in_self_sufficiency(client, login, tenant):
    first = _ssm(tenant, datetime(2025, 1, 10, tzinfo=UTC), housing=1, income=2, food=4)
    _ssm(tenant, datetime(2025, 4, 10, tzinfo=UTC), housing=2, income=2, food=4)
    latest = _ssm(tenant, datetime(2025, 7, 10, tzinfo=UTC), housing=4, income=1, food=4)
    screening = assessment_for(tenant.client, organization=tenant.hco)
    login(tenant.cbo_staff)
    response = client.get(reverse("assessment_history", args=[tenant.client.pk]))
    assert response.status_code == 200
    (history,) = response.context["histories"]
    assert (history.first, history.latest, history.count) == (first, latest, 3)
    rows = {d.title: (d.first, d.latest, d.change) for d in history.domains}
    assert rows["Housing"] == (1, 4, 3)
    assert rows["Income"] == (2, 1, -1)
    assert rows["Food"] == (4, 4, 0)
    body = response.content.decode()
    assert "+3" in body and "-1" in body
    # The list holds all four (the screening shared with the CBO by the release), audited once.
    assert len(response.context["page"].object_list) == 4
    event = AuditEvent.objects.filter(object_type="assessment", action="list").get()
    assert len(event.object_ids) == 4 and screening.pk in event.object_ids


def test_history_queries_do_not_grow_with_the_list(client, login, tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(tenant.cbo_staff)
    url = reverse("assessment_history", args=[tenant.client.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    assessment_for(tenant.client, organization=tenant.hco)
    _ssm(tenant, datetime(2025, 1, 10, tzinfo=UTC))
    few = count()
    for _ in range(4):
        assessment_for(tenant.client, organization=tenant.cbo)
    _ssm(tenant, datetime(2025, 6, 10, tzinfo=UTC))
    # Session, user, memberships, client, page count and rows, needs (one prefetch), the
    # matrix series, the consent checks, the audit event: the same for 2 rows or 7.
    assert count() == few


def test_history_of_an_unseen_client_is_404(client, login, tenant):
    _org, staff = outsider_cbo(tenant)
    login(staff)
    assert client.get(reverse("assessment_history", args=[tenant.client.pk])).status_code == 404
    assert client.get(reverse("assessment_start", args=[tenant.client.pk])).status_code == 404


def test_history_hides_what_the_viewer_may_not_see(client, login, tenant):
    """An organization with only a demographics release sees the client, not the HCO's
    screenings: an empty history, and no name where demographics are not covered."""
    org, staff = outsider_cbo(tenant)
    assessment_for(tenant.client, organization=tenant.hco)
    release_for(tenant.client, organization=tenant.hco, recipients=[org])
    login(staff)
    response = client.get(reverse("assessment_history", args=[tenant.client.pk]))
    assert response.status_code == 200
    assert "No assessments you may see yet." in response.content.decode()


# -- the client profile's tag ----------------------------------------------------------------


def _render_tag(tenant, user, org):
    from organizations.models import Membership

    request = RequestFactory().get("/")
    request.user = user
    request.organization = org
    request.membership = Membership.objects.get(user=user, organization=org)
    template = Template("{% load assessment_tags %}{% client_assessments client %}")
    return template.render(Context({"request": request, "client": tenant.client}))


def test_client_assessments_tag_lists_what_the_viewer_may_see(tenant):
    theirs = assessment_for(tenant.client, organization=tenant.hco)
    org, staff = outsider_cbo(tenant)
    own = assessment_for(tenant.client, organization=org)
    html = _render_tag(tenant, staff, org)
    assert result_url(own) in html and result_url(theirs) not in html
    assert reverse("assessment_start", args=[tenant.client.pk]) in html
    event = AuditEvent.objects.filter(object_type="assessment", action="list").get()
    assert event.object_ids == [own.pk] and event.organization == org
    # The CBO's release covers the client's social needs: every screening of the client.
    html = _render_tag(tenant, tenant.cbo_staff, tenant.cbo)
    assert result_url(theirs) in html and result_url(own) in html


def test_client_profile_shows_the_assessments(client, login, tenant):
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    login(tenant.cbo_staff)
    body = client.get(reverse("client_profile", args=[tenant.client.pk])).content.decode()
    assert 'data-testid="client-assessments"' in body
    assert f'href="{result_url(assessment)}"' in body


# -- suggestions ------------------------------------------------------------------------------


def test_result_suggests_programs_with_capacity_and_reasons(client, login, tenant):
    pantry = Program.objects.create(organization=tenant.cbo, name="Northside Pantry")
    ProgramCategory.objects.create(program=pantry, code="food-insecurity")
    full = Program.objects.create(organization=tenant.cbo, name="Ride Share", capacity=0)
    ProgramCategory.objects.create(program=full, code="transportation-insecurity")
    unrelated = Program.objects.create(organization=tenant.cbo, name="Legal Clinic")
    ProgramCategory.objects.create(program=unrelated, code="incarceration-status")
    answers = {**AHC_NEGATIVE, "123821": ("LA28397-0",), "123823": ("LA33-6",)}
    assessment = assessment_for(tenant.client, organization=tenant.hco, answers=answers)
    login(tenant.hco_navigator)
    response = client.get(result_url(assessment))
    suggested = {s.program.name: (label, s.reasons) for s, label in response.context["suggestions"]}
    assert set(suggested) == {"Northside Pantry", "Ride Share"}
    assert suggested["Northside Pantry"][0] == "Open"
    assert suggested["Ride Share"][0] == "Waitlist"
    assert "Serves food insecurity" in suggested["Northside Pantry"][1]
    body = response.content.decode()
    assert "Waitlist" in body and "Serves transportation insecurity" in body


def test_result_offers_a_referral_for_its_needs(client, login, tenant):
    answers = {**AHC_NEGATIVE, "123821": ("LA28397-0",), "123823": ("LA33-6",)}
    assessment = assessment_for(tenant.client, organization=tenant.hco, answers=answers)
    login(tenant.hco_navigator)
    body = client.get(result_url(assessment)).content.decode()
    link = reverse("referral_new", args=[tenant.client.pk]) + f"?assessment={assessment.pk}"
    assert f'href="{link}"' in body
    form = client.get(link)
    assert set(form.context["form"].initial["needs"]) == set(assessment.need_codes)
