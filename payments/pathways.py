"""Pathways (Pathways Community HUB style): the network's definitions, installed from the
starter set in `pathway_data/`; a client's pathway instance, opened from a referral or an
assessment and owned by the lead navigator; the check of its completion rule against the
record; and the reads the pathway pages make.

The two rules (`Pathway.Rule`), each "met on a day, and still so `hold_days` later":

- REFERRAL_NEED_MET: a referral of the client for the pathway's need (a `ReferralNeed` with
  that code) completed with the outcome need-met at or after the instance was opened. Met on
  the local date it closed. A later referral of the client for the same need (any status but
  entered-in-error), opened after that day and before the hold ends, undoes it: the need came
  back (for housing: the client is looking for housing again). The next need-met referral
  after that starts the wait again.
- RESCREEN_RESOLVED: a completed assessment of the client, completed at or after the
  instance was opened (the one it was opened from excluded), that no longer lists the need.
  Met on the local date it was completed. A later completed assessment that lists the need
  again before the hold ends undoes it.

The rule is met on the earliest such day that nothing undid; the instance completes on
`met_on + hold_days` (the day it became checkable), once that day has come. The check reads
the client's whole record for the need (every organization's referrals and screenings): it
decides a payment, and showing its result (dates, not the records) is the owner's business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from assessments.models import Assessment, Need
from audit.models import AuditEvent
from audit.services import audit_record
from clients.models import Client
from consent.categories import Category
from organizations.models import Membership, Network, Organization, User
from organizations.sdoh import SDOHCategory
from referrals.models import Referral

from .models import Pathway, PathwayInstance

DATA_DIR = Path(__file__).resolve().parent / "pathway_data"
Status = PathwayInstance.Status


# --- the starter set -----------------------------------------------------------------------


def starter_definitions() -> list[dict]:
    """The starter pathways as data (one JSON file each in `pathway_data/`), checked: a
    need that is not an SDOH category code, or an unknown rule, raises ValueError."""
    found = []
    for path in sorted(DATA_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["need"] not in SDOHCategory.values:
            raise ValueError(f"{path.name}: need {data['need']!r} is not an SDOH category code.")
        if data["rule"] not in Pathway.Rule.values:
            raise ValueError(f"{path.name}: unknown rule {data['rule']!r}.")
        found.append(data)
    return found


def pathways_install(network: Network) -> list[Pathway]:
    """Give the network the starter pathways it does not have yet (by code), and return
    the network's pathway of each starter code. Running it again changes nothing: a code
    the network already has is left as the network keeps it (its own value, steps, ...)."""
    installed = []
    with transaction.atomic():
        for data in starter_definitions():
            pathway, _ = Pathway.objects.get_or_create(
                network=network,
                code=data["code"],
                defaults={
                    "name": data["name"],
                    "need": data["need"],
                    "steps": list(data["steps"]),
                    "completion": data["completion"],
                    "rule": data["rule"],
                    "hold_days": int(data["hold_days"]),
                    "value": Decimal(data["value"]),
                },
            )
            installed.append(pathway)
    return installed


# --- opening and closing -------------------------------------------------------------------


class CloseReason(models.TextChoices):
    """Why a pathway closed without completion (a code: it goes into the audit trail)."""

    CLIENT_DECLINED = "client-declined", gettext_lazy("The client declined to continue")
    UNABLE_TO_CONTACT = "unable-to-contact", gettext_lazy("Unable to contact the client")
    MOVED_AWAY = "moved-away", gettext_lazy("The client moved out of the service area")
    NEED_RESOLVED_OTHERWISE = (
        "need-resolved-otherwise",
        gettext_lazy("The need was resolved another way"),
    )
    OPENED_IN_ERROR = "opened-in-error", gettext_lazy("Opened in error")
    OTHER = "other", gettext_lazy("Other")


def _member(actor: User, organization: Organization) -> Membership:
    membership = Membership.objects.filter(
        user=actor, organization=organization, is_active=True
    ).first()
    if membership is None:
        raise PermissionDenied(gettext("You do not act for this organization."))
    return membership


def _already_open(pathway: Pathway) -> ValidationError:
    return ValidationError(
        gettext(
            "This client already has an open %(pathway)s pathway: close it before opening another."
        )
        % {"pathway": pathway.name}
    )


def pathway_open(
    *,
    pathway: Pathway,
    client: Client,
    organization: Organization,
    actor: User,
    referral: Referral | None = None,
    assessment: Assessment | None = None,
) -> PathwayInstance:
    """Open the client's pathway for the organization, from a referral or an assessment of
    the client that carries the pathway's need. Owned by the client's lead navigator when
    the lead navigator works for `organization`, by the actor otherwise.

    Refused (ValidationError, nothing written): a pathway of another network or retired; a
    client the organization may not see (consent policy); no referral or assessment, or one
    of another client, one the organization may not see, or one without the need; a second
    open instance of the pathway for the client (whoever owns the first)."""
    membership = _member(actor, organization)
    if pathway.network_id != organization.network_id or not pathway.is_active:
        raise ValidationError(gettext("This pathway is not one of your network's active pathways."))
    if (
        client.merged_into_id
        or not Client.objects.visible_to(organization).filter(pk=client.pk).exists()
    ):
        raise ValidationError(gettext("Your organization may not see this client's record."))
    if referral is None and assessment is None:
        raise ValidationError(
            gettext("Open a pathway from a referral or an assessment of the client.")
        )
    if referral is not None:
        if referral.client_id != client.pk:
            raise ValidationError(gettext("The referral is not this client's."))
        if not Referral.objects.visible_to(organization).filter(pk=referral.pk).exists():
            raise ValidationError(gettext("Your organization is not a party to this referral."))
        if not referral.needs.filter(code=pathway.need).exists():
            raise ValidationError(
                gettext("The referral is not for the %(pathway)s pathway's need (%(need)s).")
                % {"pathway": pathway.name, "need": SDOHCategory(pathway.need).label}
            )
    if assessment is not None:
        if assessment.client_id != client.pk:
            raise ValidationError(gettext("The assessment is not this client's."))
        if (
            not Assessment.objects.visible_to(organization)
            .completed()
            .filter(pk=assessment.pk)
            .exists()
        ):
            raise ValidationError(
                gettext("Your organization may not see this completed assessment.")
            )
        if not assessment.needs.filter(category=pathway.need).exists():
            raise ValidationError(
                gettext("The assessment did not find the %(pathway)s pathway's need (%(need)s).")
                % {"pathway": pathway.name, "need": SDOHCategory(pathway.need).label}
            )
    lead = client.lead_navigator
    owner = (
        lead
        if lead is not None and lead.organization_id == organization.pk and lead.is_active
        else membership
    )
    with transaction.atomic():
        if PathwayInstance.objects.filter(
            pathway=pathway, client=client, status=Status.OPEN
        ).exists():
            raise _already_open(pathway)
        try:
            # The partial unique constraint settles two people opening at once.
            with transaction.atomic():
                instance = PathwayInstance.objects.create(
                    pathway=pathway,
                    client=client,
                    organization=organization,
                    owner=owner,
                    referral=referral,
                    assessment=assessment,
                )
        except IntegrityError:
            raise _already_open(pathway) from None
        audit_record(
            actor=actor,
            organization=organization,
            action=AuditEvent.Action.CREATE,
            object_type="pathway_instance",
            object_ids=[instance.pk],
            client_ids=[client.pk],
            detail={"pathway": pathway.code, "need": pathway.need},
        )
    return instance


def pathway_close(
    *,
    instance: PathwayInstance,
    organization: Organization,
    actor: User,
    reason: str,
) -> PathwayInstance:
    """Close an open pathway without completion, for a reason (a `CloseReason` code).
    Only its organization may; closing a closed one again changes nothing; a completed one
    stays completed (ValidationError)."""
    _member(actor, organization)
    if instance.organization_id != organization.pk:
        raise PermissionDenied(gettext("Only the pathway's organization may close it."))
    if reason not in CloseReason.values:
        raise ValidationError(gettext("Choose why the pathway closes."))
    with transaction.atomic():
        locked = PathwayInstance.objects.select_for_update().get(pk=instance.pk)
        if locked.status == Status.CLOSED:
            return locked
        if locked.status == Status.COMPLETED:
            raise ValidationError(gettext("This pathway is completed: it cannot be closed."))
        locked.status = Status.CLOSED
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            organization=organization,
            action=AuditEvent.Action.UPDATE,
            object_type="pathway_instance",
            object_ids=[locked.pk],
            client_ids=[locked.client_id],
            detail={"step": Status.CLOSED.value, "reason": reason},
        )
    return locked


# --- the completion check ------------------------------------------------------------------


class Check(models.TextChoices):
    NOT_MET = "not_met", gettext_lazy("Not met yet")
    WAITING = "waiting", gettext_lazy("Met; waiting for the hold to end")
    COMPLETE = "complete", gettext_lazy("Complete")


@dataclass(frozen=True)
class CheckResult:
    """What the record says of an instance on `today`: not met yet (`undone` if a met
    rule was undone since), met and waiting until `checkable_on`, or complete on
    `completed_on`."""

    status: str
    met_on: date | None = None
    checkable_on: date | None = None
    completed_on: date | None = None
    undone: bool = False


def _evaluate(met: list[date], undo: list[date], hold_days: int, today: date) -> CheckResult:
    """The earliest met day nothing undid within its hold decides (see the module's doc)."""
    undone = False
    for day in sorted(set(met)):
        if day > today:
            break
        end = day + timedelta(days=hold_days)
        if any(day < u < end and u <= today for u in undo):
            undone = True
            continue
        if today >= end:
            return CheckResult(Check.COMPLETE, met_on=day, checkable_on=end, completed_on=end)
        return CheckResult(Check.WAITING, met_on=day, checkable_on=end)
    return CheckResult(Check.NOT_MET, undone=undone)


def _local(moment) -> date:
    return timezone.localdate(moment)


def _referral_evidence(instance: PathwayInstance) -> tuple[list[date], list[date]]:
    need = instance.pathway.need
    rows = Referral.objects.filter(client_id=instance.client_id, needs__code=need)
    met = rows.filter(
        status=Referral.Status.COMPLETED,
        outcome=Referral.Outcome.NEED_MET,
        closed_at__gte=instance.opened_at,
    ).values_list("closed_at", flat=True)
    later = (
        rows.filter(created_at__gte=instance.opened_at)
        .exclude(status=Referral.Status.ENTERED_IN_ERROR)
        .values_list("created_at", flat=True)
    )
    return [_local(m) for m in met], [_local(m) for m in later]


def _rescreen_evidence(instance: PathwayInstance) -> tuple[list[date], list[date]]:
    need = instance.pathway.need
    rows = (
        Assessment.objects.completed()
        .filter(client_id=instance.client_id, completed_at__gte=instance.opened_at)
        .exclude(pk=instance.assessment_id)
        .annotate(
            lists_need=models.Exists(
                Need.objects.filter(assessment=models.OuterRef("pk"), category=need)
            )
        )
        .values_list("completed_at", "lists_need")
    )
    met = [_local(at) for at, lists in rows if not lists]
    again = [_local(at) for at, lists in rows if lists]
    return met, again


def pathway_check(instance: PathwayInstance, today: date) -> CheckResult:
    """Evaluate the pathway's rule on the record for `today` (reads only; see the module's
    doc for the rules). A closed or completed instance reports what it recorded."""
    if instance.status == Status.COMPLETED:
        return CheckResult(
            Check.COMPLETE,
            met_on=instance.met_on,
            checkable_on=instance.completed_on,
            completed_on=instance.completed_on,
        )
    if instance.pathway.rule == Pathway.Rule.RESCREEN_RESOLVED:
        met, undo = _rescreen_evidence(instance)
    else:
        met, undo = _referral_evidence(instance)
    return _evaluate(met, undo, instance.pathway.hold_days, today)


def pathway_check_apply(*, instance_id: int, today: date) -> CheckResult | None:
    """Check one open instance and write what changed (met_on; status and completed_on on
    completion), in one transaction that locks the row. A row another worker holds, or no
    longer open, is skipped (None): the next run sees it again."""
    with transaction.atomic():
        instance = (
            PathwayInstance.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("pathway")
            .filter(pk=instance_id, status=Status.OPEN)
            .first()
        )
        if instance is None:
            return None
        result = pathway_check(instance, today)
        fields = []
        if instance.met_on != result.met_on:
            instance.met_on = result.met_on
            fields.append("met_on")
        if result.status == Check.COMPLETE:
            instance.status = Status.COMPLETED
            instance.completed_on = result.completed_on
            fields += ["status", "completed_on"]
        if fields:
            instance.save(update_fields=fields)
            audit_record(
                organization=instance.organization,
                action=AuditEvent.Action.UPDATE,
                object_type="pathway_instance",
                object_ids=[instance.pk],
                client_ids=[instance.client_id],
                detail={"fields": fields, "check": result.status},
            )
        return result


def pathway_checks_run(today: date) -> dict[str, int]:
    """Check every open instance (each in its own transaction) and count the results by
    `Check` status. Safe to run twice: a completed instance is no longer open."""
    counts = dict.fromkeys(Check.values, 0)
    ids = PathwayInstance.objects.filter(status=Status.OPEN).order_by("pk")
    for pk in ids.values_list("pk", flat=True):
        result = pathway_check_apply(instance_id=pk, today=today)
        if result is not None:
            counts[result.status] += 1
    return counts


# --- reads for the pages -------------------------------------------------------------------


def pathways_visible(org: Organization) -> QuerySet[Pathway]:
    """The network's active pathway definitions."""
    return Pathway.objects.visible_to(org).filter(is_active=True).order_by("name")


@dataclass(frozen=True)
class DefinitionView:
    """A pathway definition with its need's display name."""

    pathway: Pathway

    @property
    def need_label(self) -> str:
        need = self.pathway.need
        return SDOHCategory(need).label if need in SDOHCategory.values else need


def definition_views(org: Organization) -> list[DefinitionView]:
    """The network's active pathways, ready for the page."""
    return [DefinitionView(p) for p in pathways_visible(org)]


def pathways_for_needs(org: Organization, needs: list[str]) -> QuerySet[Pathway]:
    """The network's active pathways for any of these needs (SDOH category codes)."""
    return pathways_visible(org).filter(need__in=needs)


@dataclass(frozen=True)
class InstanceView:
    """A pathway instance as the organization may see it: the client (and so the name)
    only where the consent policy lets it see the client's demographics."""

    instance: PathwayInstance
    client: Client | None

    @property
    def client_name(self) -> str:
        return "" if self.client is None else f"{self.client.given_name} {self.client.family_name}"

    @property
    def checkable_on(self) -> date | None:
        """While open and met on the record (as of the last check), the day it completes
        if nothing undoes it."""
        i = self.instance
        if i.status != Status.OPEN or i.met_on is None:
            return None
        return i.met_on + timedelta(days=i.pathway.hold_days)


def instances_visible(org: Organization) -> QuerySet[PathwayInstance]:
    """The organization's pathway instances, open ones first, newest first."""
    return (
        PathwayInstance.objects.visible_to(org)
        .select_related("pathway", "owner__user")
        .order_by(
            models.Case(
                models.When(status=Status.OPEN, then=0),
                default=1,
                output_field=models.IntegerField(),
            ),
            "-opened_at",
            "-id",
        )
    )


def instance_views(org: Organization, instances: list[PathwayInstance]) -> list[InstanceView]:
    """Each instance with its client where `org` may see the client's demographics."""
    ids = {i.client_id for i in instances}
    visible = {
        c.pk: c for c in Client.objects.visible_to(org, Category.DEMOGRAPHICS).filter(pk__in=ids)
    }
    return [InstanceView(i, visible.get(i.client_id)) for i in instances]


def client_if_visible(org: Organization, client_id: int) -> Client | None:
    """The client, if `org` may see its demographics (for a name on a form)."""
    return Client.objects.visible_to(org, Category.DEMOGRAPHICS).filter(pk=client_id).first()
