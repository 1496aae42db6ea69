"""Writes for the outcome measures a partnership defines and the results its partners
report: define, change, deactivate; record results (one typed in, or a CSV upload) under
the consent policy; mark a result entered in error."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_record
from consent import policy
from consent.categories import Category
from organizations.models import Membership, Organization, Partnership, User
from organizations.roles import Capability, Role

from ..models import OutcomeMeasure, OutcomeResult


def outcome_party(*, partnership: Partnership, organization: Organization) -> bool:
    """Whether the organization is party to the partnership (who may report results)."""
    return partnership.organizations.filter(pk=organization.pk).exists()


def outcome_may_define(*, partnership: Partnership, membership: Membership) -> bool:
    """Org admins of the partnership's organizations, and the network's backbone admins."""
    org = membership.organization
    if membership.role != Role.ORG_ADMIN or org.network_id != partnership.network_id:
        return False
    return org.is_backbone or outcome_party(partnership=partnership, organization=org)


def outcome_may_record(*, partnership: Partnership, membership: Membership) -> bool:
    """People of the partnership's organizations who edit client records. Whether a given
    client's result may be recorded is the consent policy's call (outcome_results_record)."""
    return membership.has(Capability.EDIT_CLIENTS) and outcome_party(
        partnership=partnership, organization=membership.organization
    )


_MEASURE_FIELDS = ("name", "loinc_code", "unit", "goal", "threshold", "description")


def _measure_clean_save(measure: OutcomeMeasure, **save) -> None:
    measure.full_clean(exclude=["partnership", "created_by"], validate_unique=False)
    try:
        # A savepoint: losing the race for a name leaves the request's transaction usable.
        with transaction.atomic():
            measure.save(**save)
    except IntegrityError:
        raise ValidationError(
            {"name": gettext("The partnership already has an outcome measure with this name.")}
        ) from None


@transaction.atomic
def outcome_measure_create(
    *,
    partnership: Partnership,
    organization: Organization,
    actor: User,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> OutcomeMeasure:
    """Define an outcome measure for the partnership (name, optional LOINC code, unit,
    goal: comparator and threshold, description). Raises ValidationError on bad data."""
    measure = OutcomeMeasure(
        partnership=partnership,
        created_by=actor,
        **{k: data[k] for k in _MEASURE_FIELDS if k in data},
    )
    _measure_clean_save(measure)
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.CREATE,
        object_type="outcome_measure",
        object_ids=[measure.pk],
        detail={"fields": sorted(k for k in _MEASURE_FIELDS if k in data)},
    )
    return measure


@transaction.atomic
def outcome_measure_update(
    *,
    measure: OutcomeMeasure,
    organization: Organization,
    actor: User,
    data: dict[str, Any],
    request: HttpRequest | None = None,
) -> list[str]:
    """Change a measure's definition; returns the names of the fields changed. A changed
    goal re-scores the results already reported at the next recomputation."""
    measure = OutcomeMeasure.objects.select_for_update().get(pk=measure.pk)
    changed = sorted(k for k in _MEASURE_FIELDS if k in data and getattr(measure, k) != data[k])
    if not changed:
        return []
    for name in changed:
        setattr(measure, name, data[name])
    measure.updated_at = timezone.now()
    _measure_clean_save(measure, update_fields=[*changed, "updated_at"])
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.UPDATE,
        object_type="outcome_measure",
        object_ids=[measure.pk],
        detail={"fields": changed},
    )
    return changed


@transaction.atomic
def outcome_measure_set_active(
    *,
    measure: OutcomeMeasure,
    active: bool,
    organization: Organization,
    actor: User,
    request: HttpRequest | None = None,
) -> bool:
    """Deactivate (no more results; those reported stay counted in their periods) or
    reactivate a measure. Returns False when it already was so."""
    measure = OutcomeMeasure.objects.select_for_update().get(pk=measure.pk)
    if measure.is_active == active:
        return False
    measure.is_active = active
    measure.updated_at = timezone.now()
    measure.save(update_fields=["is_active", "updated_at"])
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.UPDATE,
        object_type="outcome_measure",
        object_ids=[measure.pk],
        detail={"fields": ["is_active"], "is_active": active},
    )
    return True


@dataclass
class OutcomeRow:
    """One result to record, as typed or uploaded: the client by the identifier the
    recording organization gave them (an MRN) or by their Linkage client number."""

    mrn: str = ""
    client_number: str = ""
    value: str = ""
    observed_on: str = ""
    line: int | None = None  # the CSV line, for the report


@dataclass
class OutcomeRowReport:
    line: int | None
    recorded: bool
    message: str
    client_id: int | None = None
    result: OutcomeResult | None = None
    # Which input the message is about (for a form: the field to show it at).
    field: str = ""


_VALUE_LIMIT = Decimal(10) ** 8  # DecimalField(max_digits=12, decimal_places=4)


def _parse_value(text: str | Decimal) -> Decimal:
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(gettext("The value is not a number.")) from None
    if not value.is_finite():
        raise ValueError(gettext("The value is not a number."))
    if abs(value) >= _VALUE_LIMIT:
        raise ValueError(gettext("The value is too large."))
    if value != value.quantize(Decimal("0.0001")):
        raise ValueError(gettext("Give the value with at most 4 decimal places."))
    return value


def _parse_day(text: str | date) -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError(
            gettext("The date observed is not a date in the form YYYY-MM-DD.")
        ) from None


def _client_number(text: str) -> int:
    text = text.strip().removeprefix("#")
    if not text.isdigit() or int(text) <= 0:
        raise ValueError("A Linkage client number is a whole number, e.g. 1042.")
    return int(text)


def _resolve_clients(organization: Organization, rows: list[OutcomeRow]):
    """The clients the rows name, in a few queries: {mrn: {client ids}} among the
    organization's own identifiers, the clients it may see at all, and those whose health
    information it may see."""
    from clients.models import Client, ClientIdentifier

    mrns = {r.mrn.strip() for r in rows if r.mrn.strip()}
    by_mrn: dict[str, set[int]] = {}
    for value, client_id in ClientIdentifier.objects.filter(
        organization=organization, value__in=mrns
    ).values_list("value", "client_id"):
        by_mrn.setdefault(value, set()).add(client_id)
    ids = {c for found in by_mrn.values() for c in found}
    for r in rows:
        with contextlib.suppress(ValueError):
            ids.add(_client_number(r.client_number))
    visible = {c.pk: c for c in Client.objects.visible_to(organization).filter(pk__in=ids)}
    health = set(
        Client.objects.filter(policy.record_keeping_q(organization, Category.HEALTH))
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    return by_mrn, visible, health


def _row_client(row: OutcomeRow, by_mrn, visible) -> int:
    """The client id a row names, or ValueError with the reason (never confirming that a
    client the organization may not see exists)."""
    number = None
    if row.client_number.strip():
        number = _client_number(row.client_number)
    mrn = row.mrn.strip()
    if mrn:
        found = {c for c in by_mrn.get(mrn, set()) if c in visible}
        if not found:
            raise ValueError(
                gettext(
                    "No client your organization can see has this MRN (an identifier your "
                    "organization recorded on the client's record)."
                )
            )
        if len(found) > 1:
            raise ValueError(
                gettext(
                    "Several clients have this identifier in your organization's records: give "
                    "the Linkage client number instead."
                )
            )
        (from_mrn,) = found
        if number is not None and number != from_mrn:
            raise ValueError(gettext("The MRN and the client number name different clients."))
        return from_mrn
    if number is None:
        raise ValueError(gettext("Give the client's MRN or their Linkage client number."))
    if number not in visible:
        raise ValueError(
            gettext("No client #%(number)s that your organization can see.") % {"number": number}
        )
    return number


@transaction.atomic
def outcome_results_record(
    *,
    measure: OutcomeMeasure,
    organization: Organization,
    actor: User,
    rows: list[OutcomeRow],
    request: HttpRequest | None = None,
) -> list[OutcomeRowReport]:
    """Record results of one measure, row by row: each is recorded or rejected with its
    reason. A row is refused when the client cannot be identified, when the organization
    may not see the client's health information (consent.policy; the organization that
    registered the client always may), when the value or date is bad, or when the client
    already has a result for the measure that day. One audit event lists what was
    recorded. Raises PermissionDenied when the organization is not party to the
    partnership and ValidationError when the measure is inactive (nothing written)."""
    if not outcome_party(partnership=measure.partnership, organization=organization):
        raise PermissionDenied(gettext("Only the partnership's organizations report its outcomes."))
    # Locked, so a deactivation cannot slip between the check and the inserts.
    measure = OutcomeMeasure.objects.select_for_update().get(pk=measure.pk)
    if not measure.is_active:
        raise ValidationError(
            gettext("“%(name)s” is no longer active: results are not recorded.")
            % {"name": measure.name}
        )
    by_mrn, visible, health = _resolve_clients(organization, rows)
    today = timezone.localdate()
    reports: list[OutcomeRowReport] = []
    pending: list[tuple[OutcomeRowReport, OutcomeResult]] = []
    seen: set[tuple[int, date]] = set()
    for row in rows:
        field = "client_number" if row.client_number.strip() and not row.mrn.strip() else "mrn"
        try:
            client_id = _row_client(row, by_mrn, visible)
        except ValueError as error:
            reports.append(OutcomeRowReport(row.line, False, str(error), field=field))
            continue
        report = OutcomeRowReport(row.line, False, "", client_id=client_id)
        reports.append(report)
        if client_id not in health:
            report.message = gettext(
                "Your organization may not see health information of client #%(number)s: "
                "a release covering health information must name it."
            ) % {"number": client_id}
            report.field = field
            continue
        try:
            value = _parse_value(row.value)
        except ValueError as error:
            report.message, report.field = str(error), "value"
            continue
        try:
            day = _parse_day(row.observed_on)
            if day > today:
                raise ValueError(gettext("The date observed is in the future."))
            if day < visible[client_id].date_of_birth:
                raise ValueError(gettext("The date observed is before the client's date of birth."))
        except ValueError as error:
            report.message, report.field = str(error), "observed_on"
            continue
        if (client_id, day) in seen:
            report.message = gettext("The same client and day appear twice.")
            report.field = "observed_on"
            continue
        seen.add((client_id, day))
        pending.append(
            (
                report,
                OutcomeResult(
                    measure=measure,
                    client_id=client_id,
                    organization=organization,
                    recorded_by=actor,
                    value=value,
                    observed_on=day,
                ),
            )
        )
    already = set(
        OutcomeResult.objects.counted()
        .filter(measure=measure, client_id__in={r.client_id for _, r in pending})
        .values_list("client_id", "observed_on")
    )
    for report, result in pending:
        if (result.client_id, result.observed_on) in already:
            report.message = gettext(
                "Client #%(number)s already has a result for this measure on %(day)s; mark "
                "that one entered in error to correct it."
            ) % {"number": result.client_id, "day": f"{result.observed_on:%Y-%m-%d}"}
            report.field = "observed_on"
            continue
        try:
            # A savepoint per row: a concurrent upload of the same row loses only that row.
            with transaction.atomic():
                result.save()
        except IntegrityError:
            report.message = gettext("Recorded by someone else just now.")
            report.field = "observed_on"
            continue
        report.recorded, report.result = True, result
        report.message = gettext(
            "Recorded %(value)s %(unit)s for client #%(number)s on %(day)s."
        ) % {
            "value": f"{result.value.normalize():f}",
            "unit": measure.unit,
            "number": result.client_id,
            "day": f"{result.observed_on:%Y-%m-%d}",
        }
    recorded = [r.result for r in reports if r.recorded]
    if recorded:
        audit_record(
            request=request,
            actor=actor,
            organization=organization,
            action=AuditEvent.Action.CREATE,
            object_type="outcome_result",
            object_ids=[r.pk for r in recorded],
            client_ids=[r.client_id for r in recorded],
            detail={"categories": [Category.HEALTH.value], "outcome_measure": measure.pk},
        )
    return reports


@transaction.atomic
def outcome_result_mark_error(
    *,
    result: OutcomeResult,
    organization: Organization,
    actor: User,
    request: HttpRequest | None = None,
) -> bool:
    """Mark a result the organization recorded as entered in error: kept, no longer
    counted, and the client/day free for the corrected value. False if it already was."""
    result = OutcomeResult.objects.select_for_update().get(pk=result.pk)
    if result.organization_id != organization.pk:
        raise PermissionDenied(gettext("Only the organization that recorded a result corrects it."))
    if result.entered_in_error_at is not None:
        return False
    result.entered_in_error_at = timezone.now()
    result.entered_in_error_by = actor
    result.save(update_fields=["entered_in_error_at", "entered_in_error_by"])
    audit_record(
        request=request,
        actor=actor,
        organization=organization,
        action=AuditEvent.Action.UPDATE,
        object_type="outcome_result",
        object_ids=[result.pk],
        client_ids=[result.client_id],
        detail={"categories": [Category.HEALTH.value], "fields": ["entered_in_error_at"]},
    )
    return True
