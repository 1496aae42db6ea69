"""Payment terms written from their pages: create and update a term with its subsidy
schedule (one transaction), a CSV of panel sizes (validated whole, then saved through
payments.services.panel_month_set), and the reads those pages need (who may manage a term,
which clients a support-fund expense may name, what is left of each allowance).

Every rule is checked here, whatever the form already checked, and a broken one raises
ValidationError keyed by field (nothing written).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_record
from clients.models import Client
from consent.categories import Category
from metrics.registry import BY_KEY
from organizations.models import Membership, Organization, Partnership, User
from organizations.roles import Capability
from referrals.models import Referral

from . import services
from .models import PaymentTerm, SubsidyShare, SupportExpense
from .statements import ZERO, escalated, term_year_bounds

Kind = PaymentTerm.Kind
Mode = PaymentTerm.OutcomeMode

# The fields each kind of term uses besides those every term has; the others are cleared.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.FEE_FOR_SERVICE: ("amount_need_met", "amount_attempted"),
    Kind.CASE_RATE: ("contracted_volume",),
    Kind.PMPM: (),
    Kind.PATHWAY: (),
    Kind.SUPPORT_FUNDS: (),
}
COMMON_FIELDS = (
    "name",
    "payer",
    "payee",
    "parent",
    "effective_from",
    "effective_to",
    "unit_amount",
    "escalator_percent",
    "outcome_mode",
    "outcome_measure",
    "outcome_direction",
    "outcome_target",
    "withhold_percent",
    "bonus_amount",
)
KIND_ONLY = ("amount_need_met", "amount_attempted", "contracted_volume")
FROZEN = ("approved", "paid")
MAX_PANEL_ROWS = 600


# --- who may ---------------------------------------------------------------------------------


def term_may_manage(*, membership: Membership, partnership: Partnership, term=None) -> bool:
    """Backbone admins of the partnership's network; org admins (MANAGE_PAYMENTS) of an
    organization of the partnership for a new term, of the term's payer or payee for an
    existing one."""
    org = membership.organization
    if org.network_id != partnership.network_id:
        return False
    if membership.has(Capability.MANAGE_NETWORK):
        return True
    if not membership.has(Capability.MANAGE_PAYMENTS):
        return False
    if term is not None:
        return org.pk in (term.payer_id, term.payee_id)
    return partnership.organizations.filter(pk=org.pk).exists()


def term_parties(partnership: Partnership) -> QuerySet[Organization]:
    """Who may pay or be paid under the partnership's terms: its organizations and its
    network's backbone (a payer contracting once through the backbone)."""
    return Organization.objects.filter(
        network_id=partnership.network_id, kind=Organization.Kind.BACKBONE
    ) | Organization.objects.filter(partnerships=partnership)


def term_parents(partnership: Partnership, term: PaymentTerm | None = None):
    """The partnership's contracts with the backbone a sub-term may be paid from."""
    rows = PaymentTerm.objects.filter(
        partnership=partnership, parent__isnull=True, payee__kind=Organization.Kind.BACKBONE
    )
    return rows.exclude(pk=term.pk) if term is not None else rows


# --- create and update -------------------------------------------------------------------------


@dataclass(frozen=True)
class Subsidy:
    funder_name: str
    funder: Organization | None
    month_from: int
    month_to: int
    percent: Decimal


def _check_term(partnership: Partnership, kind: str, data: dict, programs, term, org) -> None:
    errors: dict[str, list[str]] = defaultdict(list)
    parties = set(term_parties(partnership).values_list("pk", flat=True))
    payer, payee, parent = data.get("payer"), data.get("payee"), data.get("parent")
    if kind not in KIND_FIELDS:
        errors["kind"].append(gettext("Choose a kind of term."))
    if not (data.get("name") or "").strip():
        errors["name"].append(gettext("Give the term a name."))
    for side, who in (("payer", payer), ("payee", payee)):
        if who is None:
            errors[side].append(
                gettext("Choose the payer.") if side == "payer" else gettext("Choose the payee.")
            )
        elif who.pk not in parties:
            errors[side].append(
                gettext(
                    "The payer is an organization of the partnership (or its network's backbone)."
                )
                if side == "payer"
                else gettext(
                    "The payee is an organization of the partnership (or its network's backbone)."
                )
            )
    if payer is not None and payee is not None and payer.pk == payee.pk:
        errors["payee"].append(gettext("The payee is not the payer."))
    if parent is not None:
        if parent.partnership_id != partnership.pk or parent.parent_id is not None:
            errors["parent"].append(gettext("The parent is a contract of this partnership."))
        elif not parent.payee.is_backbone:
            errors["parent"].append(
                gettext("A sub-term is paid from a contract with the backbone.")
            )
        elif term is not None and parent.pk == term.pk:
            errors["parent"].append(gettext("A term is not its own parent."))
        elif payer is not None and payer.pk != parent.payee_id:
            errors["payer"].append(
                gettext("A sub-term's payer is the parent's payee, %(payee)s.")
                % {"payee": parent.payee}
            )
    if (
        org is not None
        and not org.is_backbone
        and org.pk not in {getattr(payer, "pk", None), getattr(payee, "pk", None)}
    ):
        errors["payer"].append(gettext("Your organization is the payer or the payee of its terms."))
    own_programs = set(partnership.programs.values_list("pk", flat=True))
    if any(p.pk not in own_programs for p in programs):
        errors["programs"].append(gettext("Choose programs of the partnership."))
    start, end = data.get("effective_from"), data.get("effective_to")
    if start is None:
        errors["effective_from"].append(gettext("Give the day the term starts."))
    elif end is not None and end < start:
        errors["effective_to"].append(gettext("The term ends on or after the day it starts."))
    _check_amounts(kind, data, errors)
    _check_outcome(data, errors)
    if term is not None and start is not None:
        late = Q(period_end__gt=end) if end is not None else Q(pk__in=[])
        first = (
            term.statements.filter(status__in=FROZEN)
            .filter(Q(period_start__lt=start) | late)
            .order_by("period_start")
            .first()
        )
        if first is not None:
            errors["effective_from" if first.period_start < start else "effective_to"].append(
                gettext(
                    "The statement for %(month)s is %(status)s: the term's dates must still "
                    "cover it (correct it with an adjusting statement instead)."
                )
                % {
                    "month": date_format(first.period_start, "F Y"),
                    "status": str(first.get_status_display()).lower(),
                }
            )
    if errors:
        raise ValidationError(dict(errors))


def _check_amounts(kind: str, data: dict, errors: dict) -> None:
    unit = data.get("unit_amount")
    if unit is None or unit < 0:
        errors["unit_amount"].append(gettext("Give an amount of $0 or more."))
    elif unit == 0 and kind != Kind.PATHWAY:
        # A pathway term may leave the amount to each pathway's own value; no other kind
        # pays anything at $0.
        errors["unit_amount"].append(gettext("Give an amount of more than $0."))
    for name in ("amount_need_met", "amount_attempted", "bonus_amount"):
        value = data.get(name)
        if value is not None and value < 0:
            errors[name].append(gettext("Give an amount of $0 or more."))
    volume = data.get("contracted_volume")
    if volume is not None and volume < 1:
        errors["contracted_volume"].append(
            gettext("Contract at least 1 client a year, or leave it blank.")
        )
    for name in ("escalator_percent", "withhold_percent"):
        value = data.get(name)
        if value is not None and not 0 <= value <= 100:
            errors[name].append(gettext("A percent from 0 to 100."))


def _check_outcome(data: dict, errors: dict) -> None:
    mode = data.get("outcome_mode") or ""
    if mode not in Mode.values:
        errors["outcome_mode"].append(gettext("Choose withhold, bonus or none."))
        return
    if not mode:
        return
    if data.get("outcome_measure") not in BY_KEY:
        errors["outcome_measure"].append(gettext("Choose a measure of the registry."))
    if data.get("outcome_target") is None:
        errors["outcome_target"].append(gettext("Give the target the measure is held to."))
    if data.get("outcome_direction") not in PaymentTerm.Direction.values:
        errors["outcome_direction"].append(gettext("Choose at least or at most."))
    if mode == Mode.WITHHOLD and not data.get("withhold_percent"):
        errors["withhold_percent"].append(gettext("Give the share withheld (more than 0%)."))
    if mode == Mode.BONUS and not data.get("bonus_amount"):
        errors["bonus_amount"].append(gettext("Give the bonus (more than $0)."))


def _check_subsidies(subsidies: list[Subsidy], partnership: Partnership) -> None:
    errors = []
    for s in subsidies:
        if not s.funder_name.strip():
            errors.append(gettext("Each subsidy names its funder."))
        if s.month_from < 1 or s.month_to < s.month_from:
            errors.append(
                gettext("%(funder)s: months run from month 1 on, the last on or after the first.")
                % {"funder": s.funder_name}
            )
        if not 0 <= s.percent <= 100:
            errors.append(
                gettext("%(funder)s: a percent from 0 to 100.") % {"funder": s.funder_name}
            )
        if s.funder is not None and s.funder.network_id != partnership.network_id:
            errors.append(
                gettext("%(funder)s: the funder is an organization of the network.")
                % {"funder": s.funder_name}
            )
    ordered = sorted(subsidies, key=lambda s: s.month_from)
    for before, after in itertools.pairwise(ordered):
        if after.month_from <= before.month_to:
            errors.append(
                gettext(
                    "Subsidy periods overlap: months %(from1)s to %(to1)s and %(from2)s to %(to2)s."
                )
                % {
                    "from1": before.month_from,
                    "to1": before.month_to,
                    "from2": after.month_from,
                    "to2": after.month_to,
                }
            )
    if errors:
        raise ValidationError({"subsidies": errors})


def _clean(kind: str, data: dict) -> dict:
    """The fields the kind uses, the others cleared; no outcome part, no outcome fields."""
    out = {name: data.get(name) for name in COMMON_FIELDS}
    for name in KIND_ONLY:
        out[name] = data.get(name) if name in KIND_FIELDS.get(kind, ()) else None
    out["name"] = (out["name"] or "").strip()
    out["escalator_percent"] = out["escalator_percent"] or Decimal("0")
    if not out["outcome_mode"]:
        out.update(
            outcome_mode="",
            outcome_measure="",
            outcome_direction=PaymentTerm.Direction.AT_LEAST,
            outcome_target=None,
            withhold_percent=Decimal("0"),
            bonus_amount=ZERO,
        )
    elif out["outcome_mode"] == Mode.WITHHOLD:
        out["bonus_amount"] = ZERO
    else:
        out["withhold_percent"] = Decimal("0")
    return out


def _save(term: PaymentTerm, fields: dict, programs, subsidies: list[Subsidy]) -> None:
    for name, value in fields.items():
        setattr(term, name, value)
    term.full_clean(exclude=["programs"])
    term.save()
    term.programs.set(programs)
    # The schedule is replaced whole: statements keep their shares as rows of their own.
    term.subsidies.all().delete()
    SubsidyShare.objects.bulk_create(
        SubsidyShare(
            term=term,
            funder=s.funder,
            funder_name=s.funder_name.strip(),
            month_from=s.month_from,
            month_to=s.month_to,
            percent=s.percent,
        )
        for s in subsidies
    )


@transaction.atomic
def payment_term_create(
    *,
    partnership: Partnership,
    kind: str,
    data: dict,
    programs: list,
    subsidies: list[Subsidy],
    actor: User,
    membership: Membership,
) -> PaymentTerm:
    """A new term on the partnership with its subsidy schedule, or ValidationError (by
    field; `subsidies` for the schedule) and nothing written."""
    if not term_may_manage(membership=membership, partnership=partnership):
        raise PermissionDenied(gettext("Your role does not allow this."))
    _check_term(partnership, kind, data, programs, None, membership.organization)
    _check_subsidies(subsidies, partnership)
    term = PaymentTerm(partnership=partnership, kind=kind)
    _save(term, _clean(kind, data), programs, subsidies)
    audit_record(
        actor=actor,
        organization=membership.organization,
        action=AuditEvent.Action.CREATE,
        object_type="payment_term",
        object_ids=[term.pk],
    )
    return term


@transaction.atomic
def payment_term_update(
    *,
    term: PaymentTerm,
    data: dict,
    programs: list,
    subsidies: list[Subsidy],
    actor: User,
    membership: Membership,
) -> PaymentTerm:
    """Change a term (not its kind) and replace its subsidy schedule; its dates may not
    move so that an approved or paid statement falls outside them. ValidationError by
    field, nothing written."""
    term = PaymentTerm.objects.select_for_update().get(pk=term.pk)
    if not term_may_manage(membership=membership, partnership=term.partnership, term=term):
        raise PermissionDenied(gettext("Your role does not allow this."))
    _check_term(term.partnership, term.kind, data, programs, term, membership.organization)
    _check_subsidies(subsidies, term.partnership)
    _save(term, _clean(term.kind, data), programs, subsidies)
    audit_record(
        actor=actor,
        organization=membership.organization,
        action=AuditEvent.Action.UPDATE,
        object_type="payment_term",
        object_ids=[term.pk],
    )
    return term


# --- panel sizes from a CSV ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class PanelFileError(Exception):
    """The file was refused: every error, by line (nothing was saved)."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def parse_month(raw: str) -> date:
    """`YYYY-MM` → the first day of that month (ValueError otherwise)."""
    raw = raw.strip()
    if len(raw) != 7 or raw[4] != "-":
        raise ValueError(raw)
    return date(int(raw[:4]), int(raw[5:]), 1)


def panel_rows(text: str) -> list[tuple[date, int]]:
    """The file's (month, members) rows, every row checked before any is used; a file with
    an error raises PanelFileError listing each one by its line in the file."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "month" not in header or "members" not in header:
        raise PanelFileError(
            [RowError(1, gettext("The header row names the columns month,members."))]
        )
    reader.fieldnames = header
    rows, errors, seen = [], [], {}
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_PANEL_ROWS:
            errors.append(
                RowError(number, gettext("Up to %(most)s rows a file.") % {"most": MAX_PANEL_ROWS})
            )
            break
        raw_month, raw_members = (row.get("month") or "").strip(), (row.get("members") or "")
        if not raw_month and not raw_members.strip():
            continue  # a blank line
        try:
            month = parse_month(raw_month)
        except ValueError:
            errors.append(RowError(number, gettext("The month is written YYYY-MM, e.g. 2031-03.")))
            continue
        try:
            members = int(raw_members.strip())
        except ValueError:
            errors.append(RowError(number, gettext("Members is a whole number.")))
            continue
        if members < 0:
            errors.append(RowError(number, gettext("A panel has 0 or more members.")))
            continue
        if month in seen:
            errors.append(
                RowError(
                    number,
                    gettext("%(month)s is also on line %(line)s.")
                    % {"month": f"{month:%Y-%m}", "line": seen[month]},
                )
            )
            continue
        seen[month] = number
        rows.append((month, members))
    if not errors and not rows:
        errors.append(RowError(2, gettext("The file has no rows.")))
    if errors:
        raise PanelFileError(errors)
    return rows


@transaction.atomic
def panel_import(*, term: PaymentTerm, text: str, organization: Organization) -> int:
    """Save every month of a panel CSV (`month,members`, month as YYYY-MM), or none: the
    whole file is checked first (PanelFileError). Returns the rows saved."""
    rows = panel_rows(text)
    for month, members in rows:
        services.panel_month_set(term=term, month=month, members=members, organization=organization)
    return len(rows)


# --- support funds ------------------------------------------------------------------------------


def expense_clients(term: PaymentTerm, org: Organization) -> QuerySet[Client]:
    """Clients an expense may name: those of referrals the payee received in the term's
    programs (every program of the partnership when the term names none), as far as the
    viewer may see those referrals."""
    programs = list(term.programs.values_list("pk", flat=True)) or list(
        term.partnership.programs.values_list("pk", flat=True)
    )
    ids = (
        Referral.objects.visible_to(org)
        .filter(receiver_organization_id=term.payee_id, program_id__in=programs)
        .values("client_id")
    )
    return Client.objects.filter(pk__in=ids).order_by("pk")


def names_shown(org: Organization, client_ids) -> dict[int, str]:
    """Client names the organization may see (demographics, by the consent policy)."""
    return {
        c.pk: f"{c.given_name} {c.family_name}"
        for c in Client.objects.visible_to(org, Category.DEMOGRAPHICS).filter(
            pk__in=set(client_ids)
        )
    }


def term_expenses(term: PaymentTerm) -> QuerySet[SupportExpense]:
    """The term's expenses (the term itself came through terms_visible)."""
    return SupportExpense.objects.filter(term=term).order_by("-date", "-pk")


def term_day(term: PaymentTerm) -> date:
    """Today, moved inside the term's dates (its first or its last day)."""
    today = timezone.localdate()
    day = max(today, term.effective_from)
    return min(day, term.effective_to) if term.effective_to else day


def allowance_spent(term: PaymentTerm, day: date) -> tuple[Decimal, date, date, dict[int, Decimal]]:
    """The allowance per person for the term year holding `day`, that year's bounds, and
    what each client spent in it (what is left: the allowance less that, never below $0)."""
    start, end = term_year_bounds(term, day)
    allowance = escalated(term, term.unit_amount, day)
    spent = (
        SupportExpense.objects.filter(term=term, date__gte=start, date__lte=end)
        .values("client_id")
        .annotate(total=Sum("amount"))
    )
    return allowance, start, end, {row["client_id"]: row["total"] for row in spent}
