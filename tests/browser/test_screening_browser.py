"""A community health worker screens a client on a phone, step by step, and sees the needs
and the programs suggested for them, a full one marked waitlist."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from assessments.models import Assessment
from directory.models import Program, ProgramCategory
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import PASSWORD, instrument

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose(page, question: str, answer: str) -> None:
    page.get_by_role("group", name=re.compile(re.escape(question))).get_by_label(
        answer, exact=True
    ).check()


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_chw_screens_a_client_on_a_phone(page, tenant):
    instrument()  # transactional tests start with empty tables: load the instruments
    pantry = Program.objects.create(organization=tenant.cbo, name="Northside Food Pantry")
    ProgramCategory.objects.create(program=pantry, code="food-insecurity")
    # Full: it holds as many open referrals as its capacity.
    rides = Program.objects.create(organization=tenant.cbo, name="Medical Rides", capacity=0)
    ProgramCategory.objects.create(program=rides, code="transportation-insecurity")

    sign_in(page, tenant.cbo_staff.email, PASSWORD)
    expect(page.get_by_test_id("active-organization")).to_have_text(tenant.cbo.name)
    page.goto(f"/clients/{tenant.client.pk}/")
    page.get_by_test_id("client-assessments").get_by_role("link", name="New assessment").click()
    expect(page.get_by_role("heading", name="New assessment")).to_be_visible()
    page.get_by_label("AHC Health-Related Social Needs screening (core)").check()
    page.get_by_label("In person").check()
    no_sideways_scroll(page)
    assert_accessible(page)
    page.get_by_role("button", name="Start").click()

    expect(page.get_by_test_id("step-counter")).to_have_text("Step 1 of 4")
    expect(page.get_by_role("heading", name="Living Situation")).to_be_visible()
    no_sideways_scroll(page)
    assert_accessible(page)
    choose(page, "What is your living situation today?", "I have a steady place to live")
    choose(page, "Do you have problems with any of the following?", "None of the above")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_test_id("step-counter")).to_have_text("Step 2 of 4")
    choose(page, "you worried that your food would run out", "Often true")
    choose(page, "the food you bought just didn't last", "Never true")
    page.get_by_role("button", name="Save and continue").click()

    # Saved as we go: the first two steps are stored on an in-progress assessment.
    expect(page.get_by_test_id("step-counter")).to_have_text("Step 3 of 4")
    assessment = Assessment.objects.get()
    assert assessment.status == "in_progress" and assessment.answers.count() == 4
    choose(page, "lack of reliable transportation", "Yes")
    choose(page, "threatened to shut off services", "No")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_test_id("step-counter")).to_have_text("Step 4 of 4")
    for question in ("physically hurt you", "insult or talk down", "threaten you", "scream"):
        choose(page, question, "Never")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Save and finish").click()

    expect(page.get_by_text("The assessment is complete.")).to_be_visible()
    needs = page.get_by_test_id("needs")
    expect(needs).to_contain_text("Food Insecurity")
    expect(needs).to_contain_text("Transportation Insecurity")
    expect(needs.get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_test_id("risk-level")).to_have_text("High")

    suggestions = page.get_by_test_id("suggestion")
    expect(suggestions).to_have_count(2)
    pantry_item = suggestions.filter(has_text="Northside Food Pantry")
    expect(pantry_item.get_by_test_id("capacity")).to_have_text("Open")
    expect(pantry_item).to_contain_text("Serves food insecurity")
    rides_item = suggestions.filter(has_text="Medical Rides")
    expect(rides_item.get_by_test_id("capacity")).to_have_text("Waitlist")
    expect(rides_item).to_contain_text("Serves transportation insecurity")
    no_sideways_scroll(page)
    assert_accessible(page)
