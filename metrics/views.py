"""The measure pages: the dashboard (backbone admins: the network; org admins: their
organization), CSV downloads of every table, refresh with progress, and the printable
partnership review."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from audit.services import audit_read
from config.spreadsheets import csv_cell
from consent.categories import Category
from organizations.models import Partnership
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from . import selectors, services
from .models import PeriodKind, RollupRun
from .outcomes import selectors as outcome_selectors
from .registry import MEASURES
from .selectors import BREAKDOWNS, Scope

NO_PERIOD = "no-period"


class _View:
    """The choices a measure page was asked for, checked against what the viewer may see."""

    def __init__(self, request, partnership: Partnership | None = None):
        org = request.organization
        self.org = org
        self.kind = request.GET.get("kind", PeriodKind.MONTH)
        if self.kind not in PeriodKind.values:
            self.kind = PeriodKind.MONTH
        self.breakdown = request.GET.get("breakdown", "race_ethnicity")
        if self.breakdown not in BREAKDOWNS:
            self.breakdown = "race_ethnicity"
        self.partnerships = list(Partnership.objects.visible_to(org).order_by("name"))
        if partnership is None and request.GET.get("partnership"):
            try:
                wanted = int(request.GET["partnership"])
            except ValueError:
                raise Http404("Unknown partnership.") from None
            partnership = next((p for p in self.partnerships if p.pk == wanted), None)
            if partnership is None:
                raise Http404("Unknown partnership.")
        self.partnership = partnership
        if partnership is not None:
            self.scope = Scope(partnership.name, partnership=partnership)
        elif org.is_backbone:
            self.scope = Scope(gettext("%(name)s (network)") % {"name": org.network.name})
        else:
            self.scope = Scope(org.name, organization=org)
        self.run = selectors.latest_run(org.network_id)
        self.periods = selectors.periods(self.run, self.kind) if self.run else []
        self.current = selectors.period_containing(timezone.localdate(), self.kind)
        # The latest complete period by default: a month two days old says little, and
        # partnerships review the period that has ended. The current one stays a choice.
        complete = [p for p in self.periods if p != self.current]
        self.start = (complete or self.periods or [None])[0]
        asked = request.GET.get("period")
        if asked and self.periods:
            try:
                day = date.fromisoformat(asked)
            except ValueError:
                day = None
            if day in self.periods:
                self.start = day

    def tables(self, *, review: bool = False) -> list:
        if self.start is None:
            return []
        args = (self.run, self.org, self.kind, self.start, self.scope)
        out = [
            selectors.trend_table(self.run, self.org, self.kind, self.scope, self.start),
            selectors.summary_table(*args),
            selectors.funnel_table(*args),
        ]
        if not review and self.partnership is None:
            out.append(
                selectors.partnership_table(
                    self.run, self.org, self.kind, self.start, self.partnerships
                )
            )
        cost = selectors.cost_table(*args)
        if cost is not None:
            out.append(cost)
        outcomes = outcome_selectors.measures_in_scope(self.org, self.scope)
        table = outcome_selectors.outcome_table(*args, outcomes)
        if table is not None:
            out.append(table)
        for b in BREAKDOWNS if review else [self.breakdown]:
            table = selectors.disparity_table(*args, b)
            outcome_selectors.add_disparity_rows(table, *args, b, outcomes)
            out.append(table)
        out += [
            selectors.national_table(*args),
            selectors.declines_table(*args),
            selectors.encounters_table(*args),
            selectors.needs_table(*args),
            selectors.stalled_table(self.run, self.org, self.scope),
        ]
        return out

    def context(self, tables) -> dict:
        return {
            "view": self,
            "tables": tables,
            "period_choices": [
                (p, selectors.period_label(p, self.kind, so_far=p == self.current))
                for p in self.periods
            ],
            "period_label": (
                selectors.period_label(self.start, self.kind, so_far=self.start == self.current)
                if self.start
                else ""
            ),
            "kinds": PeriodKind.choices,
            "breakdowns": [(k, v[0]) for k, v in BREAKDOWNS.items()],
            "measures": MEASURES,
            "pending": selectors.pending_run(self.org.network_id),
            "last": RollupRun.objects.filter(network_id=self.org.network_id).first(),
            "applying": selectors.changes_pending(self.org.network_id),
        }


@require_GET
@member_required(Capability.VIEW_MEASURES)
def dashboard(request):
    """Network (backbone admins) or organization (org admins) measures, with pickers."""
    view = _View(request)
    tables = view.tables()
    context = view.context(tables)
    summary = next((t for t in tables if t.key == "summary"), None)
    context["headline"] = selectors.headline(summary) if summary else []
    context["threshold"] = selectors.threshold()
    # The moment the numbers reflect every change before (the incremental rollup's).
    context["as_of"] = view.run and (view.run.data_as_of or view.run.finished_at)
    return render(request, "metrics/dashboard.html", context)


@require_GET
@member_required(Capability.VIEW_MEASURES)
def export_csv(request):
    """One table of the dashboard (or of a review page) as CSV: the very strings shown."""
    partnership = None
    if request.GET.get("review"):
        try:
            partnership = get_visible_or_404(
                Partnership, request.organization, pk=int(request.GET["review"])
            )
        except ValueError:
            raise Http404("Unknown partnership.") from None
    view = _View(request, partnership)
    wanted = request.GET.get("table", "")
    table = next((t for t in view.tables(review=partnership is not None) if t.key == wanted), None)
    if table is None:
        raise Http404("No such table for this period.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # Named for what it holds (the table, whose numbers, which period); a byte-order mark
    # first, so Excel opens the UTF-8 ("<11", "—", names with accents) as UTF-8.
    name = "-".join(
        part
        for part in (
            "linkage",
            slugify(table.title.split(" — ")[0]),
            slugify(view.scope.label),
            view.kind,
            view.start.isoformat(),
        )
        if part
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([csv_cell(c) for c in table.columns])
    writer.writerows([csv_cell(c) for c in row] for row in table.rows)
    return response


@require_POST
@member_required(Capability.VIEW_MEASURES)
def refresh(request):
    """Bring the network's rollups up to date now (in the background): the recorded
    changes are applied (the incremental path); a network never computed yet gets its
    first full recompute, whose progress the page shows."""
    run = services.rollup_refresh_request(
        network=request.organization.network, requested_by=request.user
    )
    if request.headers.get("HX-Request"):
        return render(request, "metrics/_rollup_status.html", _status(request, pending=run))
    if run is not None:
        messages.success(
            request, gettext("Measures are being recomputed; this page shows the progress.")
        )
    else:
        messages.success(request, gettext("Recent changes are being applied to the measures."))
    return redirect("metrics_dashboard")


def _status(request, pending: RollupRun | None = None) -> dict:
    network_id = request.organization.network_id
    return {
        "pending": pending or selectors.pending_run(network_id),
        "latest": selectors.latest_run(network_id),
        "last": RollupRun.objects.filter(network_id=network_id).first(),
        "applying": selectors.changes_pending(network_id),
    }


@require_GET
@member_required(Capability.VIEW_MEASURES)
def refresh_status(request):
    """The progress of the network's pending recomputation, or of the changes being
    applied, and the time the measures are as of (polled by the dashboard)."""
    context = {**_status(request), "polled": True}
    response = render(request, "metrics/_rollup_status.html", context)
    if not context["pending"] and not context["applying"] and context["latest"]:
        # Done: htmx reloads the page, so the new figures show without a manual reload.
        response["HX-Refresh"] = "true"
    return response


@require_GET
@member_required(Capability.VIEW_MEASURES)
def partnership_review(request, partnership_id: int):
    """A printable review of one partnership's measures for one period."""
    partnership = get_visible_or_404(Partnership, request.organization, pk=partnership_id)
    view = _View(request, partnership)
    context = view.context(view.tables(review=True))
    context["partnership"] = partnership
    context["parties"] = partnership.organizations.order_by("name")
    return render(request, "metrics/partnership_review.html", context)


@require_POST
@member_required(Capability.VIEW_MEASURES)
def partnership_target(request, partnership_id: int):
    """Record the partnership's target population and monthly cost."""
    partnership = get_visible_or_404(Partnership, request.organization, pk=partnership_id)
    try:
        population = int(request.POST.get("target_population", ""))
        cost = Decimal(request.POST.get("monthly_cost", ""))
        if population < 0 or cost < 0 or cost > Decimal("9999999999"):
            raise ValueError
    except (ValueError, InvalidOperation):
        messages.error(
            request, gettext("Enter a whole number of people and a cost in dollars (0 or more).")
        )
        return redirect("metrics_partnership_review", partnership_id=partnership.pk)
    services.partnership_target_set(
        partnership=partnership, target_population=population, monthly_cost=cost
    )
    messages.success(request, gettext("Saved: the funnel and cost now use these numbers."))
    return redirect("metrics_partnership_review", partnership_id=partnership.pk)


@require_GET
@member_required(Capability.VIEW_MEASURES)
def stalled(request):
    """Open referrals past due that the organization is a party to (no client details:
    each links to the referral, whose page follows the consent policy)."""
    found = selectors.stalled_referrals(request.organization, timezone.now())
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    audit_read(
        request,
        object_type="referral",
        objects=page.object_list,
        categories=[Category.REFERRALS.value],
    )
    return render(request, "metrics/stalled.html", {"page": page, "now": timezone.now()})
