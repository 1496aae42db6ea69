"""The measure pages: what each role sees, pickers, CSV = table, query count, refresh."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from metrics import urls as metrics_urls
from metrics.models import Rollup, RollupRun
from metrics.tasks import rollup_nightly
from organizations import roles
from organizations.models import Organization
from organizations.roles import Capability, Role
from referrals.models import Referral
from tests.factories import OrganizationFactory, PartnershipFactory
from tests.metrics.helpers import clients, referrals, rollup

pytestmark = pytest.mark.django_db


def _table(html: str, key: str) -> list[list[str]]:
    """The rows of a rendered table (header first), as text."""
    block = re.search(rf'<table class="striped" data-table="{key}">(.*?)</table>', html, re.S)
    assert block, key
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", block.group(1), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_backbone_admin_sees_network_measures_and_csv_matches_table(tenant, login):
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    c = login(tenant.backbone_admin)
    page = c.get("/measures/?kind=month&period=2026-03-01")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Measures: Marrowdale Network (network)" in html
    summary = _table(html, "summary")
    assert ["Process", "Referrals sent", "12", "", ""] in summary
    assert ["Process", "Closed-loop rate", "100.0%", "12", "12"] in summary
    partnerships = _table(html, "partnerships")
    assert partnerships[1][:2] == ["Marrowdale Clinic + Food Bank", "12"]
    for key in (
        "summary",
        "partnerships",
        "trend",
        "funnel",
        "disparities-race_ethnicity",
        "national",
    ):
        exported = c.get(f"/measures/export.csv?table={key}&kind=month&period=2026-03-01")
        assert exported.status_code == 200
        assert exported["Content-Type"].startswith("text/csv")
        assert _csv(exported) == _table(html, key), key


def test_dashboard_reads_rollups_in_a_fixed_number_of_queries(
    tenant, login, django_assert_max_num_queries
):
    c = login(tenant.backbone_admin)
    referrals(tenant, clients(tenant, 3))
    rollup(tenant)
    # 26: with "are recent changes still being applied" (the incremental rollup's status).
    with django_assert_max_num_queries(26) as small:
        assert c.get("/measures/").status_code == 200
    referrals(tenant, clients(tenant, 30), status="requested")
    rollup(tenant)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert c.get("/measures/").status_code == 200
    tables = {
        q["sql"].split(" FROM ")[1].split()[0].strip('"')
        for q in small.captured_queries
        if q["sql"].startswith("SELECT") and " FROM " in q["sql"]
    }
    assert "referrals_referral" not in tables and "clients_client" not in tables


@pytest.fixture
def no_suppression(settings):
    """For tests about which numbers a page picks (scope, period), not how it hides small
    ones: every count shows (test_suppression_is_one_rule covers the hiding)."""
    settings.METRICS_SUPPRESSION_THRESHOLD = 1


def test_switching_partnership_and_period(tenant, login, no_suppression):
    other_cbo = OrganizationFactory(
        network=tenant.network, name="Shelter", kind=Organization.Kind.CBO
    )
    other = PartnershipFactory(
        network=tenant.network, name="Clinic + Shelter", organizations=[tenant.hco, other_cbo]
    )
    referrals(tenant, clients(tenant, 4))

    from tests.factories import ProgramFactory

    referrals(
        tenant,
        clients(tenant, 2),
        program=ProgramFactory(organization=other_cbo),
        sent=datetime(2026, 5, 5, 15, tzinfo=UTC),
    )
    rollup(tenant)
    c = login(tenant.backbone_admin)
    html = c.get(f"/measures/?partnership={other.pk}&kind=month&period=2026-05-01").content
    summary = _table(html.decode(), "summary")
    assert ["Process", "Referrals sent", "2", "", ""] in summary
    html = c.get(f"/measures/?partnership={tenant.partnership.pk}&period=2026-03-01").content
    assert ["Process", "Referrals sent", "4", "", ""] in _table(html.decode(), "summary")
    html = c.get("/measures/?kind=quarter&period=2026-01-01").content.decode()
    assert ["Process", "Referrals sent", "4", "", ""] in _table(html, "summary")
    html = c.get("/measures/?kind=quarter&period=2026-04-01").content.decode()
    assert ["Process", "Referrals sent", "2", "", ""] in _table(html, "summary")


def test_org_admin_sees_own_organization_and_not_other_partnerships(tenant, login, no_suppression):
    other_cbo = OrganizationFactory(
        network=tenant.network, name="Shelter", kind=Organization.Kind.CBO
    )
    other = PartnershipFactory(
        network=tenant.network,
        name="Shelter + Backbone",
        organizations=[other_cbo, tenant.backbone],
    )
    referrals(tenant, clients(tenant, 5))
    rollup(tenant)
    cbo_admin = __import__("tests.factories", fromlist=["member"]).member(
        tenant.cbo, "org_admin", email="cbo-admin@marrowdale.test"
    )
    c = login(cbo_admin)
    html = c.get("/measures/?period=2026-03-01").content.decode()
    assert "Measures: Marrowdale Food Bank" in html
    assert ["Process", "Referrals received", "5", "", ""] in _table(html, "summary")
    assert ["Process", "Referrals sent", "0", "", ""] in _table(html, "summary")
    assert "Shelter + Backbone" not in html
    assert c.get(f"/measures/?partnership={other.pk}").status_code == 404
    assert c.get(f"/measures/partnerships/{other.pk}/review/").status_code == 404
    assert c.get(f"/measures/export.csv?table=summary&partnership={other.pk}").status_code == 404
    # Its own partnership is there.
    assert c.get(f"/measures/?partnership={tenant.partnership.pk}").status_code == 200
    # The rows it may read: its organization's, its partnerships', the network totals.
    visible = Rollup.objects.visible_to(tenant.cbo)
    assert not visible.filter(organization=tenant.hco).exists()
    assert not visible.filter(partnership=other).exists()
    assert visible.filter(partnership=None, organization=None).exists()


def test_staff_cannot_open_measures(tenant, login):
    c = login(tenant.hco_staff)
    assert c.get("/measures/").status_code == 403


def test_every_measures_view_declares_the_measures_capability():
    # The outcomes pages declare none: they decide in their body (define, record, review).
    declared = {
        p.name: p.callback.required_capability
        for p in metrics_urls.urlpatterns
        if getattr(p.callback, "required_capability", None) is not None
    }
    assert set(declared) == {
        "metrics_dashboard",
        "metrics_export",
        "metrics_stalled",
        "metrics_refresh",
        "metrics_refresh_status",
        "metrics_partnership_review",
        "metrics_partnership_target",
    }
    assert set(declared.values()) == {Capability.VIEW_MEASURES}


def test_the_measures_and_the_access_log_are_granted_apart(tenant, login, monkeypatch):
    """Today the same roles hold both; take one away and only its pages close. Were the
    measures gated by the access log's capability again, this would fail."""
    referrals(tenant, clients(tenant, 2))
    rollup(tenant)
    pk = tenant.partnership.pk
    pages = [
        "/measures/",
        "/measures/stalled/",
        "/measures/refresh/status/",
        "/measures/export.csv?table=summary&kind=month&period=2026-03-01",
        f"/measures/partnerships/{pk}/review/",
    ]
    posts = ["/measures/refresh/", f"/measures/partnerships/{pk}/targets/"]
    measures_link = 'href="/measures/"'
    access_log_link = f'href="{reverse("access_log")}"'
    review_link = f'href="/measures/partnerships/{pk}/review/"'
    outcomes = f"/measures/partnerships/{pk}/outcomes/"
    admin = roles._BY_ROLE[Role.ORG_ADMIN]
    c = login(tenant.hco_admin)

    monkeypatch.setitem(roles._BY_ROLE, Role.ORG_ADMIN, admin - {Capability.VIEW_ACCESS_LOG})
    assert [c.get(url).status_code for url in pages] == [200] * len(pages)
    assert c.get(reverse("access_log")).status_code == 403
    html = c.get("/measures/").content.decode()
    assert measures_link in html and access_log_link not in html
    assert review_link in c.get(outcomes).content.decode()

    monkeypatch.setitem(roles._BY_ROLE, Role.ORG_ADMIN, admin - {Capability.VIEW_MEASURES})
    assert [c.get(url).status_code for url in pages] == [403] * len(pages)
    assert [c.post(url).status_code for url in posts] == [403] * len(posts)
    response = c.get(reverse("access_log"))
    assert response.status_code == 200
    html = response.content.decode()
    assert access_log_link in html and measures_link not in html
    assert review_link not in c.get(outcomes).content.decode()


def test_foreign_backbone_sees_nothing_of_another_network(tenant, foreign_tenant, login):
    referrals(tenant, clients(tenant, 3))
    rollup(tenant)
    c = login(foreign_tenant.backbone_admin)
    html = c.get("/measures/").content.decode()
    assert "Marrowdale" not in html
    assert c.get(f"/measures/?partnership={tenant.partnership.pk}").status_code == 404
    assert c.get(f"/measures/partnerships/{tenant.partnership.pk}/review/").status_code == 404


def test_refresh_recomputes_and_shows_progress(tenant, login, django_capture_on_commit_callbacks):
    referrals(tenant, clients(tenant, 2))
    c = login(tenant.backbone_admin)
    assert "No measures have been computed" in c.get("/measures/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post("/measures/refresh/")
    assert response.status_code == 302
    run = RollupRun.objects.get(network=tenant.network)
    assert run.status == RollupRun.Status.DONE and run.progress == 100
    assert Rollup.objects.filter(run=run, measure="referrals_sent").exists()
    done = c.get("/measures/refresh/status/")
    assert "Measures computed" in done.content.decode()
    # Done: the page reloads itself with the new figures (htmx follows HX-Refresh).
    assert done["HX-Refresh"] == "true"
    # A run still going shows its progress and keeps polling.
    RollupRun.objects.create(network=tenant.network, status="running", progress=40)
    going = c.get("/measures/refresh/status/")
    status = going.content.decode()
    assert 'value="40"' in status and "hx-trigger" in status
    assert not going.has_header("HX-Refresh")
    # Asking again while one is going starts no second run.
    c.post("/measures/refresh/")
    assert RollupRun.objects.filter(network=tenant.network).count() == 2


def test_nightly_task_recomputes_every_network(
    tenant, foreign_tenant, django_capture_on_commit_callbacks
):
    referrals(tenant, clients(tenant, 2))
    with django_capture_on_commit_callbacks(execute=True):
        rollup_nightly()
    runs = RollupRun.objects.filter(status=RollupRun.Status.DONE)
    assert {r.network_id for r in runs} == {tenant.network.pk, foreign_tenant.network.pk}
    # A second night replaces the rows: the older run's rows are gone.
    first = set(runs.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        rollup_nightly()
    assert not Rollup.objects.filter(run_id__in=first).exists()


def test_partnership_review_is_printable_and_takes_targets(tenant, login):
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    c = login(tenant.hco_admin)
    url = f"/measures/partnerships/{tenant.partnership.pk}/review/"
    html = c.get(url + "?period=2026-03-01").content.decode()
    assert "Partnership review: Marrowdale Clinic + Food Bank" in html
    assert "data-print" in html  # static/js/linkage.js prints on click (no inline handler)
    for key in ("summary", "funnel", "disparities-age_band", "disparities-language", "national"):
        assert f'data-table="{key}"' in html
    assert ["Target population", "not entered"] in _table(html, "funnel")
    bad = c.post(
        url.replace("review", "targets"),
        {"target_population": "lots", "monthly_cost": "10"},
        follow=True,
    )
    assert "Enter a whole number" in bad.content.decode()
    c.post(url.replace("review", "targets"), {"target_population": "500", "monthly_cost": "1200"})
    html = c.get(url + "?period=2026-03-01").content.decode()
    assert ["Target population", "500"] in _table(html, "funnel")
    cost = _table(html, "cost")
    assert ["Cost per client served", "$100.00"] in cost
    exported = c.get(
        f"/measures/export.csv?table=cost&review={tenant.partnership.pk}&period=2026-03-01"
    )
    assert _csv(exported) == cost


def test_stalled_drill_down_lists_own_referrals_without_client_details(
    tenant, foreign_tenant, login
):
    from datetime import timedelta

    from django.utils import timezone

    from audit.models import AuditEvent
    from referrals.models import Referral

    late = referrals(tenant, clients(tenant, 2), status="requested")
    Referral.objects.filter(pk=late[0].pk).update(ack_due_at=timezone.now() - timedelta(days=1))
    Referral.objects.filter(pk=late[1].pk).update(ack_due_at=timezone.now() + timedelta(days=1))
    foreign = referrals(foreign_tenant, clients(foreign_tenant, 1), status="requested")
    Referral.objects.filter(pk=foreign[0].pk).update(ack_due_at=timezone.now() - timedelta(days=1))
    c = login(tenant.hco_admin)
    html = c.get("/measures/stalled/").content.decode()
    assert f"#{late[0].pk}<" in html
    assert f"#{late[1].pk}<" not in html and f"#{foreign[0].pk}<" not in html
    assert late[0].client.family_name not in html
    event = AuditEvent.objects.filter(object_type="referral").latest("pk")
    assert event.object_ids == [late[0].pk]
    # The backbone is party to none of them: it sees the counts, not the referrals.
    from django.test import Client

    c = login(tenant.backbone_admin, Client())
    assert "Nothing is stalled" in c.get("/measures/stalled/").content.decode()


def test_a_failed_run_says_so(tenant, login):
    RollupRun.objects.create(network=tenant.network, status=RollupRun.Status.FAILED)
    c = login(tenant.backbone_admin)
    assert "The last recomputation failed" in c.get("/measures/refresh/status/").content.decode()
    assert "The last recomputation failed" in c.get("/measures/").content.decode()


def test_the_dashboard_opens_on_the_latest_complete_period(tenant, login, no_suppression):
    import time_machine

    with time_machine.travel(datetime(2026, 6, 2, 15, tzinfo=UTC), tick=False):
        referrals(tenant, clients(tenant, 3), sent=datetime(2026, 5, 5, 15, tzinfo=UTC))
        referrals(tenant, clients(tenant, 1), sent=datetime(2026, 6, 1, 18, tzinfo=UTC))
        rollup(tenant)
        c = login(tenant.backbone_admin)
        html = c.get("/measures/").content.decode()
        # Two days into June, May is the period worth looking at; June is still offered.
        assert re.search(r'<option value="2026-05-01" selected>May 2026</option>', html)
        assert '<option value="2026-06-01">Jun 2026 (so far)</option>' in html
        assert ["Process", "Referrals sent", "3", "", ""] in _table(html, "summary")
        html = c.get("/measures/?period=2026-06-01").content.decode()
        assert ["Process", "Referrals sent", "1", "", ""] in _table(html, "summary")
        assert "Jun 2026 (so far)" in html


def test_the_disparities_view_shows_every_client_based_measure(tenant, login):
    from metrics.registry import MEASURES

    referrals(tenant, clients(tenant, 3))
    rollup(tenant)
    c = login(tenant.backbone_admin)
    html = c.get("/measures/?kind=month&period=2026-03-01&breakdown=language").content.decode()
    names = [row[0] for row in _table(html, "disparities-language")[1:]]
    assert names == [m.name for m in MEASURES if m.client_based]
    assert {"National", "Funnel", "Outcome"} <= {m.group for m in MEASURES if m.name in names}
    # Counts of contacts and needs are not about people: they are not broken down, and the
    # page says why.
    assert "Encounters (contacts recorded)" not in names
    assert "count contacts and needs, not people" in html


def test_csv_text_cannot_become_a_spreadsheet_formula(tenant, login):
    tenant.partnership.name = '=HYPERLINK("http://evil.example","x")'
    tenant.partnership.save(update_fields=["name"])
    referrals(tenant, clients(tenant, 12))
    rollup(tenant)
    c = login(tenant.backbone_admin)
    rows = _csv(c.get("/measures/export.csv?table=partnerships&kind=month&period=2026-03-01"))
    assert rows[1][0] == "'" + tenant.partnership.name
    assert rows[1][1] == "12"  # figures stay figures


def test_declines_by_reason_on_the_dashboard_and_the_review(tenant, login):
    """A table (with its chart and CSV) of declined referrals by the reason chosen; those
    declined before reasons were coded count as other; small cells are suppressed."""
    full = referrals(tenant, clients(tenant, 12), status="rejected")
    Referral.objects.filter(pk__in=[r.pk for r in full]).update(decline_reason="no-capacity")
    referrals(tenant, clients(tenant, 3), status="rejected")  # no reason recorded
    rollup(tenant)
    c = login(tenant.backbone_admin)
    html = c.get("/measures/?kind=month&period=2026-03-01").content.decode()
    table = _table(html, "referrals_declined_by_reason")
    assert table[0] == ["Category", "Count"]
    rows = dict(map(tuple, table[1:]))
    assert rows["No capacity"] == "12" and rows["Other"] == "<11"
    # 15 - 12 must not give the small cell away: another cell is hidden too.
    assert rows["Total"] == "15" and "suppressed" in rows.values()
    assert ["Process", "Referrals declined", "15", "", ""] in _table(html, "summary")
    assert 'id="chart-referrals_declined_by_reason"' in html
    exported = c.get(
        "/measures/export.csv?table=referrals_declined_by_reason&kind=month&period=2026-03-01"
    )
    assert _csv(exported) == table
    review = login(tenant.hco_admin, Client()).get(
        f"/measures/partnerships/{tenant.partnership.pk}/review/?period=2026-03-01"
    )
    assert _table(review.content.decode(), "referrals_declined_by_reason") == table
