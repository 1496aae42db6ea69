"""The payment-term pages: the terms an organization pays, is paid under or (the backbone)
oversees, in words; create and edit a term with its subsidy schedule; a PMPM term's panel
sizes (one month, or a CSV); a support-funds term's expenses and what is left of each
person's allowance.

Terms come through payments.selectors.terms_visible (a miss is a 404); who may change one is
payments.term_services.term_may_manage. Bad input: the page again at 400 with the errors
next to the fields, nothing written. Flash messages carry no client data.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from audit.services import audit_read
from consent.categories import Category
from metrics.registry import BY_KEY
from organizations.models import Partnership
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from . import services, term_services
from .models import PaymentTerm
from .selectors import terms_visible
from .term_forms import (
    ExpenseForm,
    PanelMonthForm,
    PanelUploadForm,
    PaymentTermForm,
    subsidy_formset,
    term_initial,
)

INVALID = 400
Kind = PaymentTerm.Kind


# --- a term in words ------------------------------------------------------------------------------


def money_words(amount: Decimal, currency: str = "USD") -> str:
    text = f"{amount:,.2f}"
    return f"${text}" if currency == "USD" else f"{currency} {text}"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def rates_in_words(term: PaymentTerm) -> str:
    """e.g. "$120.00 per completed referral with the need met, $60.00 attempted"."""
    m = lambda amount: money_words(amount, term.currency)  # noqa: E731
    if term.kind == Kind.FEE_FOR_SERVICE:
        if term.amount_need_met is None and term.amount_attempted is None:
            text = gettext("%(amount)s per completed referral") % {"amount": m(term.unit_amount)}
        else:
            met = term.amount_need_met if term.amount_need_met is not None else term.unit_amount
            tried = term.amount_attempted if term.amount_attempted is not None else term.unit_amount
            text = gettext(
                "%(met)s per completed referral with the need met, %(tried)s attempted"
            ) % {"met": m(met), "tried": m(tried)}
    elif term.kind == Kind.CASE_RATE:
        text = gettext("%(amount)s per client served per year") % {"amount": m(term.unit_amount)}
        if term.contracted_volume:
            text += ", " + gettext("%(count)s clients contracted") % {
                "count": term.contracted_volume
            }
    elif term.kind == Kind.PMPM:
        text = gettext("%(amount)s per member per month") % {"amount": m(term.unit_amount)}
    elif term.kind == Kind.PATHWAY:
        text = (
            gettext("%(amount)s per completed pathway") % {"amount": m(term.unit_amount)}
            if term.unit_amount
            else gettext("Each pathway's own value per completed pathway")
        )
    else:
        text = gettext("%(amount)s per person per year in support funds") % {
            "amount": m(term.unit_amount)
        }
    if term.escalator_percent:
        text += ", " + gettext("+%(percent)s a year") % {
            "percent": _percent(term.escalator_percent)
        }
    return text


def outcome_in_words(term: PaymentTerm) -> str:
    if not term.outcome_mode or term.outcome_target is None:
        return ""
    measure = BY_KEY.get(term.outcome_measure)
    name = measure.name if measure else term.outcome_measure
    held = gettext("%(measure)s is %(direction)s %(target)s") % {
        "measure": name,
        "direction": term.get_outcome_direction_display(),
        "target": f"{term.outcome_target.normalize():f}",
    }
    if term.outcome_mode == PaymentTerm.OutcomeMode.WITHHOLD:
        return gettext("%(percent)s withheld each month, paid when %(condition)s") % {
            "percent": _percent(term.withhold_percent),
            "condition": held,
        }
    return gettext("%(amount)s bonus each month when %(condition)s") % {
        "amount": money_words(term.bonus_amount, term.currency),
        "condition": held,
    }


def subsidies_in_words(term: PaymentTerm, subsidies) -> str:
    if not subsidies:
        return ""
    parts = [
        gettext("%(funder)s pays %(percent)s of months %(first)s to %(last)s")
        % {
            "funder": s.funder_name,
            "percent": _percent(s.percent),
            "first": s.month_from,
            "last": s.month_to,
        }
        for s in subsidies
    ]
    return "; ".join([*parts, gettext("otherwise %(payer)s pays all") % {"payer": term.payer.name}])


def _dates(term: PaymentTerm) -> str:
    if term.effective_to:
        return gettext("%(start)s to %(end)s") % {
            "start": f"{term.effective_from:%Y-%m-%d}",
            "end": f"{term.effective_to:%Y-%m-%d}",
        }
    return gettext("from %(start)s (open-ended)") % {"start": f"{term.effective_from:%Y-%m-%d}"}


class TermRow:
    def __init__(self, term: PaymentTerm, may_manage: bool):
        self.term = term
        self.rates = rates_in_words(term)
        self.outcome = outcome_in_words(term)
        self.subsidies = subsidies_in_words(term, list(term.subsidies.all()))
        self.dates = _dates(term)
        self.programs = [p.name for p in term.programs.all()]
        self.may_manage = may_manage
        self.children: list[TermRow] = []


# --- pages ---------------------------------------------------------------------------------------


@require_http_methods(["GET"])
@member_required(Capability.MANAGE_PAYMENTS)
def payment_term_list(request):
    """The organization's payment terms by partnership, in words, sub-terms under their
    contract; `?partnership=<id>`: that partnership's only."""
    org, membership = request.organization, request.membership
    partnerships = Partnership.objects.visible_to(org).order_by("name")
    terms = terms_visible(org)
    only = None
    if request.GET.get("partnership"):
        try:
            only = get_object_or_404(partnerships, pk=int(request.GET["partnership"]))
        except ValueError:
            raise Http404("Unknown partnership.") from None
        partnerships, terms = [only], terms.filter(partnership=only)
    terms = list(
        terms.prefetch_related("programs", "subsidies").order_by(
            "partnership__name", "effective_from", "name"
        )
    )
    rows = {
        t.pk: TermRow(
            t,
            term_services.term_may_manage(membership=membership, partnership=t.partnership, term=t),
        )
        for t in terms
    }
    groups: dict[Partnership, list[TermRow]] = defaultdict(list)
    for t in terms:
        if t.parent_id in rows:
            rows[t.parent_id].children.append(rows[t.pk])
        else:
            groups[t.partnership].append(rows[t.pk])
    new_for = [
        p
        for p in partnerships
        if term_services.term_may_manage(membership=membership, partnership=p)
    ]
    return render(
        request,
        "payments/terms/list.html",
        {"groups": list(groups.items()), "new_for": new_for, "only": only},
    )


def _term_for(request, term_id: int) -> PaymentTerm:
    return get_object_or_404(terms_visible(request.organization), pk=term_id)


def _render_form(request, *, partnership, kind, form, formset, term=None, status=200):
    return render(
        request,
        "payments/terms/form.html",
        {
            "partnership": partnership,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "form": form,
            "formset": formset,
            "term": term,
        },
        status=status,
    )


def _save_errors(form, formset, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        if field == "subsidies":
            formset._non_form_errors = formset.error_class(
                [*formset.non_form_errors(), *problems], error_class="nonform"
            )
        elif field in form.fields:
            for problem in problems:
                form.add_error(field, problem)
        else:
            for problem in problems:
                form.add_error(None, problem)


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_PAYMENTS)
def payment_term_new(request):
    """A new term on a partnership (`?partnership=<id>`), of a kind chosen first
    (`&kind=`), with its subsidy schedule."""
    try:
        partnership_id = int(request.GET.get("partnership", ""))
    except ValueError:
        raise Http404("Unknown partnership.") from None
    partnership = get_visible_or_404(Partnership, request.organization, pk=partnership_id)
    if not term_services.term_may_manage(membership=request.membership, partnership=partnership):
        raise PermissionDenied(gettext("Your role does not allow this."))
    kind = request.GET.get("kind", "")
    if kind not in Kind.values:
        return render(
            request,
            "payments/terms/kind.html",
            {"partnership": partnership, "kinds": Kind.choices},
        )
    post = request.POST if request.method == "POST" else None
    form = PaymentTermForm(
        post,
        partnership=partnership,
        kind=kind,
        # Who usually pays: an HCO or a payer pays a CBO (or the backbone).
        initial={
            "payer" if request.organization.kind in ("hco", "payer") else "payee": (
                request.organization.pk
            ),
            "outcome_direction": "at_least",
        },
    )
    formset = subsidy_formset(post, network_id=partnership.network_id)
    if post is not None:
        if form.is_valid() and formset.is_valid():
            try:
                term = term_services.payment_term_create(
                    partnership=partnership,
                    kind=kind,
                    data=form.data_for_service(),
                    programs=list(form.cleaned_data["programs"]),
                    subsidies=formset.subsidies(),
                    actor=request.user,
                    membership=request.membership,
                )
            except ValidationError as error:
                _save_errors(form, formset, error)
            else:
                messages.success(
                    request, gettext("Payment term “%(name)s” saved.") % {"name": term.name}
                )
                return redirect("payment_term_list")
        return _render_form(
            request,
            partnership=partnership,
            kind=kind,
            form=form,
            formset=formset,
            status=INVALID,
        )
    return _render_form(request, partnership=partnership, kind=kind, form=form, formset=formset)


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_PAYMENTS)
def payment_term_edit(request, term_id: int):
    """Change a term (its kind stays) and its subsidy schedule."""
    term = _term_for(request, term_id)
    partnership = term.partnership
    if not term_services.term_may_manage(
        membership=request.membership, partnership=partnership, term=term
    ):
        raise PermissionDenied(
            gettext("Only the term's payer or payee, or the backbone, may change it.")
        )
    post = request.POST if request.method == "POST" else None
    form = PaymentTermForm(
        post, partnership=partnership, kind=term.kind, term=term, initial=term_initial(term)
    )
    formset = subsidy_formset(post, network_id=partnership.network_id, term=term)
    if post is not None:
        if form.is_valid() and formset.is_valid():
            try:
                term_services.payment_term_update(
                    term=term,
                    data=form.data_for_service(),
                    programs=list(form.cleaned_data["programs"]),
                    subsidies=formset.subsidies(),
                    actor=request.user,
                    membership=request.membership,
                )
            except ValidationError as error:
                _save_errors(form, formset, error)
            else:
                messages.success(
                    request,
                    gettext("Payment term “%(name)s” saved.") % {"name": form.cleaned_data["name"]},
                )
                return redirect("payment_term_list")
        term.refresh_from_db()
        return _render_form(
            request,
            partnership=partnership,
            kind=term.kind,
            form=form,
            formset=formset,
            term=term,
            status=INVALID,
        )
    return _render_form(
        request, partnership=partnership, kind=term.kind, form=form, formset=formset, term=term
    )


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_PAYMENTS)
def payment_term_panel(request, term_id: int):
    """A per-member-per-month term's panel sizes: the months entered, one month set
    (`form=month`) or a CSV imported whole or not at all (`form=import`). Payer and payee
    enter them; the backbone reads."""
    term = _term_for(request, term_id)
    if term.kind != Kind.PMPM:
        raise Http404("Panel sizes belong to a per-member-per-month term.")
    org = request.organization
    may_enter = org.pk in (term.payer_id, term.payee_id)
    month_form, upload_form, file_errors = PanelMonthForm(), PanelUploadForm(), []
    if request.method == "POST":
        if not may_enter:
            raise PermissionDenied(gettext("Only the term's payer or payee enters its panel."))
        if request.POST.get("form") == "import":
            upload_form = PanelUploadForm(request.POST, request.FILES)
            if upload_form.is_valid():
                try:
                    saved = term_services.panel_import(
                        term=term, text=upload_form.cleaned_data["file"], organization=org
                    )
                except term_services.PanelFileError as error:
                    file_errors = error.errors
                else:
                    messages.success(
                        request,
                        ngettext(
                            "%(count)s month of panel sizes saved.",
                            "%(count)s months of panel sizes saved.",
                            saved,
                        )
                        % {"count": saved},
                    )
                    return redirect("payment_term_panel", term_id=term.pk)
        else:
            month_form = PanelMonthForm(request.POST)
            if month_form.is_valid():
                month = month_form.cleaned_data["month"]
                services.panel_month_set(
                    term=term,
                    month=month,
                    members=month_form.cleaned_data["members"],
                    organization=org,
                )
                messages.success(
                    request,
                    gettext("Panel size for %(month)s saved.")
                    % {"month": date_format(month, "F Y")},
                )
                return redirect("payment_term_panel", term_id=term.pk)
    status = INVALID if request.method == "POST" else 200
    return render(
        request,
        "payments/terms/panel.html",
        {
            "term": term,
            "rates": rates_in_words(term),
            "months": term.panel_months.order_by("-month"),
            "may_enter": may_enter,
            "month_form": month_form,
            "upload_form": upload_form,
            "file_errors": file_errors,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_PAYMENTS)
def payment_term_expenses(request, term_id: int):
    """A support-funds term's expenses (client names as consent allows), what is left of
    each person's allowance this term year, and (the payee) a form to record one."""
    term = _term_for(request, term_id)
    if term.kind != Kind.SUPPORT_FUNDS:
        raise Http404("Expenses belong to a patient support funds term.")
    org = request.organization
    may_record = org.pk == term.payee_id
    clients = term_services.expense_clients(term, org) if may_record else None
    expenses = list(term_services.term_expenses(term).select_related("recorded_by"))
    allowance, year_start, year_end, spent = term_services.allowance_spent(
        term, term_services.term_day(term)
    )
    left = {cid: max(allowance - amount, Decimal("0.00")) for cid, amount in spent.items()}
    choices = list(clients) if clients is not None else []
    names = term_services.names_shown(
        org, [e.client_id for e in expenses] + list(left) + [c.pk for c in choices]
    )
    labels = {
        c.pk: gettext("%(client)s — %(amount)s left this term year")
        % {
            "client": names.get(c.pk, gettext("Client #%(number)s") % {"number": c.pk}),
            "amount": money_words(left.get(c.pk, allowance), term.currency),
        }
        for c in choices
    }
    form = None
    if may_record:
        form = ExpenseForm(
            request.POST if request.method == "POST" else None,
            term=term,
            clients=clients,
            labels=labels,
        )
    elif request.method == "POST":
        raise PermissionDenied(gettext("Only the term's payee records its expenses."))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.support_expense_record(
                term=term,
                client=data["client"],
                day=data["date"],
                amount=data["amount"],
                purpose=data["purpose"],
                actor=request.user,
                organization=org,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(
                request, gettext("Expense recorded: it is the first in the list below.")
            )
            remaining = left.get(data["client"].pk, allowance)
            if data["amount"] > remaining:
                messages.warning(
                    request,
                    gettext(
                        "Only %(amount)s was left of that person's allowance this term year: "
                        "statements pay the expense up to it."
                    )
                    % {"amount": money_words(remaining, term.currency)},
                )
            return redirect("payment_term_expenses", term_id=term.pk)
    # What the page shows of clients (the expenses, the allowance table and the choices of
    # the form) is in the audit trail.
    audit_read(
        request,
        object_type="support_expense",
        objects=expenses,
        categories=[Category.DEMOGRAPHICS.value] if names else (),
    )
    if choices:
        audit_read(
            request,
            object_type="client",
            objects=choices,
            client_id_attr="pk",
            categories=[Category.DEMOGRAPHICS.value],
        )
    allowances = [
        {"client": cid, "name": names.get(cid, ""), "spent": amount, "left": left[cid]}
        for cid, amount in sorted(spent.items())
    ]
    return render(
        request,
        "payments/terms/expenses.html",
        {
            "term": term,
            "rates": rates_in_words(term),
            "expenses": [(e, names.get(e.client_id, "")) for e in expenses],
            "allowance": allowance,
            "year_start": year_start,
            "year_end": year_end,
            "allowances": allowances,
            "form": form,
        },
        status=INVALID if request.method == "POST" else 200,
    )
