"""A Procedure created on its own (POST /Procedure, or a transaction entry no Task update
reads): the receiver reports what it did for a referral, and a later PUT of the Task names
it (`Task.output` resulting-activity → `Procedure/reported-<id>`). Many systems work that
way rather than containing the Procedure in the Task; both end the same: the Task update
reads the stored Procedure exactly as it reads a contained one (referrals._outcome).
"""

from __future__ import annotations

from referrals.models import Referral
from referrals.workflow import TERMINAL

from .errors import invalid, required
from .models import ReportedProcedure
from .references import Resolver
from .referrals import _read_procedure


def procedure_create(*, procedure: dict, where: str, resolver: Resolver) -> ReportedProcedure:
    """Keep a Procedure the receiver of the referral it is basedOn reports (FhirError 422,
    nothing written, when it names no such referral, the referral is closed, or the
    Procedure would be refused as a Task's output)."""
    caller = resolver.caller
    referral = _based_on(procedure, where, resolver)
    # Checked now as a Task update will read it, so that the update cannot fail on it later.
    _read_procedure(procedure, where, referral)
    kept = {k: v for k, v in procedure.items() if k not in ("id", "meta")}
    return ReportedProcedure.objects.create(
        referral=referral,
        organization=caller.organization,
        reported_by=caller.user,
        resource=kept,
    )


def _based_on(procedure: dict, where: str, resolver: Resolver) -> Referral:
    """The one referral (ServiceRequest) the Procedure is basedOn, received by the caller."""
    references = [
        (f"{where}.basedOn[{i}]", b)
        for i, b in enumerate(procedure.get("basedOn") or [])
        if not (b.get("reference") or "").startswith("CarePlan/")
    ]
    if len(references) != 1:
        raise required(
            f"{where}.basedOn: a Procedure reported on its own is basedOn the referral's "
            "ServiceRequest (one ServiceRequest/<id> your organization received).",
            expression=f"{where}.basedOn",
        )
    here, reference = references[0]
    target = resolver.target(reference, where=here, kinds=("ServiceRequest",))
    if target.entry is not None:
        raise invalid(
            f"{here}: a Procedure reports what the receiver did for a referral it received, "
            "not for one sent in the same transaction.",
            expression=here,
        )
    referral = resolver.referral(target, where=here)
    organization = resolver.caller.organization
    if referral.receiver_organization_id != organization.pk:
        raise invalid(
            f"{here}: ServiceRequest/{referral.pk} is not a referral {organization.name} "
            "received; a Procedure is reported by the referral's receiver.",
            expression=here,
        )
    if referral.status in TERMINAL:
        raise invalid(
            f"{here}: ServiceRequest/{referral.pk} is closed ({referral.status}); a Procedure "
            "is reported while the referral is open, before the Task update that completes "
            "it.",
            code="business-rule",
            expression=here,
        )
    return referral
