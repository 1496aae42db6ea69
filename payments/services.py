"""The writes of payments: statements generated from the record and their workflow
(draft → submitted by the payee → approved or disputed by the payer → paid), corrections
of approved statements, and the rows statements are made from (panel sizes, support-fund
expenses).

Each service checks who may do it (payer or payee of the term; the backbone only reads)
and raises ValidationError (nothing written) otherwise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from audit.models import AuditEvent
from audit.services import audit_record
from organizations.models import Organization, User

from . import statements as calc
from .models import (
    PanelMonth,
    PaymentTerm,
    Statement,
    StatementLine,
    StatementShare,
    SupportExpense,
)

Status = Statement.Status


def _party(term: PaymentTerm, organization: Organization, side: str) -> None:
    if getattr(term, f"{side}_id") != organization.pk:
        raise PermissionDenied(
            gettext("Only the term's payer may do this.")
            if side == "payer"
            else gettext("Only the term's payee may do this.")
        )


def _write(statement: Statement, computed: calc.Computed, extra: list[calc.Line] = ()) -> None:
    lines = [*computed.lines, *extra]
    StatementLine.objects.bulk_create(
        StatementLine(
            statement=statement,
            position=i,
            kind=line.kind,
            date=line.date,
            referral_id=line.referral_id,
            pathway_id=line.pathway_id,
            expense_id=line.expense_id,
            client_id=line.client_id,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount=line.amount,
        )
        for i, line in enumerate(lines, start=1)
    )
    StatementShare.objects.bulk_create(
        StatementShare(
            statement=statement, organization_id=s.organization_id, label=s.label, amount=s.amount
        )
        for s in computed.shares
    )


def _audit(
    statement: Statement, actor: User, organization: Organization, action: str, **detail
) -> None:
    clients = sorted(
        {c for c in statement.lines.values_list("client_id", flat=True) if c is not None}
    )
    audit_record(
        actor=actor,
        organization=organization,
        action=action,
        object_type="statement",
        object_ids=[statement.pk],
        client_ids=clients,
        detail={"step": statement.status, **detail},
    )


@transaction.atomic
def statement_generate(
    *, term: PaymentTerm, month: date, actor: User, organization: Organization
) -> Statement:
    """The payee's statement for `month`, generated from the record: a new draft, or the
    existing draft generated again (a submitted, disputed or frozen one is not touched:
    ValidationError)."""
    _party(term, organization, "payee")
    computed = calc.compute(term, month)
    if computed is None:
        raise ValidationError(
            gettext("The term is not in force in %(month)s.") % {"month": date_format(month, "F Y")}
        )
    existing = (
        Statement.objects.select_for_update()
        .filter(term=term, period_start=computed.start, adjusts__isnull=True)
        .first()
    )
    if existing is not None and existing.status != Status.DRAFT:
        values = {
            "month": date_format(month, "F Y"),
            "status": str(existing.get_status_display()).lower(),
        }
        raise ValidationError(
            gettext(
                "The statement for %(month)s is %(status)s: correct it with an adjusting statement."
            )
            % values
            if existing.frozen
            else gettext(
                "The statement for %(month)s is %(status)s: it can no longer be generated again."
            )
            % values
        )
    if existing is not None:
        existing.lines.all().delete()
        existing.shares.all().delete()
        statement = existing
    else:
        statement = Statement(term=term, period_start=computed.start)
    statement.period_end = computed.end
    statement.subtotal = computed.subtotal
    statement.outcome_adjustment = computed.outcome_adjustment
    statement.outcome_note = computed.outcome_note
    statement.total = computed.total
    statement.generated_at = timezone.now()
    statement.generated_by = actor
    statement.save()
    _write(statement, computed)
    _audit(statement, actor, organization, AuditEvent.Action.CREATE)
    return statement


def _locked(statement_id: int) -> Statement:
    return Statement.objects.select_for_update().select_related("term").get(pk=statement_id)


# What a statement in a status cannot be (the ValidationError of _move).
_VERBS = {
    "submitted": gettext_lazy("A %(status)s statement cannot be submitted."),
    "disputed": gettext_lazy("A %(status)s statement cannot be disputed."),
    "changed": gettext_lazy("A %(status)s statement cannot be changed."),
    "approved": gettext_lazy("A %(status)s statement cannot be approved."),
    "marked paid": gettext_lazy("A %(status)s statement cannot be marked paid."),
}


def _move(statement: Statement, allowed: tuple[str, ...], verb: str) -> None:
    if statement.status not in allowed:
        # `verb` is one of _VERBS' keys: each sentence is translated whole.
        raise ValidationError(
            _VERBS[verb] % {"status": str(statement.get_status_display()).lower()}
        )


@transaction.atomic
def statement_submit(*, statement_id: int, actor: User, organization: Organization) -> Statement:
    """The payee submits a draft (or a disputed statement it has answered) to the payer."""
    statement = _locked(statement_id)
    _party(statement.term, organization, "payee")
    _move(statement, (Status.DRAFT, Status.DISPUTED), "submitted")
    _recount(statement)
    statement.status = Status.SUBMITTED
    statement.submitted_at = timezone.now()
    statement.save()
    _audit(statement, actor, organization, AuditEvent.Action.UPDATE)
    return statement


@transaction.atomic
def statement_dispute(
    *, statement_id: int, comments: dict[int, str], actor: User, organization: Organization
) -> Statement:
    """The payer disputes a submitted statement with a comment per line it questions
    (`comments`: line id → comment; at least one)."""
    statement = _locked(statement_id)
    _party(statement.term, organization, "payer")
    _move(statement, (Status.SUBMITTED,), "disputed")
    comments = {int(k): v.strip() for k, v in comments.items() if v and v.strip()}
    if not comments:
        raise ValidationError(gettext("Say what is wrong with at least one line."))
    lines = {line.pk: line for line in statement.lines.filter(pk__in=comments)}
    if set(lines) != set(comments):
        raise ValidationError(gettext("A comment names a line that is not on this statement."))
    for pk, comment in comments.items():
        lines[pk].dispute = comment
        lines[pk].save(update_fields=["dispute"])
    statement.status = Status.DISPUTED
    statement.decided_at = timezone.now()
    statement.decided_by = actor
    statement.save()
    _audit(statement, actor, organization, AuditEvent.Action.UPDATE, lines=sorted(comments))
    return statement


@transaction.atomic
def statement_line_withdraw(
    *, line_id: int, actor: User, organization: Organization
) -> StatementLine:
    """The payee withdraws a line of a draft or disputed statement: kept on the statement,
    no longer counted."""
    line = StatementLine.objects.select_related("statement__term").get(pk=line_id)
    statement = _locked(line.statement_id)
    _party(statement.term, organization, "payee")
    _move(statement, (Status.DRAFT, Status.DISPUTED), "changed")
    line.withdrawn = True
    line.save(update_fields=["withdrawn"])
    _recount(statement)
    _audit(statement, actor, organization, AuditEvent.Action.UPDATE, withdrawn=[line.pk])
    return line


def _recount(statement: Statement) -> None:
    """Subtotal, outcome adjustment and shares again from the lines still counted."""
    term = statement.term
    kept = [
        calc.Line(
            line.kind,
            line.date,
            line.description,
            line.quantity,
            line.unit_amount,
            client_id=line.client_id,
        )
        for line in statement.lines.filter(withdrawn=False)
    ]
    subtotal = sum((line.amount for line in kept), calc.ZERO)
    if statement.adjusts_id is None:
        adjustment, note = calc.outcome_part(term, statement.period_start, subtotal)
    else:
        adjustment, note = statement.outcome_adjustment, statement.outcome_note
    statement.subtotal = subtotal
    statement.outcome_adjustment = adjustment
    statement.outcome_note = note
    statement.total = subtotal + adjustment
    statement.save()
    statement.shares.all().delete()
    StatementShare.objects.bulk_create(
        StatementShare(
            statement=statement, organization_id=s.organization_id, label=s.label, amount=s.amount
        )
        for s in calc.shares(term, kept, statement.total)
    )


@transaction.atomic
def statement_approve(*, statement_id: int, actor: User, organization: Organization) -> Statement:
    """The payer approves a submitted statement: from now on it is frozen."""
    statement = _locked(statement_id)
    _party(statement.term, organization, "payer")
    _move(statement, (Status.SUBMITTED,), "approved")
    statement.status = Status.APPROVED
    statement.decided_at = timezone.now()
    statement.decided_by = actor
    statement.save()
    _audit(statement, actor, organization, AuditEvent.Action.UPDATE)
    return statement


@transaction.atomic
def statement_mark_paid(
    *, statement_id: int, paid_on: date, reference: str, actor: User, organization: Organization
) -> Statement:
    """The payer records the payment of an approved statement (date and reference)."""
    statement = _locked(statement_id)
    _party(statement.term, organization, "payer")
    _move(statement, (Status.APPROVED,), "marked paid")
    if not reference.strip():
        raise ValidationError(gettext("Give the payment's reference (a check or transfer number)."))
    statement.status = Status.PAID
    statement.paid_on = paid_on
    statement.payment_reference = reference.strip()[:100]
    statement.save()
    _audit(statement, actor, organization, AuditEvent.Action.UPDATE)
    return statement


@transaction.atomic
def statement_correct(*, statement_id: int, actor: User, organization: Organization) -> Statement:
    """A draft adjusting statement for an approved (or paid) one: the month generated again
    from the record, less what the original counted. Its total is the difference."""
    original = _locked(statement_id)
    _party(original.term, organization, "payee")
    if not original.frozen or original.adjusts_id is not None:
        raise ValidationError(gettext("Only an approved or paid statement is corrected this way."))
    if original.adjustments.filter(
        status__in=(Status.DRAFT, Status.SUBMITTED, Status.DISPUTED)
    ).exists():
        raise ValidationError(gettext("A correction of this statement is already under way."))
    computed = calc.compute(original.term, original.period_start)
    before = original.subtotal + sum(
        (
            a.subtotal
            for a in original.adjustments.filter(status__in=(Status.APPROVED, Status.PAID))
        ),
        calc.ZERO,
    )
    less = calc.Line(
        StatementLine.Kind.CORRECTION,
        computed.end,
        f"Less what statement {original.pk} and its approved corrections counted",
        Decimal(1),
        -before,
    )
    subtotal = computed.subtotal - before
    adjustment = computed.outcome_adjustment - original.outcome_adjustment
    statement = Statement.objects.create(
        term=original.term,
        period_start=computed.start,
        period_end=computed.end,
        adjusts=original,
        subtotal=subtotal,
        outcome_adjustment=adjustment,
        outcome_note=computed.outcome_note,
        total=subtotal + adjustment,
        generated_by=actor,
    )
    computed.shares = calc.shares(original.term, [*computed.lines, less], statement.total)
    _write(statement, computed, [less])
    _audit(statement, actor, organization, AuditEvent.Action.CREATE, adjusts=original.pk)
    return statement


# --- the rows statements are made from ----------------------------------------------------------


@transaction.atomic
def panel_month_set(
    *, term: PaymentTerm, month: date, members: int, organization: Organization
) -> PanelMonth:
    """The attributed panel's size for a month of a per-member-per-month term (payer or
    payee enters it)."""
    if organization.pk not in (term.payer_id, term.payee_id):
        raise PermissionDenied(gettext("Only the term's payer or payee may enter its panel."))
    if term.kind != PaymentTerm.Kind.PMPM:
        raise ValidationError(gettext("Panel sizes belong to a per-member-per-month term."))
    if members < 0:
        raise ValidationError(gettext("A panel has 0 or more members."))
    panel, _ = PanelMonth.objects.update_or_create(
        term=term, month=month.replace(day=1), defaults={"members": members}
    )
    return panel


@transaction.atomic
def support_expense_record(
    *,
    term: PaymentTerm,
    client,
    day: date,
    amount: Decimal,
    purpose: str,
    actor: User,
    organization: Organization,
) -> SupportExpense:
    """A patient support fund expense, recorded by the term's payee."""
    _party(term, organization, "payee")
    if term.kind != PaymentTerm.Kind.SUPPORT_FUNDS:
        raise ValidationError(gettext("Expenses are drawn from a patient support funds term."))
    if amount <= 0:
        raise ValidationError({"amount": gettext("An expense is more than $0.")})
    if not purpose.strip():
        raise ValidationError({"purpose": gettext("Say what the money was for.")})
    expense = SupportExpense.objects.create(
        term=term,
        client=client,
        date=day,
        amount=amount,
        purpose=purpose.strip(),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.CREATE,
        object_type="support_expense",
        object_ids=[expense.pk],
        client_ids=[client.pk],
    )
    return expense
