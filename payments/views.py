"""The payment statement pages: the list (with "generate a statement"), one statement with
the actions its payer and payee may take, its lines as CSV, and a printable statement.

Reading is for org admins (payer, payee) and backbone admins; statements are reached
through `get_visible_or_404`, so anyone else gets a 404. A client's name is shown only
through `selectors.statement_lines` (the consent policy), and every face that shows one is
audited. Each action is a POST that calls one service; a refusal of the service's
(ValidationError) is shown as a message with nothing written, and an action taken from the
wrong side of the term (PermissionDenied) answers 403.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import audit_read
from config.spreadsheets import csv_cell
from consent.categories import Category
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from . import selectors, services
from .forms import ConfirmForm, GenerateForm, MarkPaidForm, StatementFilterForm, dispute_comments
from .models import Statement

PER_PAGE = 25
# Labels (in the reader's language); the csv writer turns each into text.
CSV_COLUMNS = [
    gettext_lazy("Line"),
    gettext_lazy("Kind"),
    gettext_lazy("Date"),
    gettext_lazy("Referral"),
    gettext_lazy("Pathway"),
    gettext_lazy("Client"),
    gettext_lazy("Description"),
    gettext_lazy("Quantity"),
    gettext_lazy("Unit amount"),
    gettext_lazy("Amount"),
    gettext_lazy("Withdrawn"),
    gettext_lazy("Dispute"),
]
Status = Statement.Status


def _refused(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _audit_lines(request, views: list[selectors.LineView], action: str) -> None:
    """One audit row for the lines whose client this face showed (none shown, none
    written: a line without a visible client shows only ids and dates)."""
    audit_read(
        request,
        object_type="statement_line",
        objects=[v.line for v in views if v.client is not None],
        categories=[Category.DEMOGRAPHICS.value],
        action=action,
    )


def _statement(request, statement_id: int) -> Statement:
    return get_visible_or_404(Statement, request.organization, pk=statement_id)


def _back(statement_id: int):
    return redirect("payment_statement", statement_id=statement_id)


@require_GET
@member_required(Capability.MANAGE_PAYMENTS)
def statement_list(request):
    """The statements the organization pays or is paid under (the whole network's for the
    backbone), newest month first, filtered by term and status; and the form that
    generates a month's statement of a term the organization is paid under."""
    org = request.organization
    filters = StatementFilterForm(request.GET or None, organization=org)
    found = selectors.statements_visible(org)
    if filters.is_bound and filters.is_valid():
        if filters.cleaned_data["term"] is not None:
            found = found.filter(term=filters.cleaned_data["term"])
        if filters.cleaned_data["status"]:
            found = found.filter(status=filters.cleaned_data["status"])
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    generate = GenerateForm(organization=org)
    return render(
        request,
        "payments/statement_list.html",
        {
            "page": page,
            "filters": filters,
            "filtering": filters.is_bound and any(filters.data.get(k) for k in ("term", "status")),
            "generate": generate if generate.fields["term"].queryset.exists() else None,
        },
    )


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_generate(request):
    """Generate the chosen month's statement of a term the organization is paid under (a
    draft already there is generated again), then show it."""
    form = GenerateForm(request.POST, organization=request.organization)
    if not form.is_valid():
        messages.error(request, gettext("Choose one of your terms and a month from the lists."))
        return redirect("payment_statements")
    try:
        statement = services.statement_generate(
            term=form.cleaned_data["term"],
            month=form.cleaned_data["month"],
            actor=request.user,
            organization=request.organization,
        )
    except ValidationError as error:
        _refused(request, error)
        return redirect("payment_statements")
    messages.success(
        request,
        gettext("Statement #%(number)s generated from the record.") % {"number": statement.pk},
    )
    return _back(statement.pk)


@require_GET
@member_required(Capability.MANAGE_PAYMENTS)
def statement_detail(request, statement_id: int):
    """One statement: who owes whom for what period, its lines (a client's name only where
    the consent policy allows), totals and shares, and the steps the viewer's side may take
    in its current status."""
    org = request.organization
    statement = _statement(request, statement_id)
    views = selectors.statement_lines(org, statement)
    _audit_lines(request, views, AuditEvent.Action.VIEW)
    term = statement.term
    payee = term.payee_id == org.pk
    payer = term.payer_id == org.pk
    original = statement.adjusts_id is None
    return render(
        request,
        "payments/statement_detail.html",
        {
            "statement": statement,
            "term": term,
            "views": views,
            "shares": list(statement.shares.all()),
            "corrections": list(selectors.statements_visible(org).filter(adjusts=statement)),
            "can": {
                "submit": payee and statement.status in (Status.DRAFT, Status.DISPUTED),
                "withdraw": payee and statement.status in (Status.DRAFT, Status.DISPUTED),
                "regenerate": payee and original and statement.status == Status.DRAFT,
                "correct": payee and original and statement.frozen,
                "dispute": payer and statement.status == Status.SUBMITTED,
                "approve": payer and statement.status == Status.SUBMITTED,
                "mark_paid": payer and statement.status == Status.APPROVED,
            },
            "paid_form": MarkPaidForm(initial={"paid_on": timezone.localdate()}),
        },
    )


@require_GET
@member_required(Capability.MANAGE_PAYMENTS)
def statement_csv(request, statement_id: int):
    """The statement's lines as CSV (a client's name only where the consent policy
    allows; the referral or pathway id and the date always)."""
    statement = _statement(request, statement_id)
    views = selectors.statement_lines(request.organization, statement)
    _audit_lines(request, views, AuditEvent.Action.EXPORT)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"statement-{statement.pk}-{statement.period_start:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for view in views:
        line = view.line
        row = [
            line.position,
            line.get_kind_display(),
            line.date.isoformat(),
            line.referral_id or "",
            line.pathway_id or "",
            view.client_name,
            line.description,
            line.quantity,
            line.unit_amount,
            line.amount,
            gettext("yes") if line.withdrawn else "",
            line.dispute,
        ]
        writer.writerow([csv_cell(c) for c in row])
    return response


@require_GET
@member_required(Capability.MANAGE_PAYMENTS)
def statement_print(request, statement_id: int):
    """The statement on one printable page (the browser's "print to PDF" makes the PDF)."""
    org = request.organization
    statement = _statement(request, statement_id)
    views = selectors.statement_lines(org, statement)
    _audit_lines(request, views, AuditEvent.Action.PRINT)
    return render(
        request,
        "payments/statement_print.html",
        {
            "statement": statement,
            "term": statement.term,
            "views": views,
            "shares": list(statement.shares.all()),
            "printed_at": timezone.now(),
        },
    )


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_submit(request, statement_id: int):
    """The payee submits the statement to the payer."""
    statement = _statement(request, statement_id)
    try:
        services.statement_submit(
            statement_id=statement.pk, actor=request.user, organization=request.organization
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, gettext("Submitted to the payer."))
    return _back(statement.pk)


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_line_withdraw(request, statement_id: int, line_id: int):
    """The payee withdraws one line (kept on the statement, no longer counted)."""
    statement = _statement(request, statement_id)
    line = get_object_or_404(statement.lines, pk=line_id)
    if not ConfirmForm(request.POST).is_valid():
        messages.error(
            request,
            gettext("Tick the box beside line %(line)s to withdraw it.") % {"line": line.position},
        )
        return _back(statement.pk)
    try:
        services.statement_line_withdraw(
            line_id=line.pk, actor=request.user, organization=request.organization
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            gettext("Line %(line)s withdrawn; the totals are counted again.")
            % {"line": line.position},
        )
    return _back(statement.pk)


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_regenerate(request, statement_id: int):
    """The payee generates a draft again from the record (its withdrawals are lost)."""
    statement = _statement(request, statement_id)
    if not ConfirmForm(request.POST).is_valid():
        messages.error(request, gettext("Tick the box to generate the statement again."))
        return _back(statement.pk)
    if statement.adjusts_id is not None:
        messages.error(request, gettext("A correction is not generated again: start a new one."))
        return _back(statement.pk)
    if statement.status != Status.DRAFT:
        # The service would refuse too; checked here so that a submitted statement's
        # message names this one, not "the statement for the month".
        messages.error(
            request,
            gettext("A %(status)s statement cannot be generated again.")
            % {"status": str(statement.get_status_display()).lower()},
        )
        return _back(statement.pk)
    try:
        services.statement_generate(
            term=statement.term,
            month=statement.period_start.replace(day=1),
            actor=request.user,
            organization=request.organization,
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, gettext("Generated again from the record."))
    return _back(statement.pk)


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_correct(request, statement_id: int):
    """The payee starts an adjusting statement for an approved or paid one."""
    statement = _statement(request, statement_id)
    try:
        correction = services.statement_correct(
            statement_id=statement.pk, actor=request.user, organization=request.organization
        )
    except ValidationError as error:
        _refused(request, error)
        return _back(statement.pk)
    messages.success(
        request,
        gettext("Correction #%(correction)s of statement #%(number)s drafted.")
        % {"correction": correction.pk, "number": statement.pk},
    )
    return _back(correction.pk)


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_dispute(request, statement_id: int):
    """The payer disputes the statement with a comment on each line it questions."""
    statement = _statement(request, statement_id)
    try:
        services.statement_dispute(
            statement_id=statement.pk,
            comments=dispute_comments(request.POST),
            actor=request.user,
            organization=request.organization,
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, gettext("Disputed: the payee sees your comments on the lines."))
    return _back(statement.pk)


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_approve(request, statement_id: int):
    """The payer approves the statement (it is frozen from then on)."""
    statement = _statement(request, statement_id)
    if not ConfirmForm(request.POST).is_valid():
        messages.error(
            request, gettext("Tick the box to approve: an approved statement is frozen.")
        )
        return _back(statement.pk)
    try:
        services.statement_approve(
            statement_id=statement.pk, actor=request.user, organization=request.organization
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, gettext("Approved. A change now takes a correcting statement."))
    return _back(statement.pk)


@require_POST
@member_required(Capability.MANAGE_PAYMENTS)
def statement_mark_paid(request, statement_id: int):
    """The payer records the payment (date and reference)."""
    statement = _statement(request, statement_id)
    form = MarkPaidForm(request.POST)
    if not form.is_valid():
        errors = [e for field in form.errors.values() for e in field]
        messages.error(request, "Payment not recorded: " + " ".join(errors))
        return _back(statement.pk)
    try:
        services.statement_mark_paid(
            statement_id=statement.pk,
            paid_on=form.cleaned_data["paid_on"],
            reference=form.cleaned_data["reference"],
            actor=request.user,
            organization=request.organization,
        )
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, gettext("Payment recorded."))
    return _back(statement.pk)
