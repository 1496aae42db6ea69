"""The audit pages: an organization's own access log and the backbone's network activity."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from config.spreadsheets import csv_cell
from organizations.roles import Capability
from organizations.tenancy import member_required

from . import selectors
from .forms import AccessLogFilterForm, PeriodForm
from .models import AuditEvent

PAGE_SIZE = 50
CSV_COLUMNS = [
    "occurred_at",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_ids",
    "client_ids",
    "categories",
    "fields",
    "ip_address",
    "request_id",
]


@member_required(Capability.VIEW_ACCESS_LOG)
@require_GET
def access_log(request):
    """Who in this organization saw or changed what, newest first; `?format=csv` downloads
    every row the filters select."""
    form = AccessLogFilterForm(request.GET, organization=request.organization)
    valid = form.is_valid()
    export = request.GET.get("format", "")
    if export not in ("", "csv"):
        form.add_error(None, gettext("The access log downloads as CSV only (format=csv)."))
        valid = False
    if not valid:
        # Bad filters show their errors over an empty result (400), never everything.
        return render(
            request,
            "audit/access_log.html",
            {"form": form, "page": None, "filtered": True},
            status=400,
        )
    events = selectors.access_log_for(organization=request.organization, **form.selector_filters())
    if export == "csv":
        return _csv_response(events)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(form.cleaned_data.values())
    return render(
        request, "audit/access_log.html", {"form": form, "page": page, "filtered": filtered}
    )


def _csv_response(events) -> StreamingHttpResponse:
    today = timezone.localdate().isoformat()
    response = StreamingHttpResponse(
        _csv_lines(events.iterator(chunk_size=1000)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="access-log-{today}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
        detail = event.detail or {}
        yield writer.writerow(
            [
                timezone.localtime(event.occurred_at).isoformat(),
                event.actor_id or "",
                csv_cell(event.actor.email) if event.actor else "",
                event.action,
                csv_cell(event.object_type),
                " ".join(str(i) for i in event.object_ids),
                " ".join(str(c.client_id) for c in event.clients.all()),
                csv_cell(" ".join(map(str, detail.get("categories", [])))),
                csv_cell(" ".join(map(str, detail.get("fields", [])))),
                event.ip_address or "",
                csv_cell(event.request_id),
            ]
        )


@member_required(Capability.MANAGE_NETWORK)
@require_GET
def network_activity(request):
    """Backbone admins: how much each organization of the network did, by action, over a
    period. Counts only: the network never sees another organization's client-level log."""
    form = PeriodForm(request.GET)
    activity = None
    if form.is_valid():
        since, until = form.bounds()
        activity = selectors.network_activity(
            network=request.organization.network, since=since, until=until
        )
    today = timezone.localdate()
    presets = [
        (label, (today - timedelta(days=days - 1)).isoformat(), today.isoformat())
        for label, days in (
            (gettext("Last 7 days"), 7),
            (gettext("Last 30 days"), 30),
            (gettext("Last 90 days"), 90),
        )
    ]
    return render(
        request,
        "audit/network_activity.html",
        {"form": form, "activity": activity, "presets": presets},
        # A period that is not one is reported (400) over an empty table, not replaced.
        status=200 if activity is not None else 400,
    )
