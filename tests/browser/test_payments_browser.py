"""The money loop in a real browser, on phones: the CBO admin generates and submits last
month's statement; the HCO admin disputes a line; the CBO admin withdraws it and submits
again; the HCO admin approves; and the partnership's cost per client (read from approved
statements) moves from nothing to the approved total."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from metrics.selectors import statement_cost
from organizations.roles import Role
from payments.models import PaymentTerm, Statement
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import (
    PASSWORD,
    ClientFactory,
    ReferralFactory,
    give_totp,
    member,
    referral_program,
    totp_now,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHICAGO = ZoneInfo("America/Chicago")


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def sign_in_admin(page, user) -> None:
    device = give_totp(user)
    sign_in(page, user.email, PASSWORD)
    page.get_by_label("Six-digit code").fill(totp_now(device))
    page.get_by_role("button", name="Verify").click()


def last_month() -> date:
    # The clock cannot be frozen under a live server: the month is relative to today.
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def completed(tenant, day: date, client) -> None:
    moment = datetime(day.year, day.month, day.day, 12, 0, tzinfo=CHICAGO)
    ReferralFactory(
        client=client,
        program=referral_program(tenant),
        status="completed",
        outcome="need-met",
        closed_at=moment,
        created_at=moment,
    )


def test_statement_generated_disputed_corrected_approved_moves_the_cost(new_context, tenant):
    month = last_month()
    term = PaymentTerm.objects.create(
        partnership=tenant.partnership,
        name="Pantry fee for service",
        kind=PaymentTerm.Kind.FEE_FOR_SERVICE,
        payer=tenant.hco,
        payee=tenant.cbo,
        effective_from=(month - timedelta(days=1)).replace(day=1),
        unit_amount=Decimal("100.00"),
    )
    term.programs.set([referral_program(tenant)])
    completed(tenant, month.replace(day=3), tenant.client)
    for day in (10, 17):
        completed(tenant, month.replace(day=day), ClientFactory(created_by_organization=tenant.hco))
    cbo_admin = member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@marrowdale.test")
    assert statement_cost(tenant.partnership.pk, month, 1) is None

    # The CBO admin generates last month's statement and submits it.
    cbo = new_context(phone=True).new_page()
    sign_in_admin(cbo, cbo_admin)
    cbo.get_by_role("link", name="Payments").click()
    expect(cbo.get_by_role("heading", name="Payment statements", level=1)).to_be_visible()
    expect(cbo.get_by_test_id("empty")).to_contain_text("No statements yet")
    assert fits_phone(cbo)
    assert_accessible(cbo)
    generate = cbo.get_by_test_id("generate-form")
    generate.get_by_label("Payment term").select_option(label=term.name)
    generate.get_by_label("Month").select_option(month.isoformat())
    generate.get_by_role("button", name="Generate the statement").click()
    expect(cbo.get_by_test_id("statement-status")).to_have_text("Draft")
    expect(cbo.get_by_test_id("line")).to_have_count(3)
    expect(cbo.get_by_test_id("statement-total")).to_have_text("USD 300.00")
    # The client released to the CBO is named; the line always carries its referral id.
    expect(cbo.get_by_test_id("line-client").first).to_have_text(
        f"{tenant.client.given_name} {tenant.client.family_name}"
    )
    assert fits_phone(cbo)
    assert_accessible(cbo)
    cbo.get_by_role("button", name="Submit to the payer").click()
    expect(cbo.get_by_test_id("statement-status")).to_have_text("Submitted")
    statement = Statement.objects.get(term=term)

    # The HCO admin disputes line 2 with a comment.
    hco = new_context(phone=True).new_page()
    sign_in_admin(hco, tenant.hco_admin)
    hco.get_by_role("link", name="Payments").click()
    expect(hco.get_by_test_id("statement-row")).to_have_count(1)
    assert fits_phone(hco)
    assert_accessible(hco)
    hco.get_by_role("link", name=f"#{statement.pk}", exact=True).click()
    hco.get_by_label("Comment on line 2").fill("We have no record of this visit.")
    assert_accessible(hco)
    hco.get_by_role("button", name="Dispute the commented lines").click()
    expect(hco.get_by_test_id("statement-status")).to_have_text("Disputed")

    # The CBO admin sees the comment, withdraws that line and submits again.
    cbo.reload()
    expect(cbo.get_by_test_id("line-dispute")).to_contain_text("We have no record of this visit.")
    cbo.get_by_label("Confirm withdrawing line 2").check()
    cbo.get_by_role("button", name="Withdraw line 2").click()
    expect(cbo.get_by_test_id("withdrawn")).to_have_count(1)
    expect(cbo.get_by_test_id("statement-total")).to_have_text("USD 200.00")
    assert fits_phone(cbo)
    cbo.get_by_role("button", name="Submit to the payer").click()
    expect(cbo.get_by_test_id("statement-status")).to_have_text("Submitted")

    # The HCO admin approves: the statement is frozen and counts as the partnership's cost.
    hco.reload()
    hco.get_by_label("I approve this statement for payment").check()
    hco.get_by_role("button", name="Approve").click()
    expect(hco.get_by_test_id("statement-status")).to_have_text("Approved")
    expect(hco.get_by_role("button", name="Record the payment")).to_be_visible()
    assert_accessible(hco)
    assert statement_cost(tenant.partnership.pk, month, 1) == Decimal("200.00")
