"""The inbox (referrals received) and sent pages: status tabs with counts, filters, client
search, pagination; overdue rows stand out and every row shows its age."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_http_methods

from audit.models import AuditEvent
from audit.services import audit_read_rows
from consent.categories import Category
from organizations.roles import Capability
from organizations.tenancy import member_required

from .. import selectors
from ..forms import ClientNameSearchForm, ListFilterForm
from ..models import Referral

PAGE_SIZE = 25

_TITLES = {
    selectors.INBOX: (
        pgettext_lazy("referral box", "Inbox"),
        _("Referrals to your organization's programs"),
    ),
    selectors.SENT: (pgettext_lazy("referral box", "Sent"), _("Referrals your organization sent")),
}
_MINE = {selectors.INBOX: _("Assigned to me"), selectors.SENT: _("Sent by me")}


@member_required(Capability.VIEW_CLIENTS)
@require_http_methods(["GET", "POST"])
def referral_inbox(request):
    """Referrals received. GET filters; a POST searches by client name (kept out of URLs)."""
    return _referral_list(request, selectors.INBOX)


@member_required(Capability.VIEW_CLIENTS)
@require_http_methods(["GET", "POST"])
def referral_sent(request):
    """Referrals sent. GET filters; a POST searches by client name (kept out of URLs)."""
    return _referral_list(request, selectors.SENT)


class KnownCountPaginator(Paginator):
    """A paginator told its count (the tab counts have it) instead of asking the database
    again. A capped count pages through the first COUNT_CAP referrals; filters reach
    older ones."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


def _referral_list(request, box: str):
    org, now = request.organization, timezone.now()
    tabs = selectors.tabs_for(box)
    tab_keys = {t.key: t for t in tabs}
    filter_form = ListFilterForm(
        request.GET,
        programs=selectors.program_filter_choices(organization=org, box=box),
        mine_label=_MINE[box],
    )
    filter_form.is_valid()  # the page shows the errors; the valid filters still apply

    # The client-name search travels in POST bodies only (tabs and pages too while it is
    # on), so a name never reaches a URL, a log line or the browser history.
    search_form = ClientNameSearchForm(request.POST if request.method == "POST" else None)
    searching = search_form.is_bound and search_form.is_valid()
    client_name = search_form.cleaned_data["client_name"] if searching else ""
    if searching:
        tab_key = request.POST.get("tab", "")
        page_number = search_form.cleaned_data.get("page") or 1
    else:
        tab_key = request.GET.get("tab", "")
        page_number = request.GET.get("page")
    tab = tab_keys.get(tab_key) or tab_keys[selectors.DEFAULT_TAB]

    base = selectors.referral_box(
        organization=org,
        user=request.user,
        box=box,
        filters=filter_form.filters(client_name=client_name),
        now=now,
    )
    counts = selectors.tab_counts(base, tabs)
    ordered = selectors.list_order(
        selectors.filter_tab(base, tab), now=now, due_first=selectors.is_work_tab(tab)
    )
    # The tab's count is known already: the paginator need not count again. It pages ids
    # (the referrals table alone); only the page's rows are then read with their names.
    page = KnownCountPaginator(ordered, PAGE_SIZE, count=counts[tab.key].count).get_page(
        page_number
    )
    page.object_list = selectors.rows_in_order(list(page.object_list), now=now)
    selectors.mark_names_visible(org, page.object_list)

    categories = [Category.REFERRALS.value]
    if any(r.client_name_visible for r in page.object_list):
        categories.append(Category.DEMOGRAPHICS.value)
    # One statement for the page's event and its client rows.
    audit_read_rows(
        request,
        object_type="referral",
        object_ids=[r.pk for r in page.object_list],
        client_ids=[r.client_id for r in page.object_list],
        categories=categories,
        action=AuditEvent.Action.SEARCH if searching else AuditEvent.Action.LIST,
    )
    title, subtitle = _TITLES[box]
    return render(
        request,
        "referrals/list.html",
        {
            "box": box,
            "title": title,
            "subtitle": subtitle,
            "tabs": [{"tab": t, "count": counts[t.key], "active": t is tab} for t in tabs],
            "tab": tab,
            "capped": counts[tab.key].capped,
            "count_cap": selectors.COUNT_CAP,
            "filter_form": filter_form,
            "search_form": search_form,
            "searching": searching,
            "page": page,
            "now": now,
            "list_url": request.path,
            "here": request.get_full_path(),
            "due_first": selectors.is_work_tab(tab),
            "decline_reasons": Referral.DeclineReason.choices,
        },
        status=400 if search_form.is_bound and not searching else 200,
    )
