"""The reminder pages: the network's rules and holidays, a partnership's override, the
backbone's stalled referrals, and each person's email preference."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from audit.models import AuditEvent
from audit.services import audit_read
from consent.categories import Category
from organizations.models import Partnership
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from ..models import NetworkHoliday, NotificationPreference, ReminderRules
from . import selectors, services
from .forms import HolidayForm, PartnershipRulesForm, PreferenceForm, RulesForm
from .rules import DEFAULT_RULES, network_rules

PAGE_SIZE = 25


def _errors_into(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@member_required(Capability.MANAGE_NETWORK)
@require_http_methods(["GET", "POST"])
def reminder_rules(request):
    """The network's reminder rules and holidays; the partnerships' overrides listed."""
    org = request.organization
    data = selectors.rules_page(org)
    rules_form = RulesForm(
        instance=data["network_row"], fallback=DEFAULT_RULES, fallback_label="Linkage's default"
    )
    holiday_form = HolidayForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "holiday":
            holiday_form = HolidayForm(request.POST)
            if holiday_form.is_valid():
                try:
                    holiday = services.network_holiday_add(
                        network=org.network,
                        day=holiday_form.cleaned_data["date"],
                        name=holiday_form.cleaned_data["name"],
                        actor=request.user,
                        organization=org,
                    )
                except ValidationError as error:
                    _errors_into(holiday_form, error)
                else:
                    messages.success(
                        request,
                        gettext("Added %(holiday)s (%(date)s).")
                        % {"holiday": holiday.name, "date": date_format(holiday.date, "M d, Y")},
                    )
                    return redirect("reminder_rules")
        else:
            rules_form = RulesForm(
                request.POST,
                instance=data["network_row"],
                fallback=DEFAULT_RULES,
                fallback_label="Linkage's default",
            )
            if rules_form.is_valid():
                try:
                    services.reminder_rules_set(
                        network=org.network,
                        values=rules_form.values(),
                        actor=request.user,
                        organization=org,
                    )
                except ValidationError as error:
                    _errors_into(rules_form, error)
                else:
                    messages.success(
                        request,
                        gettext(
                            "Reminder rules saved. They apply to referrals from their next send, "
                            "acceptance or update."
                        ),
                    )
                    return redirect("reminder_rules")
        status = 400
    return render(
        request,
        "reminders/rules.html",
        {**data, "rules_form": rules_form, "holiday_form": holiday_form},
        status=status,
    )


@member_required(Capability.MANAGE_NETWORK)
@require_http_methods(["GET", "POST"])
def reminder_partnership_rules(request, partnership_id: int):
    """One partnership's override of the network's rules (empty fields follow them)."""
    org = request.organization
    partnership = get_visible_or_404(Partnership, org, pk=partnership_id)
    override = ReminderRules.objects.filter(partnership=partnership).first()
    base = network_rules(org.network_id)
    label = "the network's rule"
    form = PartnershipRulesForm(instance=override, fallback=base, fallback_label=label)
    status = 200
    if request.method == "POST":
        form = PartnershipRulesForm(
            request.POST, instance=override, fallback=base, fallback_label=label
        )
        if form.is_valid():
            try:
                row = services.reminder_rules_set(
                    network=org.network,
                    partnership=partnership,
                    values=form.values(),
                    actor=request.user,
                    organization=org,
                )
            except ValidationError as error:
                _errors_into(form, error)
            else:
                if row is None:
                    messages.success(
                        request,
                        gettext("%(partnership)s follows the network's rules.")
                        % {"partnership": partnership.name},
                    )
                else:
                    messages.success(
                        request,
                        gettext("Reminder rules of %(partnership)s saved.")
                        % {"partnership": partnership.name},
                    )
                return redirect("reminder_rules")
        status = 400
    return render(
        request,
        "reminders/partnership_rules.html",
        {"partnership": partnership, "form": form, "base": base, "override": override},
        status=status,
    )


@member_required(Capability.MANAGE_NETWORK)
@require_http_methods(["GET", "POST"])
def holiday_delete(request, holiday_id: int):
    """Remove a holiday, after a confirmation."""
    holiday = get_visible_or_404(NetworkHoliday, request.organization, pk=holiday_id)
    if request.method == "POST":
        services.network_holiday_remove(
            holiday=holiday, actor=request.user, organization=request.organization
        )
        messages.success(
            request,
            gettext("Removed %(holiday)s (%(date)s).")
            % {"holiday": holiday.name, "date": date_format(holiday.date, "M d, Y")},
        )
        return redirect("reminder_rules")
    return render(request, "reminders/holiday_delete.html", {"holiday": holiday})


@member_required(Capability.MANAGE_NETWORK)
@require_http_methods(["GET"])
def stalled_referrals(request):
    """The network's overdue referrals (the receivers' inboxes' rule), escalated ones first:
    how long, on whom, in what status. Client names only where the backbone may see them
    (consent.policy); the list shown is audited as one read."""
    org = request.organization
    now = timezone.now()
    found = selectors.stalled_referrals(org, now)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    names = selectors.client_names_visible(org, {r.client_id for r in rows})
    categories = [Category.REFERRALS.value]
    if names:
        categories.append(Category.DEMOGRAPHICS.value)
    audit_read(
        request,
        object_type="referral",
        objects=rows,
        categories=categories,
        action=AuditEvent.Action.LIST,
    )
    return render(
        request,
        "reminders/stalled.html",
        {
            "page": page,
            "rows": [(r, names.get(r.client_id)) for r in rows],
            "rules": network_rules(org.network_id),
        },
    )


@member_required()
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    """Email each notification at once, or one digest a day."""
    current = NotificationPreference.objects.filter(user=request.user).first()
    mode = current.email_mode if current else NotificationPreference.EmailMode.IMMEDIATE
    form = PreferenceForm(initial={"email_mode": mode})
    status = 200
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            services.notification_preference_set(
                user=request.user, email_mode=form.cleaned_data["email_mode"]
            )
            messages.success(request, gettext("Email preference saved."))
            return redirect("notification_preferences")
        status = 400
    return render(request, "reminders/preferences.html", {"form": form}, status=status)
