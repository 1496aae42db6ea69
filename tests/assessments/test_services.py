"""Starting, answering step by step, completing: what is stored, when to rescreen, what is
audited, and that bad input saves nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from assessments import services
from assessments.engine import ItemAnswer
from assessments.models import Answer, Assessment, Need
from audit.models import AuditEvent
from tests.factories import AHC_NEGATIVE, assessment_for, instrument, item_answers

pytestmark = [pytest.mark.django_db, pytest.mark.calendar]

NOW = datetime(2025, 3, 31, 15, 0, tzinfo=UTC)


def start(tenant, key="ahc-hrsn-core") -> Assessment:
    return services.assessment_start(
        client=tenant.client,
        organization=tenant.hco,
        instrument=instrument(key),
        mode=Assessment.Mode.PHONE,
        actor=tenant.hco_navigator,
    )


def events(**filters):
    return AuditEvent.objects.filter(object_type="assessment", **filters)


def test_completed_assessment_stores_answers_with_codes_needs_and_result(tenant):
    answers = {**AHC_NEGATIVE, "123821": ("LA28397-0",), "123823": ("LA33-6",)}
    assessment = assessment_for(
        tenant.client, organization=tenant.hco, answers=answers, actor=tenant.hco_navigator
    )
    assert assessment.status == Assessment.Status.COMPLETED
    assert assessment.administered_by == tenant.hco_navigator
    food = Answer.objects.get(assessment=assessment, link_id="123821")
    assert (food.question_system, food.question_code) == ("http://loinc.org", "88122-7")
    assert (food.system, food.code, food.display) == ("http://loinc.org", "LA28397-0", "Often true")
    safety = Answer.objects.get(assessment=assessment, link_id="123825")
    assert safety.score == 1
    assert Answer.objects.filter(assessment=assessment).count() == 10
    assert assessment.need_codes == ["food-insecurity", "transportation-insecurity"]
    assert assessment.domain_results["food"] == {"status": "positive", "score": None}
    assert assessment.domain_results["safety"] == {"status": "negative", "score": 4}
    assert assessment.risk_level == "high"


def test_multi_select_question_stores_one_row_per_answer(tenant):
    answers = {**AHC_NEGATIVE, "123820": ("LA28580-1", "LA32001-2")}
    assessment = assessment_for(tenant.client, organization=tenant.hco, answers=answers)
    codes = Answer.objects.filter(assessment=assessment, link_id="123820").values_list(
        "code", flat=True
    )
    assert sorted(codes) == ["LA28580-1", "LA32001-2"]
    assert assessment.need_codes == ["housing-instability"]


def test_declined_answer_is_stored_as_declined(tenant):
    answers = {**AHC_NEGATIVE, "123823": "declined"}
    assessment = assessment_for(tenant.client, organization=tenant.hco, answers=answers)
    row = Answer.objects.get(assessment=assessment, link_id="123823")
    assert (row.declined, row.code) == (True, "")
    assert assessment.domain_results["transportation"]["status"] == "declined"
    assert assessment.need_codes == []


# -- rescreen date --------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_rescreen_yearly_by_default(tenant):
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    assert assessment.risk_level == "low"
    assert assessment.rescreen_due_at == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_rescreen_after_six_months_for_high_risk(tenant):
    answers = {**AHC_NEGATIVE, "124296": ("LA31995-6",)}  # no steady place to live
    assessment = assessment_for(tenant.client, organization=tenant.hco, answers=answers)
    assert assessment.risk_level == "high"
    # March 31 + 6 months: September has 30 days.
    assert assessment.rescreen_due_at == datetime(2025, 9, 30, 15, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_rescreen_follows_the_network_rules(tenant):
    network = tenant.network
    network.rescreen_months, network.rescreen_months_high_risk = 3, 1
    network.save()
    low = assessment_for(tenant.client, organization=tenant.hco)
    high = assessment_for(
        tenant.client, organization=tenant.hco, answers={**AHC_NEGATIVE, "124296": ("LA31995-6",)}
    )
    assert low.rescreen_due_at == datetime(2025, 6, 30, 15, 0, tzinfo=UTC)
    assert high.rescreen_due_at == datetime(2025, 4, 30, 15, 0, tzinfo=UTC)


@time_machine.travel(datetime(2026, 11, 24, 5, 24, tzinfo=UTC), tick=False)
def test_rescreen_months_are_counted_on_the_local_calendar(tenant, settings):
    # 23:24 on November 23 in Chicago; six months later is May 23 there, across DST.
    settings.TIME_ZONE = "America/Chicago"
    answers = {**AHC_NEGATIVE, "124296": ("LA31995-6",)}
    assessment = assessment_for(tenant.client, organization=tenant.hco, answers=answers)
    local = timezone.localtime(assessment.rescreen_due_at)
    assert (local.date(), local.hour, local.minute) == (date(2027, 5, 23), 23, 24)


def test_in_progress_assessment_has_no_rescreen_date(tenant):
    assessment = start(tenant)
    assert assessment.rescreen_due_at is None and assessment.risk_level == ""


def test_rescreen_due_is_indexed_for_the_reminder_sweep():
    field = Assessment._meta.get_field("rescreen_due_at")
    assert field.db_index


# -- step by step ---------------------------------------------------------------------------


def test_resume_after_a_step(tenant):
    assessment = start(tenant)
    step_one = {"124296": ("LA31994-9",), "123820": ("LA9-3",)}
    services.assessment_save_step(
        assessment=assessment, step=1, answers=item_answers(step_one), actor=tenant.hco_navigator
    )
    again = Assessment.objects.get(pk=assessment.pk)
    assert again.status == Assessment.Status.IN_PROGRESS
    assert again.current_step == 2
    assert again.item_answers() == item_answers(step_one)
    # Answering step 1 again replaces its answers (going back to correct one).
    services.assessment_save_step(
        assessment=again,
        step=1,
        answers=item_answers({"124296": ("LA31993-1",)}),
        actor=tenant.hco_navigator,
    )
    again = Assessment.objects.get(pk=assessment.pk)
    assert again.item_answers() == item_answers({"124296": ("LA31993-1",)})
    assert again.current_step == 2  # the furthest step reached stays


def test_partial_assessment_completes_with_not_screened_domains(tenant):
    assessment = start(tenant)
    services.assessment_save_step(
        assessment=assessment,
        step=3,
        answers=item_answers({"123823": ("LA33-6",)}),
        actor=tenant.hco_navigator,
    )
    assessment = services.assessment_complete(assessment=assessment, actor=tenant.hco_navigator)
    assert assessment.domain_results["transportation"]["status"] == "positive"
    assert assessment.domain_results["food"]["status"] == "not_screened"
    assert assessment.domain_results["utilities"]["status"] == "not_screened"
    assert assessment.need_codes == ["transportation-insecurity"]


def test_finishing_with_nothing_answered_is_refused(tenant):
    assessment = start(tenant)
    with pytest.raises(ValidationError, match="Answer at least one question"):
        services.assessment_complete(assessment=assessment, actor=tenant.hco_navigator)
    assert Assessment.objects.get(pk=assessment.pk).status == Assessment.Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("step", "answers", "message"),
    [
        (3, {"123823": ("LA0000-0",)}, "LA0000-0 is not one of its answers"),
        (1, {"housing": ("housing-1",)}, "'housing' is not part of step 1"),
        (1, {"123821": ("LA28397-0",)}, "'123821' is not part of step 1"),
        (9, {"123823": ("LA33-6",)}, "has no step 9"),
    ],
    ids=["unknown-code", "other-instrument", "other-step", "no-such-step"],
)
def test_bad_answers_save_nothing(tenant, step, answers, message):
    assessment = start(tenant)
    services.assessment_save_step(
        assessment=assessment,
        step=1,
        answers=item_answers({"124296": ("LA31993-1",)}),
        actor=tenant.hco_navigator,
    )
    before_events = events().count()
    with pytest.raises(ValidationError, match=message):
        services.assessment_save_step(
            assessment=assessment,
            step=step,
            answers=item_answers(answers),
            actor=tenant.hco_navigator,
        )
    assert list(Answer.objects.filter(assessment=assessment).values_list("code", flat=True)) == [
        "LA31993-1"
    ]
    assert events().count() == before_events


def test_assessment_record_with_a_bad_answer_creates_nothing(tenant):
    answers = {**AHC_NEGATIVE, "123824": ("LA33-6", "LA32-8")}
    with pytest.raises(ValidationError, match="takes one answer"):
        assessment_for(tenant.client, organization=tenant.hco, answers=answers)
    assert not Assessment.objects.exists()
    assert not events().exists()


def test_completed_assessment_cannot_change(tenant):
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    with pytest.raises(ValidationError, match="completed"):
        services.assessment_save_step(
            assessment=assessment,
            step=3,
            answers={"123823": ItemAnswer(codes=("LA33-6",))},
            actor=tenant.hco_navigator,
        )
    with pytest.raises(ValidationError, match="completed"):
        services.assessment_complete(assessment=assessment, actor=tenant.hco_navigator)
    assert not Need.objects.filter(assessment=assessment).exists()


def test_retired_instrument_version_cannot_start(tenant):
    retired = instrument()
    retired.is_current = False
    retired.save()
    with pytest.raises(ValidationError, match="retired"):
        services.assessment_start(
            client=tenant.client,
            organization=tenant.hco,
            instrument=retired,
            mode=Assessment.Mode.PHONE,
            actor=tenant.hco_navigator,
        )


def test_client_of_another_network_is_refused(tenant, foreign_tenant):
    with pytest.raises(ValidationError, match="another network"):
        services.assessment_start(
            client=foreign_tenant.client,
            organization=tenant.hco,
            instrument=instrument(),
            mode=Assessment.Mode.PHONE,
            actor=tenant.hco_navigator,
        )


# -- audit ----------------------------------------------------------------------------------


def test_creation_and_answers_are_audited_without_answer_values(tenant):
    assessment = start(tenant)
    created = events(action=AuditEvent.Action.CREATE).get()
    assert created.object_ids == [assessment.pk]
    assert list(created.clients.values_list("client_id", flat=True)) == [tenant.client.pk]
    assert created.actor == tenant.hco_navigator and created.organization == tenant.hco
    assert created.detail == {
        "instrument": "ahc-hrsn-core",
        "version": "2024-08-06",
        "mode": "phone",
    }

    services.assessment_save_step(
        assessment=assessment,
        step=2,
        answers=item_answers({"123821": ("LA28397-0",), "123822": "declined"}),
        actor=tenant.hco_navigator,
    )
    services.assessment_complete(assessment=assessment, actor=tenant.hco_navigator)
    step_event, complete_event = events(action=AuditEvent.Action.UPDATE).order_by("id")
    assert step_event.detail == {"step": 2, "fields": ["123821", "123822"]}
    assert "needs" in complete_event.detail["fields"]
    everything = str(list(events().values_list("detail", flat=True)))
    for value in ("LA28397-0", "food-insecurity", "declined", "Often"):
        assert value not in everything
