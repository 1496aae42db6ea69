"""The payment-term pages: terms in words, create and edit per kind (nothing saved on bad
input), who may, the subsidy schedule, panel sizes (one month or a CSV, all or nothing),
support-fund expenses with what is left of each allowance, and the audit of what they show.
On a frozen clock: 10 February 2032 in Chicago (the second year of terms starting 2031)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEvent
from metrics.registry import BY_KEY
from organizations.roles import Role
from payments.models import PanelMonth, PaymentTerm, Statement, SubsidyShare, SupportExpense
from tests.factories import (
    ClientFactory,
    PartnershipFactory,
    ProgramFactory,
    ReferralFactory,
    member,
    referral_program,
)

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
D = Decimal
Kind = PaymentTerm.Kind
MEASURE = sorted(BY_KEY)[0]
LIST = "/payments/terms/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime(2032, 2, 10, 9, 0, tzinfo=CHICAGO), tick=False):
        yield


@pytest.fixture
def program(tenant):
    made = referral_program(tenant)
    tenant.partnership.programs.add(made)
    return made


@pytest.fixture
def login(login):
    """`login(user)`: a signed-in test client of its own, so a test can act as several."""
    return lambda user: login(user, Client())


@pytest.fixture
def cbo_admin(tenant):
    return member(tenant.cbo, Role.ORG_ADMIN, email="cbo-admin@marrowdale.test")


def make_term(tenant, program, kind=Kind.FEE_FOR_SERVICE, **fields) -> PaymentTerm:
    fields.setdefault("effective_from", date(2031, 1, 1))
    fields.setdefault("unit_amount", D("100.00"))
    made = PaymentTerm.objects.create(
        partnership=fields.pop("partnership", tenant.partnership),
        name=fields.pop("name", f"Pantry {kind}"),
        kind=kind,
        payer=fields.pop("payer", tenant.hco),
        payee=fields.pop("payee", tenant.cbo),
        **fields,
    )
    made.programs.set([program])
    return made


def new_url(tenant, kind) -> str:
    return f"/payments/terms/new/?partnership={tenant.partnership.pk}&kind={kind}"


def form_data(tenant, program, subsidies=(), **over) -> dict:
    data = {
        "name": "Pantry fees",
        "payer": tenant.hco.pk,
        "payee": tenant.cbo.pk,
        "programs": [program.pk],
        "effective_from": "2031-01-01",
        "effective_to": "",
        "unit_amount": "100.00",
        "escalator_percent": "0",
        "outcome_mode": "",
        "outcome_measure": "",
        "outcome_direction": "at_least",
        "outcome_target": "",
        "withhold_percent": "",
        "bonus_amount": "",
        "subsidy-TOTAL_FORMS": str(len(subsidies)),
        "subsidy-INITIAL_FORMS": "0",
        "subsidy-MIN_NUM_FORMS": "0",
        "subsidy-MAX_NUM_FORMS": "24",
    }
    for i, (name, start, end, percent) in enumerate(subsidies):
        data.update(
            {
                f"subsidy-{i}-funder_name": name,
                f"subsidy-{i}-funder": "",
                f"subsidy-{i}-month_from": str(start),
                f"subsidy-{i}-month_to": str(end),
                f"subsidy-{i}-percent": str(percent),
            }
        )
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# --- the list, in words ---------------------------------------------------------------------


def test_list_shows_terms_in_words_with_sub_terms_under_their_contract(tenant, program, login):
    ffs = make_term(
        tenant,
        program,
        amount_need_met=D("120.00"),
        amount_attempted=D("60.00"),
        outcome_mode="withhold",
        outcome_measure=MEASURE,
        outcome_target=D("0.8"),
        withhold_percent=D("4"),
    )
    SubsidyShare.objects.create(
        term=ffs, funder_name="State fund", month_from=1, month_to=6, percent=D("80")
    )
    SubsidyShare.objects.create(
        term=ffs, funder_name="State fund", month_from=7, month_to=12, percent=D("60")
    )
    make_term(
        tenant,
        program,
        Kind.CASE_RATE,
        unit_amount=D("2990.00"),
        contracted_volume=350,
        escalator_percent=D("3.00"),
    )
    contract = make_term(tenant, program, name="Health system contract", payee=tenant.backbone)
    sub = make_term(tenant, program, name="Pantry sub-term", payer=tenant.backbone, parent=contract)

    page = login(tenant.backbone_admin).get(LIST).content.decode()
    assert "$120.00 per completed referral with the need met, $60.00 attempted" in page
    assert "$2,990.00 per client served per year, 350 clients contracted, +3% a year" in page
    assert "4% withheld each month, paid when" in page and BY_KEY[MEASURE].name in page
    assert (
        "State fund pays 80% of months 1 to 6; State fund pays 60% of months 7 to 12; "
        f"otherwise {tenant.hco.name} pays all" in page
    )
    # The sub-term is listed inside its contract's entry, not on its own.
    contract_at = page.index(f'data-testid="term-{contract.pk}"')
    sub_at = page.index(f'data-testid="term-{sub.pk}"')
    assert (
        contract_at < sub_at < page.index("</article>", page.index("Paid on through", contract_at))
    )


def test_the_list_shows_an_organization_its_own_terms_only(
    tenant, program, neighbour, login, django_assert_max_num_queries
):
    for i in range(5):
        term = make_term(tenant, program, name=f"Pantry fees {i}")
        SubsidyShare.objects.create(
            term=term, funder_name="Fund", month_from=1, month_to=6, percent=D("50")
        )
    c = login(tenant.hco_admin)
    # Session, user, membership and organization; the terms (with partnership, payer,
    # payee), their programs and subsidies; the partnerships and, per partnership, whether
    # the HCO is one of its organizations; the messages. Not one query per term.
    with django_assert_max_num_queries(14):
        page = c.get(LIST).content.decode()
    assert page.count("Fund pays 50% of months 1 to 6") == 5
    assert f"?partnership={tenant.partnership.pk}" in page  # may add a term
    outsider = login(neighbour.admin)
    page = outsider.get(LIST).content.decode()
    assert "Pantry fees" not in page and "No payment terms yet." in page
    # One partnership's terms (the link from the partnership's page); another's: 404.
    other = PartnershipFactory(
        network=tenant.network, name="Clinic + Shelter", organizations=[tenant.hco]
    )
    make_term(tenant, program, name="Shelter fees", partnership=other)
    page = c.get(f"{LIST}?partnership={tenant.partnership.pk}").content.decode()
    assert "Pantry fees 0" in page and "Shelter fees" not in page
    assert "Shelter fees" in c.get(f"{LIST}?partnership={other.pk}").content.decode()
    assert outsider.get(f"{LIST}?partnership={other.pk}").status_code == 404


# --- create, per kind ---------------------------------------------------------------------------


def test_create_fee_for_service_with_subsidies(tenant, program, login):
    c = login(tenant.hco_admin)
    assert c.get(new_url(tenant, Kind.FEE_FOR_SERVICE)).status_code == 200
    data = form_data(
        tenant,
        program,
        subsidies=[("State fund", 1, 6, 80), ("Foundation", 7, 12, "60.50")],
        amount_need_met="120.00",
        amount_attempted="60.00",
        outcome_mode="bonus",
        outcome_measure=MEASURE,
        outcome_target="0.75",
        bonus_amount="500.00",
        withhold_percent="4",  # not the mode: cleared
    )
    response = c.post(new_url(tenant, Kind.FEE_FOR_SERVICE), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    term = PaymentTerm.objects.get()
    assert (term.kind, term.payer, term.payee) == (Kind.FEE_FOR_SERVICE, tenant.hco, tenant.cbo)
    assert (term.amount_need_met, term.amount_attempted) == (D("120.00"), D("60.00"))
    assert (term.outcome_mode, term.bonus_amount, term.withhold_percent) == ("bonus", 500, 0)
    assert list(term.programs.all()) == [program]
    assert [(s.funder_name, s.month_from, s.month_to, s.percent) for s in term.subsidies.all()] == [
        ("State fund", 1, 6, D("80.00")),
        ("Foundation", 7, 12, D("60.50")),
    ]
    assert AuditEvent.objects.filter(object_type="payment_term", action="create").count() == 1


def test_case_rate_form_shows_its_own_fields_and_saves_only_them(tenant, program, cbo_admin, login):
    c = login(cbo_admin)
    page = c.get(new_url(tenant, Kind.CASE_RATE)).content.decode()
    assert 'name="contracted_volume"' in page and 'name="amount_need_met"' not in page
    assert "Amount per client served per year" in page
    data = form_data(
        tenant,
        program,
        unit_amount="2990.00",
        contracted_volume="",  # optional
        escalator_percent="3",
        amount_need_met="120.00",  # not a case-rate field: ignored
    )
    assert c.post(new_url(tenant, Kind.CASE_RATE), data).status_code == 302
    term = PaymentTerm.objects.get()
    assert (term.contracted_volume, term.amount_need_met, term.escalator_percent) == (
        None,
        None,
        D("3.00"),
    )


def test_pmpm_and_support_funds_forms_have_no_fee_fields(tenant, program, login):
    c = login(tenant.hco_admin)
    for kind in (Kind.PMPM, Kind.SUPPORT_FUNDS, Kind.PATHWAY):
        page = c.get(new_url(tenant, kind)).content.decode()
        assert 'name="contracted_volume"' not in page and 'name="amount_attempted"' not in page
    response = c.post(new_url(tenant, Kind.PMPM), form_data(tenant, program, unit_amount="4.50"))
    assert response.status_code == 302
    assert PaymentTerm.objects.get().kind == Kind.PMPM


@pytest.mark.parametrize(
    ("kind", "over", "field"),
    [
        (Kind.PMPM, {"unit_amount": "0"}, "unit_amount"),
        (Kind.SUPPORT_FUNDS, {"unit_amount": "-5"}, "unit_amount"),
        (Kind.CASE_RATE, {"contracted_volume": "0"}, "contracted_volume"),
        (Kind.FEE_FOR_SERVICE, {"effective_to": "2030-12-31"}, "effective_to"),
        (Kind.FEE_FOR_SERVICE, {"payee": "HCO"}, "payee"),
        (Kind.FEE_FOR_SERVICE, {"outcome_mode": "withhold"}, "outcome_measure"),
        (Kind.FEE_FOR_SERVICE, {"outcome_mode": "withhold"}, "outcome_target"),
        (
            Kind.FEE_FOR_SERVICE,
            {"outcome_mode": "withhold", "outcome_measure": MEASURE, "outcome_target": "1"},
            "withhold_percent",
        ),
        (
            Kind.CASE_RATE,
            {"outcome_mode": "bonus", "outcome_measure": MEASURE, "outcome_target": "1"},
            "bonus_amount",
        ),
        (
            Kind.FEE_FOR_SERVICE,
            {"outcome_mode": "bonus", "outcome_measure": "made-up", "outcome_target": "1"},
            "outcome_measure",
        ),
        (Kind.FEE_FOR_SERVICE, {"escalator_percent": "101"}, "escalator_percent"),
    ],
)
def test_invalid_terms_are_refused_next_to_the_field(tenant, program, login, kind, over, field):
    if over.get("payee") == "HCO":
        over = {"payee": tenant.hco.pk}  # payer is payee
    response = login(tenant.hco_admin).post(
        new_url(tenant, kind), form_data(tenant, program, **over)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved" in page and f'data-testid="error-{field}"' in page
    assert not PaymentTerm.objects.exists()


def test_parties_and_programs_are_those_of_the_partnership(
    tenant, program, neighbour, foreign_tenant, login
):
    c = login(tenant.hco_admin)
    url = new_url(tenant, Kind.FEE_FOR_SERVICE)
    # The neighbour shares the network, not the partnership; the foreign CBO neither.
    for payee in (neighbour.organization, foreign_tenant.cbo):
        response = c.post(url, form_data(tenant, program, payee=payee.pk))
        assert (
            response.status_code == 400 and 'data-testid="error-payee"' in response.content.decode()
        )
    other = ProgramFactory(organization=tenant.cbo, name="Not in the partnership")
    response = c.post(url, form_data(tenant, program, programs=[other.pk]))
    assert (
        response.status_code == 400 and 'data-testid="error-programs"' in response.content.decode()
    )
    # An HCO admin may not set up a term between two other organizations.
    response = c.post(
        url, form_data(tenant, program, payer=tenant.backbone.pk, payee=tenant.cbo.pk)
    )
    assert response.status_code == 400 and "payer or the payee" in response.content.decode()
    assert not PaymentTerm.objects.exists()


def test_a_sub_terms_payer_is_its_contracts_payee_the_backbone(tenant, program, login):
    contract = make_term(tenant, program, name="Contract", payee=tenant.backbone)
    c = login(tenant.backbone_admin)
    url = new_url(tenant, Kind.FEE_FOR_SERVICE)
    wrong = form_data(tenant, program, parent=contract.pk, name="Sub")  # payer: the HCO
    response = c.post(url, wrong)
    assert response.status_code == 400 and "parent&#x27;s payee" in response.content.decode()
    assert PaymentTerm.objects.count() == 1
    right = form_data(tenant, program, parent=contract.pk, name="Sub", payer=tenant.backbone.pk)
    assert c.post(url, right).status_code == 302
    assert PaymentTerm.objects.get(name="Sub").parent == contract


# --- the subsidy schedule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subsidies", "message"),
    [
        ([("State", 1, 6, 80), ("Foundation", 6, 12, 60)], "Subsidy periods overlap"),
        ([("State", 7, 6, 80)], "The last month is on or after the first"),
        ([("State", 1, 6, 120)], "less than or equal to 100"),
    ],
)
def test_subsidy_schedule_is_validated(tenant, program, login, subsidies, message):
    response = login(tenant.hco_admin).post(
        new_url(tenant, Kind.FEE_FOR_SERVICE), form_data(tenant, program, subsidies=subsidies)
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not PaymentTerm.objects.exists() and not SubsidyShare.objects.exists()


# --- edit -----------------------------------------------------------------------------------------


def edit_url(term) -> str:
    return f"/payments/terms/{term.pk}/edit/"


def test_edit_changes_rates_and_replaces_the_schedule(tenant, program, login):
    term = make_term(tenant, program)
    SubsidyShare.objects.create(
        term=term, funder_name="Old fund", month_from=1, month_to=12, percent=D("50")
    )
    c = login(tenant.hco_admin)
    page = c.get(edit_url(term)).content.decode()
    assert 'value="Old fund"' in page and 'value="100.00"' in page
    data = form_data(
        tenant,
        program,
        subsidies=[("State fund", 1, 6, 80), ("State fund", 7, 12, 60)],
        unit_amount="110.00",
        amount_need_met="130.00",
    )
    assert c.post(edit_url(term), data).status_code == 302
    term.refresh_from_db()
    assert (term.unit_amount, term.amount_need_met) == (D("110.00"), D("130.00"))
    assert list(term.subsidies.values_list("funder_name", "percent")) == [
        ("State fund", D("80.00")),
        ("State fund", D("60.00")),
    ]


def test_edit_with_an_error_saves_nothing(tenant, program, login):
    term = make_term(tenant, program)
    SubsidyShare.objects.create(
        term=term, funder_name="Old fund", month_from=1, month_to=12, percent=D("50")
    )
    data = form_data(
        tenant,
        program,
        subsidies=[("State", 1, 6, 80), ("State", 3, 12, 60)],  # overlap
        unit_amount="999.00",
    )
    response = login(tenant.hco_admin).post(edit_url(term), data)
    assert response.status_code == 400 and "Subsidy periods overlap" in response.content.decode()
    term.refresh_from_db()
    assert term.unit_amount == D("100.00")
    assert list(term.subsidies.values_list("funder_name", flat=True)) == ["Old fund"]


def test_dates_may_not_leave_an_approved_statement_outside(tenant, program, login):
    term = make_term(tenant, program, effective_to=date(2031, 12, 31))
    Statement.objects.create(
        term=term,
        period_start=date(2031, 3, 1),
        period_end=date(2031, 3, 31),
        status=Statement.Status.APPROVED,
    )
    c = login(tenant.hco_admin)
    for over, field in (
        ({"effective_from": "2031-04-01", "effective_to": "2031-12-31"}, "effective_from"),
        ({"effective_to": "2031-02-28"}, "effective_to"),
    ):
        response = c.post(edit_url(term), form_data(tenant, program, **over))
        page = response.content.decode()
        assert response.status_code == 400 and f'data-testid="error-{field}"' in page
        assert "The statement for March 2031 is approved" in page
    term.refresh_from_db()
    assert (term.effective_from, term.effective_to) == (date(2031, 1, 1), date(2031, 12, 31))
    # A draft does not hold the dates.
    Statement.objects.update(status=Statement.Status.DRAFT)
    data = form_data(tenant, program, effective_from="2031-04-01", effective_to="2031-12-31")
    assert c.post(edit_url(term), data).status_code == 302


# --- who may --------------------------------------------------------------------------------------


def test_staff_are_refused(tenant, program, login):
    term = make_term(tenant, program, Kind.PMPM)
    c = login(tenant.hco_staff)
    for url in (
        LIST,
        new_url(tenant, Kind.PMPM),
        edit_url(term),
        f"/payments/terms/{term.pk}/panel/",
    ):
        assert c.get(url).status_code == 403, url


def test_outsiders_get_404(tenant, program, foreign_tenant, login):
    terms = [make_term(tenant, program, kind) for kind in (Kind.PMPM, Kind.SUPPORT_FUNDS)]
    c = login(foreign_tenant.hco_admin)
    urls = [
        new_url(tenant, Kind.PMPM),
        edit_url(terms[0]),
        f"/payments/terms/{terms[0].pk}/panel/",
        f"/payments/terms/{terms[1].pk}/expenses/",
    ]
    for url in urls:
        assert c.get(url).status_code == 404, url
    assert c.post(edit_url(terms[0]), form_data(tenant, program)).status_code == 404


def test_a_partner_that_is_neither_payer_nor_payee_cannot_edit(tenant, program, neighbour, login):
    tenant.partnership.organizations.add(neighbour.organization)
    term = make_term(tenant, program)
    c = login(neighbour.admin)
    assert c.get(edit_url(term)).status_code == 404
    data = form_data(tenant, program, unit_amount="1.00")
    assert c.post(edit_url(term), data).status_code == 404
    # ... nor the HCO a sub-term the backbone pays out of the HCO's contract.
    contract = make_term(tenant, program, payee=tenant.backbone)
    sub = make_term(tenant, program, payer=tenant.backbone, parent=contract)
    assert login(tenant.hco_admin).get(edit_url(sub)).status_code == 404
    assert PaymentTerm.objects.get(pk=term.pk).unit_amount == D("100.00")
    # The backbone admin runs the network: may edit any of them.
    assert login(tenant.backbone_admin).get(edit_url(term)).status_code == 200


# --- panel sizes ----------------------------------------------------------------------------------


def panel_url(term) -> str:
    return f"/payments/terms/{term.pk}/panel/"


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("panel.csv", text.encode(), content_type="text/csv")


def test_panel_month_set_and_csv_import(tenant, program, cbo_admin, login):
    term = make_term(tenant, program, Kind.PMPM, unit_amount=D("4.50"))
    PanelMonth.objects.create(term=term, month=date(2031, 1, 1), members=10)
    c = login(cbo_admin)
    response = c.post(panel_url(term), {"form": "month", "month": "2031-04", "members": "1300"})
    assert response.status_code == 302
    csv = "month,members\n2031-01,1200\n2031-02,1215\n\n2031-03,1190\n"
    response = c.post(panel_url(term), {"form": "import", "file": upload(csv)}, follow=True)
    page = response.content.decode()
    assert "3 months of panel sizes saved." in page
    assert dict(term.panel_months.values_list("month", "members")) == {
        date(2031, 1, 1): 1200,  # replaced
        date(2031, 2, 1): 1215,
        date(2031, 3, 1): 1190,
        date(2031, 4, 1): 1300,
    }
    assert "2031-02" in page and "1215" in page


def test_a_panel_file_with_a_bad_row_saves_nothing(tenant, program, login):
    term = make_term(tenant, program, Kind.PMPM, unit_amount=D("4.50"))
    c = login(tenant.hco_admin)
    csv = "month,members\n2031-01,1200\n2031/02,1215\n2031-03,many\n2031-01,5\n"
    response = c.post(panel_url(term), {"form": "import", "file": upload(csv)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved: 3 rows to correct." in page
    assert "Line 3: The month is written YYYY-MM" in page
    assert "Line 4: Members is a whole number." in page
    assert "Line 5: 2031-01 is also on line 2." in page
    assert not PanelMonth.objects.exists()
    response = c.post(panel_url(term), {"form": "import", "file": upload("when,count\n")})
    assert response.status_code == 400 and "month,members" in response.content.decode()
    response = c.post(panel_url(term), {"form": "month", "month": "April", "members": "3"})
    assert response.status_code == 400 and not PanelMonth.objects.exists()


def test_panel_is_read_only_for_the_backbone_and_only_for_pmpm(tenant, program, login):
    term = make_term(tenant, program, Kind.PMPM, unit_amount=D("4.50"))
    c = login(tenant.backbone_admin)
    page = c.get(panel_url(term)).content.decode()
    assert 'data-testid="import-form"' not in page
    data = {"form": "month", "month": "2031-04", "members": "3"}
    assert c.post(panel_url(term), data).status_code == 403
    assert not PanelMonth.objects.exists()
    ffs = make_term(tenant, program)
    assert login(tenant.hco_admin).get(panel_url(ffs)).status_code == 404


# --- support-fund expenses ------------------------------------------------------------------------


def expenses_url(term) -> str:
    return f"/payments/terms/{term.pk}/expenses/"


def test_expenses_form_allowance_and_audit(tenant, program, cbo_admin, login):
    # $50 a person a year, +10% a year: in the term's second year (from 1 January 2032)
    # the allowance is 50 x 1.10 = $55.00.
    term = make_term(
        tenant, program, Kind.SUPPORT_FUNDS, unit_amount=D("50.00"), escalator_percent=D("10")
    )
    ReferralFactory(client=tenant.client, program=program)
    stranger = ClientFactory(created_by_organization=tenant.hco, given_name="Notreferred")
    c = login(cbo_admin)
    page = c.get(expenses_url(term)).content.decode()
    name = f"{tenant.client.given_name} {tenant.client.family_name}"
    assert f"{name} — $55.00 left this term year" in page
    assert "Notreferred" not in page

    data = {
        "client": tenant.client.pk,
        "date": "2032-02-03",
        "amount": "30.00",
        "purpose": "Bus pass",
    }
    assert c.post(expenses_url(term), data).status_code == 302
    SupportExpense.objects.create(
        term=term,
        client=tenant.client,
        date=date(2031, 12, 20),  # last term year: not drawn from this year's allowance
        amount=D("40.00"),
        purpose="Deposit",
        recorded_by=cbo_admin,
    )
    page = c.get(expenses_url(term)).content.decode()
    assert f"{name} — $25.00 left this term year" in page
    assert "<td>$30.00</td><td>$25.00</td>" in page and "Bus pass" in page
    shown = AuditEvent.objects.filter(object_type="support_expense", action="view").latest("pk")
    assert sorted(shown.object_ids) == sorted(SupportExpense.objects.values_list("pk", flat=True))
    assert list(shown.clients.values_list("client_id", flat=True)) == [tenant.client.pk]

    # A client of no referral the CBO received, a day outside the term, $0: nothing saved.
    for bad, field in (
        ({"client": stranger.pk}, "client"),
        ({"date": "2030-12-31"}, "date"),
        ({"amount": "0"}, "amount"),
        ({"purpose": ""}, "purpose"),
    ):
        response = c.post(expenses_url(term), {**data, **bad})
        assert response.status_code == 400
        assert f'data-testid="error-{field}"' in response.content.decode()
    assert SupportExpense.objects.count() == 2
    # More than is left: recorded, with a word that statements pay only up to $25.00.
    response = c.post(expenses_url(term), {**data, "amount": "40.00"}, follow=True)
    assert "Only $25.00 was left of that person" in response.content.decode()
    assert f"{name} — $0.00 left this term year" in response.content.decode()
    assert SupportExpense.objects.count() == 3


def test_expense_list_names_clients_only_as_consent_allows(tenant, program, cbo_admin, login):
    term = make_term(tenant, program, Kind.SUPPORT_FUNDS, unit_amount=D("50.00"))
    # A client the CBO registered itself, under no release naming the HCO.
    own = ClientFactory(created_by_organization=tenant.cbo, given_name="Privatia")
    for client in (own, tenant.client):
        SupportExpense.objects.create(
            term=term,
            client=client,
            date=date(2032, 1, 5),
            amount=D("10.00"),
            purpose="Groceries",
            recorded_by=cbo_admin,
        )
    c = login(tenant.hco_admin)
    page = c.get(expenses_url(term)).content.decode()
    assert "Privatia" not in page and "Client (name not shared)" in page
    assert tenant.client.given_name in page
    assert 'data-testid="expense-form"' not in page  # the payer reads, the payee records
    data = {"client": own.pk, "date": "2032-02-03", "amount": "5", "purpose": "Bus"}
    assert c.post(expenses_url(term), data).status_code == 403
    assert AuditEvent.objects.filter(object_type="support_expense", action="view").exists()
    assert login(cbo_admin).get(expenses_url(make_term(tenant, program))).status_code == 404
