"""Referrals over FHIR: ServiceRequest + Task in, the referral services do the rest.

Creating a referral (POST a transaction Bundle with ServiceRequest and Task, or a Task
with a contained ServiceRequest, or a ServiceRequest alone) calls
`referrals.services.referral_send`; a Task update calls `referral_transition`; a
coordination-platform Task (partOf the Task the backbone received) calls
`referrals.coordination.referral_route`. So the state machine, the permissions, the
duplicate guard and the consent rules are the browser's and the REST API's, with their
messages.

Which program receives the referral (Linkage refers to a program, FHIR to an owner):

1. a HealthcareService among ServiceRequest.performer and Task.owner is the program (an
   Organization given beside it must be its provider);
2. otherwise the owner Organization (Task.owner, or an Organization in
   ServiceRequest.performer) receives it: the one program of its in the caller's
   directory, accepting referrals, whose service codes (HealthcareService.type) include
   ServiceRequest.code (`directory.selectors.resolve_program`); when no program's codes
   match, its one program for the ServiceRequest's SDOH categories; when several match
   either way (or none serves the categories), the referral waits in the organization's
   intake queue and the receiver chooses the program when accepting. Only an
   organization with no program accepting referrals in the caller's directory is refused.

Updates are PUTs of the whole Task (no PATCH): only `status`, `businessStatus`
(`waitlisted`, with status on-hold), `statusReason` and `output` may differ from the Task
as stored; the status change selects the state-machine move (accept, reject, start, hold,
waitlist, resume, complete, fail, cancel, entered-in-error).

Coded parts go to the referral's own fields: ServiceRequest.code is the requested service
(`Referral.requested_service`), a rejected Task's statusReason coding in Linkage's
decline-reason system the decline reason (its text the explanation), and the completion
Procedure's code and performed date the resulting activity.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone

from directory.models import Program
from directory.selectors import resolve_program
from organizations.models import Organization
from referrals.concepts import Activity, Concept
from referrals.models import Referral
from referrals.services import (
    ConsentMissing,
    referral_send,
    referral_transition,
)
from referrals.workflow import MOVES, Side, Status

from . import codes
from .errors import (
    FhirError,
    Issue,
    code_invalid,
    from_service_error,
    invalid,
    required,
    structure,
)
from .models import ID_PREFIX as REPORTED_PREFIX
from .models import ReportedProcedure
from .references import Resolver, Target
from .render import version_id, version_matches
from .validation import coded, codings, has_coding, moment, text_of

SDOHCC_SYSTEM = codes.sdoh_categories()["food-insecurity"].system

CREATE_INTENTS = frozenset({"order", "original-order"})
# The IG's coordination platform writes filler orders; its own examples of routed
# ServiceRequests say original-order. Both are read as the backbone's routing.
ROUTING_INTENTS = frozenset({"filler-order", "original-order", "order"})


def _contained(resource: dict) -> dict[str, dict]:
    return {c.get("id"): c for c in resource.get("contained") or [] if c.get("id")}


# --- reading the ServiceRequest -------------------------------------------------------------


def _needs(sr: dict, where: str) -> list[str]:
    found = []
    for index, category in enumerate(sr.get("category") or []):
        found += _coded(category, f"{where}.category[{index}]")
    if not found:
        raise required(
            f"{where}.category: name the need with an SDOH category "
            "(SDOHCC-ValueSetSDOHCategory, e.g. food-insecurity).",
            expression=f"{where}.category",
        )
    return sorted(set(found))


def _coded(concept: dict, where: str) -> list[str]:
    allowed = codes.sdoh_categories()
    out = []
    for index, coding in enumerate(codings(concept)):
        if coding.get("system") != SDOHCC_SYSTEM:
            continue
        if coding.get("code") not in allowed:
            raise code_invalid(
                f"{where}.coding[{index}]: {coding.get('code')!r} is not an SDOH category "
                "(SDOHCC-ValueSetSDOHCategory).",
                expression=f"{where}.coding[{index}].code",
            )
        out.append(coding["code"])
    return out


def _urgency(resource: dict, where: str) -> str | None:
    priority = resource.get("priority")
    if priority is None:
        return None
    if priority not in codes.task_priorities():
        raise code_invalid(
            f"{where}.priority: {priority!r} is not a priority Linkage works with "
            "(SDOHCC-ValueSetTaskPriority: routine, urgent).",
            expression=f"{where}.priority",
        )
    return priority


def _concept_of(code: dict, where: str) -> Concept:
    """A CodeableConcept as the concept Linkage keeps: its first coding with a code (and
    that coding's display, else the text), or its text alone."""
    for index, coding in enumerate(codings(code)):
        if coding.get("code"):
            if not coding.get("system"):
                raise required(
                    f"{where}.coding[{index}].system: a code needs its system.",
                    expression=f"{where}.coding[{index}].system",
                )
            return Concept(
                system=coding["system"],
                code=coding["code"],
                display=(coding.get("display") or code.get("text") or "").strip(),
            )
    if not text_of(code):
        raise required(f"{where}: give a coding or a text.", expression=where)
    return Concept(display=text_of(code))


def _requested_service(sr: dict, where: str) -> Concept:
    code = sr.get("code")
    if not code:
        raise required(
            f"{where}.code: say which service is requested (SDOHCC ServiceRequest.code).",
            expression=f"{where}.code",
        )
    return _concept_of(code, f"{where}.code")


def _do_not_contact(sr: dict, where: str) -> bool:
    flag = False
    prohibited = codes.contacting_subject_prohibited()
    for index, detail in enumerate(sr.get("orderDetail") or []):
        if has_coding(detail, prohibited["system"], prohibited["code"]):
            flag = True
        else:
            raise code_invalid(
                f"{where}.orderDetail[{index}]: Linkage understands one order detail, "
                "contacting-subject-prohibited (SDOHCC temporary codes).",
                expression=f"{where}.orderDetail[{index}]",
            )
    return flag


def _note_texts(resource: dict) -> list[str]:
    return [n["text"] for n in resource.get("note") or [] if n.get("text")]


def _check_requester(resource: dict, resolver: Resolver, where: str) -> None:
    if not resource.get("requester"):
        return
    target = resolver.target(
        resource["requester"], where=f"{where}.requester", kinds=("Organization",)
    )
    if target.id != str(resolver.caller.organization.pk):
        raise invalid(
            f"{where}.requester: the requester is your own organization "
            f"(Organization/{resolver.caller.organization.pk}).",
            expression=f"{where}.requester",
        )


# --- the program --------------------------------------------------------------------------


def _program(
    refs: list[tuple[dict, str]],
    needs: list[str],
    resolver: Resolver,
    owner_where: str,
    requested_codes: list[tuple[str, str]] = (),
) -> tuple[Program | None, Organization, str]:
    """The receiving program (None: the organization's intake queue), the receiving
    organization, and the element they came from (rule in the module docstring)."""
    programs: list[tuple[Program, str]] = []
    organizations: list[tuple[Organization, str]] = []
    for reference, where in refs:
        target = resolver.target(
            reference, where=where, kinds=("HealthcareService", "Organization")
        )
        if target.kind == "HealthcareService":
            programs.append((resolver.program(target, where=where), where))
        else:
            organizations.append((resolver.organization(target, where=where), where))
    if len({p.pk for p, _ in programs}) > 1:
        raise invalid(
            "Name one HealthcareService: a referral goes to one program.",
            expression=programs[1][1],
        )
    if programs:
        program, where = programs[0]
        for organization, org_where in organizations:
            if organization.pk != program.organization_id:
                raise invalid(
                    f"{org_where}: Organization/{organization.pk} does not provide "
                    f"HealthcareService/{program.pk} ({program.organization.name} does).",
                    expression=org_where,
                )
        return program, program.organization, where
    if not organizations:
        raise required(
            f"{owner_where}: name the receiving Organization (or a HealthcareService, the "
            "program).",
            expression=owner_where,
        )
    if len({o.pk for o, _ in organizations}) > 1:
        raise invalid(
            "The Task's owner and the ServiceRequest's performer name different organizations.",
            expression=organizations[1][1],
        )
    organization, where = organizations[0]
    viewer = resolver.caller.organization
    accepting = Program.objects.visible_to(viewer).filter(
        organization=organization, accepting_referrals=True
    )
    if not accepting.exists():
        raise invalid(
            f"{where}: {organization.name} has no program in your directory that accepts "
            "referrals.",
            expression=where,
        )
    by_code = resolve_program(organization, requested_codes, viewer=viewer)
    if by_code is not None:
        return by_code, organization, where
    coded = Q()
    for system, code in requested_codes:
        coded |= Q(service_codes__system=system, service_codes__code=code)
    if not requested_codes or not accepting.filter(coded).exists():
        # No program says it delivers the service asked for: the one program for the
        # needs, as before service codes existed.
        candidates = list(
            accepting.filter(categories__code__in=needs)
            .select_related("organization")
            .distinct()
            .order_by("pk")[:2]
        )
        if len(candidates) == 1:
            return candidates[0], organization, where
    # Several programs could take it on, or none says so: the organization's intake queue.
    return None, organization, where


# --- create ---------------------------------------------------------------------------------


def referral_create(
    *,
    sr: dict,
    sr_where: str,
    task: dict | None,
    task_where: str,
    resolver: Resolver,
    sr_warnings: list[Issue] | None = None,
    task_warnings: list[Issue] | None = None,
) -> Referral:
    """Send the referral a ServiceRequest (and its Task, if given) describe. Raises
    FhirError (nothing written) when they are incomplete, inconsistent, coded outside
    the IG's value sets, or refused by the referral services. A status further along
    the referral's life than a new one (the IG's examples show them so) is taken as new,
    and said in `sr_warnings` / `task_warnings`."""
    caller = resolver.caller
    status = sr.get("status")
    if status in LATER_SR_STATUSES:
        _taken_as_new(sr_where, status, "active", sr_warnings)
    elif status != "active":
        raise invalid(
            f"{sr_where}.status: {status!r}; a new referral's ServiceRequest is active "
            "(draft, revoked and entered-in-error ones are not sent).",
            expression=f"{sr_where}.status",
        )
    routed = bool(sr.get("basedOn")) or bool(task and task.get("partOf"))
    intents = ROUTING_INTENTS if routed else CREATE_INTENTS
    if sr.get("intent") not in intents:
        raise invalid(
            f"{sr_where}.intent: {sr.get('intent')!r}; a referral is an order "
            f"({', '.join(sorted(intents))}).",
            expression=f"{sr_where}.intent",
        )
    needs = _needs(sr, sr_where)
    service = _requested_service(sr, sr_where)
    urgency = _urgency(sr, sr_where)
    do_not_contact = _do_not_contact(sr, sr_where)
    _check_requester(sr, resolver, sr_where)
    patient = resolver.target(sr.get("subject"), where=f"{sr_where}.subject", kinds=("Patient",))
    client = resolver.client(patient, where=f"{sr_where}.subject")
    refs = [(p, f"{sr_where}.performer[{i}]") for i, p in enumerate(sr.get("performer") or [])]
    if task is not None:
        _check_new_task(task, task_where, resolver, task_warnings)
        for_target = resolver.target(task.get("for"), where=f"{task_where}.for", kinds=("Patient",))
        if resolver.client(for_target, where=f"{task_where}.for").pk != client.pk:
            raise invalid(
                f"{task_where}.for: the Task is for another patient than its ServiceRequest.",
                expression=f"{task_where}.for",
            )
        task_urgency = _urgency(task, task_where)
        if urgency and task_urgency and urgency != task_urgency:
            raise invalid(
                f"{task_where}.priority differs from {sr_where}.priority.",
                expression=f"{task_where}.priority",
            )
        urgency = urgency or task_urgency
        if task.get("owner"):
            refs.append((task["owner"], f"{task_where}.owner"))
    elif not refs:
        raise required(
            f"{sr_where}.performer: a ServiceRequest posted without its Task names the "
            "program (HealthcareService) or organization that is to perform it.",
            expression=f"{sr_where}.performer",
        )
    program, receiver, program_where = _program(
        refs,
        needs,
        resolver,
        f"{task_where}.owner",
        [(c.get("system", ""), c.get("code", "")) for c in codings(sr.get("code"))],
    )
    assessment = None
    for index, info in enumerate(sr.get("supportingInfo") or []):
        if (info.get("reference") or "").startswith("QuestionnaireResponse/"):
            where = f"{sr_where}.supportingInfo[{index}]"
            target = resolver.target(info, where=where, kinds=("QuestionnaireResponse",))
            assessment = resolver.assessment(target, where=where)
            if assessment.client_id != client.pk:
                raise invalid(f"{where}: a screening of another patient.", expression=where)
    reason = "\n".join(t.strip() for t in _note_texts(sr) if t.strip())
    expressions = {
        "needs": f"{sr_where}.category",
        "urgency": f"{sr_where}.priority",
        "requested_service": f"{sr_where}.code",
        "program": program_where,
        "receiver_organization": program_where,
        "": program_where,
    }
    if routed:
        if program is None:
            raise invalid(
                f"{program_where}: a routed referral goes to one program: name it with "
                "ServiceRequest.performer = HealthcareService/<id>.",
                expression=program_where,
            )
        return _route(
            sr=sr,
            sr_where=sr_where,
            task=task,
            task_where=task_where,
            resolver=resolver,
            client=client,
            program=program,
            program_where=program_where,
            needs=needs,
            reason=reason,
            service=service,
        )
    try:
        return referral_send(
            client=client,
            program=program,
            receiver_organization=receiver,
            sender_organization=caller.organization,
            sender_user=caller.user,
            needs=needs,
            reason=reason,
            requested_service=service,
            urgency=urgency or Referral.Urgency.ROUTINE,
            do_not_contact=do_not_contact,
            assessment=assessment,
        )
    except ConsentMissing as error:
        raise _not_covered(error, program, program_where) from None
    except (ValidationError, PermissionDenied) as error:
        raise from_service_error(error, expressions=expressions) from None


def _not_covered(error: ConsentMissing, program: Program, where: str) -> FhirError:
    receiver = error.receiver
    return FhirError(
        422,
        [
            Issue(
                f"{where}: the Task's owner, Organization/{receiver.pk} ({receiver.name}), is "
                f"not covered by an active release of this patient's information. "
                f"{error.messages[0]}",
                "business-rule",
                expression=(where,),
            )
        ],
    )


# Statuses of a later point of a referral's life, which only its owner sets: a new
# ServiceRequest or Task sent with one (as the IG's examples are) is taken as new.
LATER_SR_STATUSES = frozenset({"on-hold", "completed"})
LATER_TASK_STATUSES = frozenset({"received", "accepted", "in-progress", "on-hold", "completed"})


def _taken_as_new(where: str, status: str, new: str, warnings: list[Issue] | None) -> None:
    if warnings is not None:
        warnings.append(
            Issue(
                f"{where}.status: {status!r} was taken as {new!r}: a new referral starts "
                f"{new}; its receiver moves it on, by update.",
                "business-rule",
                severity="warning",
                expression=(f"{where}.status",),
            )
        )


def _check_new_task(
    task: dict, where: str, resolver: Resolver, warnings: list[Issue] | None = None
) -> None:
    status = task.get("status")
    if status in LATER_TASK_STATUSES:
        _taken_as_new(where, status, Status.REQUESTED.value, warnings)
    elif status != Status.REQUESTED:
        raise invalid(
            f"{where}.status: a new referral Task is requested (the IG's referral source "
            f"sets it); {status!r} does not send a referral.",
            expression=f"{where}.status",
        )
    if task.get("intent") != "order":
        raise invalid(
            f"{where}.intent: a referral Task's intent is order.", expression=f"{where}.intent"
        )
    if task.get("code") and not has_coding(
        task["code"], codes.TASK_FULFILL["system"], codes.TASK_FULFILL["code"]
    ):
        raise code_invalid(
            f"{where}.code: a referral Task's code is fulfill (task-code).",
            expression=f"{where}.code",
        )
    _check_requester(task, resolver, where)


def _route(
    *,
    sr,
    sr_where,
    task,
    task_where,
    resolver,
    client,
    program,
    program_where,
    needs,
    reason,
    service,
) -> Referral:
    """The backbone's routing (the IG's coordination platform): the routed referral
    fulfils the one its Task is partOf / its ServiceRequest is basedOn."""
    try:
        from referrals import coordination
    except ImportError:  # pragma: no cover - the coordination platform is a later part
        coordination = None
    route = getattr(coordination, "referral_route", None)
    if route is None or not hasattr(Referral, "part_of"):
        raise invalid(
            "Routing through the backbone (Task.partOf, ServiceRequest.basedOn) is not "
            "available on this server.",
            code="not-supported",
            expression=f"{task_where}.partOf",
        )
    sources = []
    for index, parent in enumerate((task or {}).get("partOf") or []):
        where = f"{task_where}.partOf[{index}]"
        target = resolver.target(parent, where=where, kinds=("Task",))
        sources.append((resolver.referral(target, where=where), where))
    for index, parent in enumerate(sr.get("basedOn") or []):
        where = f"{sr_where}.basedOn[{index}]"
        target = resolver.target(parent, where=where, kinds=("ServiceRequest",))
        sources.append((resolver.referral(target, where=where), where))
    if not sources:
        raise required(
            f"{task_where}.partOf: name the Task this one fulfils.",
            expression=f"{task_where}.partOf",
        )
    source, where = sources[0]
    if any(s.pk != source.pk for s, _ in sources):
        raise invalid(
            "Task.partOf and ServiceRequest.basedOn name different referrals.", expression=where
        )
    if source.client_id != client.pk:
        raise invalid(
            f"{sr_where}.subject: not the patient of {where}.", expression=f"{sr_where}.subject"
        )
    carried = set(source.needs.values_list("code", flat=True))
    if set(needs) - carried:
        raise invalid(
            f"{sr_where}.category: the routed referral carries the needs of the one it "
            f"fulfils ({', '.join(sorted(carried))}).",
            expression=f"{sr_where}.category",
        )
    caller = resolver.caller
    try:
        return route(
            referral=source,
            program=program,
            actor=caller.user,
            organization=caller.organization,
            reason=reason,
            requested_service=service,
        )
    except ConsentMissing as error:
        raise _not_covered(error, program, program_where) from None
    except (ValidationError, PermissionDenied) as error:
        raise from_service_error(
            error,
            expressions={
                "program": program_where,
                "requested_service": f"{sr_where}.code",
                "": where,
            },
        ) from None


# --- update ----------------------------------------------------------------------------------


def check_update_id(resource: dict, pk: int, where: str) -> None:
    """FHIR update: the resource carries the id of the URL (400 otherwise)."""
    if resource.get("id") != str(pk):
        raise structure(
            f"{where}.id: an update carries the resource's id ({pk}), as in the URL; "
            f"got {resource.get('id')!r}.",
            expression=f"{where}.id",
        )


# Elements a Task update may not change (Linkage's referral keeps them for its life).
_FIXED = ("focus", "for", "owner", "requester")


def task_update(
    *,
    referral: Referral,
    task: dict,
    where: str,
    resolver: Resolver,
    if_match: str | None = None,
) -> Referral:
    """Apply a PUT of the referral's Task: the status change becomes the state-machine move
    (refused moves come back as the service's 409/403/422), a completion's output the
    outcome. Re-sending the Task unchanged changes nothing."""
    caller = resolver.caller
    check_update_id(task, referral.pk, where)
    if not version_matches(if_match, version_id(referral.updated_at)):
        raise FhirError(
            412,
            [
                Issue(
                    f"Task/{referral.pk} changed since version {if_match} (If-Match): read it "
                    "again and decide anew.",
                    "conflict",
                )
            ],
        )
    _check_fixed(task, where, referral, resolver)
    target = task.get("status")
    if target not in codes.referral_task_statuses():
        raise code_invalid(
            f"{where}.status: {target!r} is not a referral Task status "
            "(SDOHCC-ValueSetReferralTaskStatus excludes ready and received).",
            expression=f"{where}.status",
        )
    business = _business_status(task, where, referral)
    decline_reason, reason = _status_reason(task, where, target, referral)
    outputs = task.get("output") or []
    if target == referral.status and business == referral.business_status:
        if outputs and target != Status.COMPLETED:
            raise invalid(
                f"{where}.output: only a completed Task carries outputs.",
                expression=f"{where}.output",
            )
        return referral  # nothing to do (the Task as it is, sent again)
    if outputs and target != Status.COMPLETED:
        raise invalid(
            f"{where}.output: only a completed Task carries outputs.", expression=f"{where}.output"
        )
    move = _move_for(referral.status, target, business, where)
    outcome, outcome_note, activity = "", "", None
    if target == Status.COMPLETED:
        outcome, outcome_note, activity = _outcome(task, where, referral, resolver)
    try:
        return referral_transition(
            referral_id=referral.pk,
            move=move,
            actor=caller.user,
            organization=caller.organization,
            reason=reason,
            decline_reason=decline_reason,
            outcome=outcome,
            outcome_note=outcome_note,
            resulting_activity=activity,
            expected_status=referral.status,
        )
    except (ValidationError, PermissionDenied) as error:
        raise from_service_error(
            error,
            expressions={
                "reason": f"{where}.statusReason",
                "decline_reason": f"{where}.statusReason.coding",
                "outcome": f"{where}.output",
                "resulting_activity": f"{where}.output",
                "": f"{where}.status",
            },
        ) from None


def _status_reason(task: dict, where: str, target: str, referral: Referral) -> tuple[str, str]:
    """(decline reason code, explanation) of Task.statusReason. A coding of Linkage's
    decline-reason system says why a Task is rejected; the text is the explanation
    (without a decline coding, the first coding's display serves as text). On any other
    status the coding may only be the stored one, sent back with the Task as it was read."""
    concept = task.get("statusReason")
    system = codes.decline_reason_system()
    found = coded(
        concept,
        system=system,
        allowed=Referral.DeclineReason.values,
        where=f"{where}.statusReason",
        name=f"{system} ({', '.join(Referral.DeclineReason.values)})",
    )
    if not found:
        return "", text_of(concept)
    if target != Status.REJECTED:
        if found[0] == referral.decline_reason:
            return "", ((concept or {}).get("text") or "").strip()
        raise invalid(
            f"{where}.statusReason: a decline reason ({system}) is given only when the Task "
            "is rejected.",
            expression=f"{where}.statusReason",
        )
    return found[0], ((concept or {}).get("text") or "").strip()


def _check_fixed(task: dict, where: str, referral: Referral, resolver: Resolver) -> None:
    expected = {
        "focus": f"ServiceRequest/{referral.pk}",
        "for": f"Patient/{referral.client_id}",
        "owner": f"Organization/{referral.receiver_organization_id}",
        "requester": (
            f"Organization/{referral.sender_organization_id}"
            if referral.sender_organization_id
            else None
        ),
    }
    for name in _FIXED:
        given = task.get(name)
        if not given or expected[name] is None:
            continue
        text = given.get("reference", "")
        if text.startswith(resolver.caller.base_url):
            text = text[len(resolver.caller.base_url) :]
        if text != expected[name]:
            raise invalid(
                f"{where}.{name}: {text or 'this'} is not the Task's {name} "
                f"({expected[name]}); an update changes the status and outputs only.",
                expression=f"{where}.{name}",
            )
    if task.get("intent") not in (None, "order"):
        raise invalid(
            f"{where}.intent: a referral Task's intent is order.", expression=f"{where}.intent"
        )


def _business_status(task: dict, where: str, referral: Referral) -> str:
    concept = task.get("businessStatus")
    if not concept:
        return referral.business_status
    system = codes.business_status_system()
    coded = [c.get("code") for c in codings(concept) if c.get("system") == system]
    if coded:
        code = coded[0]
        if code not in Referral.BusinessStatus.values:
            raise code_invalid(
                f"{where}.businessStatus: {code!r} is not one of Linkage's business statuses.",
                expression=f"{where}.businessStatus",
            )
    elif text_of(concept) == str(referral.get_business_status_display()):
        code = referral.business_status
    else:
        raise code_invalid(
            f"{where}.businessStatus: use a code of {system}.",
            expression=f"{where}.businessStatus",
        )
    if code != referral.business_status and code != Referral.BusinessStatus.WAITLISTED:
        raise invalid(
            f"{where}.businessStatus: Linkage sets {code!r} itself from what happens; an "
            "update may only ask for waitlisted (with status on-hold).",
            expression=f"{where}.businessStatus",
        )
    return code


def _move_for(current: str, target: str, business: str, where: str) -> str:
    """The state-machine move that takes a referral from `current` to `target`: the one
    whose sources include `current` (waitlist when the business status asks for it); if
    none does, the first move to `target`, which the service then refuses with what
    happened (409)."""
    candidates = [m for m in MOVES.values() if m.target == target and m.side != Side.SYSTEM]
    if target == Status.ON_HOLD:
        wanted = "waitlist" if business == Referral.BusinessStatus.WAITLISTED else "hold"
        candidates.sort(key=lambda m: m.name != wanted)
    if not candidates:
        raise invalid(
            f"{where}.status: a referral does not move to {target!r} by update.",
            expression=f"{where}.status",
        )
    for move in candidates:
        if current in move.sources:
            return move.name
    return candidates[0].name


def _outcome(
    task: dict, where: str, referral: Referral, resolver: Resolver
) -> tuple[str, str, Activity | None]:
    """The outcome, the outcome note and the resulting activity a completing Task carries:
    its output of type resulting-activity references a Procedure (contained, an entry of
    the same transaction, one the caller POSTed before for this referral
    (Procedure/reported-<id>), or this referral's own Procedure/<id> when sent again). With
    several, the first is the resulting activity, and the others are named in the note."""
    activity = codes.resulting_activity()
    contained = _contained(task)
    procedures = []
    for index, output in enumerate(task.get("output") or []):
        here = f"{where}.output[{index}]"
        if not has_coding(output.get("type"), activity["system"], activity["code"]):
            raise code_invalid(
                f"{here}.type: Linkage reads outputs of type resulting-activity (SDOHCC "
                "temporary codes).",
                expression=f"{here}.type",
            )
        if "valueReference" not in output:
            raise required(f"{here}: reference the Procedure (valueReference).", expression=here)
        target = resolver.target(
            output["valueReference"],
            where=f"{here}.valueReference",
            kinds=("Procedure",),
            contained=contained,
        )
        procedures.append(
            _procedure_of(target, task, referral, f"{here}.valueReference", where, resolver)
        )
    if not procedures:
        raise required(
            f"{where}.output: a completed referral Task carries its resulting activity: an "
            "output of type resulting-activity referencing a Procedure.",
            expression=f"{where}.output",
        )
    outcome = ""
    activities: list[Activity] = []
    texts: list[str] = []
    for procedure, here in procedures:
        if procedure is None:  # this referral's own Procedure, sent back as it is
            if referral.activity is not None:
                activities.append(referral.activity)
            texts.append(referral.outcome_note)
            outcome = outcome or referral.outcome
            continue
        found, done, notes = _read_procedure(procedure, here, referral)
        outcome = outcome or found
        activities.append(done)
        texts += notes
    first = activities[0] if activities else None
    also = [f"Also done: {_words(a)}" for a in activities[1:]]
    note = "\n".join(t.strip() for t in [*also, *texts] if t and t.strip())
    return outcome or Referral.Outcome.NEED_MET, note, first


def _words(activity: Activity) -> str:
    words = activity.display or f"{activity.system}|{activity.code}"
    if activity.performed is not None:
        words += f" ({activity.performed.isoformat()[:10]})"
    return words


def _procedure_of(
    target: Target,
    task: dict,
    referral: Referral,
    where: str,
    task_where: str,
    resolver: Resolver,
) -> tuple[dict | None, str]:
    """The Procedure an output references, and its path in the request (for errors)."""
    if target.contained is not None:
        index = next(i for i, c in enumerate(task["contained"]) if c is target.contained)
        return target.contained, f"{task_where}.contained[{index}]"
    if target.entry is not None:
        target.entry.used = True
        return target.entry.resource, target.entry.where
    if target.id == str(referral.pk) and referral.status == Status.COMPLETED:
        return None, where
    reported = _reported(target, referral, resolver)
    if reported is not None:
        return reported.resource, f"Procedure/{target.id}"
    raise invalid(
        f"{where}: Procedure/{target.id} is not known here: send the Procedure contained in "
        "the Task, as an entry of the same transaction, or POST it first (basedOn this "
        "Task's ServiceRequest) and reference the Procedure/<id> it was given.",
        expression=where,
    )


def _reported(target: Target, referral: Referral, resolver: Resolver) -> ReportedProcedure | None:
    """A Procedure the caller POSTed for this referral (Procedure/reported-<id>), marked
    used (the request's transaction undoes that if the update is refused)."""
    raw = target.id.removeprefix(REPORTED_PREFIX)
    if raw == target.id or not raw.isdigit():
        return None
    found = ReportedProcedure.objects.filter(
        pk=int(raw), referral=referral, organization=resolver.caller.organization
    ).first()
    if found is not None and found.used_at is None:
        found.used_at = timezone.now()
        found.save(update_fields=["used_at"])
    return found


def _read_procedure(
    procedure: dict, where: str, referral: Referral
) -> tuple[str, Activity, list[str]]:
    """(outcome code or "", the resulting activity, note texts) of a Procedure.

    The outcome is Procedure.outcome's code in Linkage's referral-outcome system; without
    one, a completed Procedure means the service was provided and the need met (the IG's
    completed referral examples carry no outcome), a not-done one must say its outcome."""
    status = procedure.get("status")
    if status not in ("completed", "not-done"):
        raise invalid(
            f"{where}: the resulting activity is completed or not-done, not {status!r}.",
            expression=f"{where}.status",
        )
    for name, expected in (("subject", f"Patient/{referral.client_id}"),):
        given = (procedure.get(name) or {}).get("reference", "")
        if given and not given.startswith("urn:") and not given.endswith(expected):
            raise invalid(
                f"{where}.{name}: the Procedure is about {expected}, not {given}.",
                expression=f"{where}.{name}",
            )
    code = procedure.get("code") or {}
    if not any(c.get("code") for c in codings(code)) and not text_of(code):
        raise required(f"{where}.code: say what was done.", expression=f"{where}.code")
    done = _concept_of(code, f"{where}.code")
    performed = procedure.get("performedDateTime") or (procedure.get("performedPeriod") or {}).get(
        "end", ""
    )
    when = None
    if performed:
        # A date stays a date; a moment is kept as the moment (checked: a real one).
        when = moment(performed, where=f"{where}.performed")
        if "T" not in performed:
            when = when.date()
    activity = Activity(system=done.system, code=done.code, display=done.display, performed=when)
    outcome = ""
    concept = procedure.get("outcome")
    if concept:
        system = codes.referral_outcome_system()
        found = [c.get("code") for c in codings(concept) if c.get("system") == system]
        if not found:
            raise code_invalid(
                f"{where}.outcome: use a code of {system} ({', '.join(Referral.Outcome.values)}).",
                expression=f"{where}.outcome",
            )
        if found[0] not in Referral.Outcome.values:
            raise code_invalid(
                f"{where}.outcome: {found[0]!r} is not a referral outcome "
                f"({', '.join(Referral.Outcome.values)}).",
                expression=f"{where}.outcome",
            )
        outcome = found[0]
    elif status == "not-done":
        raise required(
            f"{where}.outcome: a not-done activity says the outcome (why).",
            expression=f"{where}.outcome",
        )
    texts = [n["text"] for n in procedure.get("note") or [] if n.get("text")]
    return outcome, activity, texts
