"""Writes: one resource (POST /<type>, PUT /<type>/<id>) or a transaction Bundle (POST /),
all or nothing, through the domain services.

Inside a transaction, entries reference each other by `fullUrl` (`urn:uuid:...`). They are
processed in dependency order, whatever order they come in: Patients first (all matched
before any is created, so that a refused match writes nothing but its audit), then
Consents and QuestionnaireResponses, then each ServiceRequest with the Task whose `focus`
is that ServiceRequest (one referral each), then Task and Consent updates. A Procedure entry
a Task update's output references is read as its resulting activity; one no Task update
reads is kept as a reported Procedure (procedures.py), as POST /Procedure keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assessments.models import Assessment
from clients.models import Client
from consent.models import Release
from organizations.models import Organization
from organizations.roles import Capability
from referrals.models import Referral

from . import consents, patients, procedures, questionnaires, referrals
from .errors import FhirError, Issue, invalid
from .models import ReportedProcedure
from .references import Caller, Resolver
from .validation import resource_of, validate

CREATABLE = ("Patient", "ServiceRequest", "Task", "Consent", "QuestionnaireResponse", "Procedure")
UPDATABLE = ("Task", "Consent")
# What the caller's role must allow for each write (the pages' and the REST API's rule).
CAPABILITY = {
    ("Patient", "POST"): Capability.EDIT_CLIENTS,
    ("ServiceRequest", "POST"): Capability.VIEW_CLIENTS,
    ("Task", "POST"): Capability.VIEW_CLIENTS,
    ("Task", "PUT"): Capability.VIEW_CLIENTS,
    ("Consent", "POST"): Capability.CAPTURE_RELEASES,
    ("Consent", "PUT"): Capability.CAPTURE_RELEASES,
    ("QuestionnaireResponse", "POST"): Capability.ADMINISTER_ASSESSMENTS,
    ("Procedure", "POST"): Capability.VIEW_CLIENTS,
}


@dataclass
class Entry:
    index: int
    kind: str
    resource: dict
    method: str  # POST | PUT
    where: str  # the resource's path in the request ("Bundle.entry[2].resource" or "Task")
    full_url: str = ""
    target_id: str = ""  # PUT: the id in the request URL
    if_match: str | None = None
    result: Any = None  # the domain object written (or matched)
    status: int = 201
    used: bool = False  # a Procedure entry read by a Task update
    warnings: list[Issue] = field(default_factory=list)  # what was assumed for the caller


@dataclass
class Written:
    """What one entry wrote: the domain object, its resource type and the HTTP status."""

    kind: str
    obj: Any
    status: int
    warnings: list[Issue] = field(default_factory=list)


def single(
    *,
    caller: Caller,
    kind: str,
    body: Any,
    method: str,
    target=None,
    if_match: str | None = None,
) -> Written:
    """One resource, as POST /<kind> or PUT /<kind>/<id> (`target`: the row, found
    through the caller's scope)."""
    resource = resource_of(body, expected=kind)
    entry = Entry(0, kind, resource, method, kind, if_match=if_match)
    if method == "PUT":
        entry.target_id = str(target.pk)
        entry.result = target
    return _process([entry], caller)[0]


def bundle(*, caller: Caller, body: Any) -> list[Written]:
    """A transaction Bundle; results in the order of its entries."""
    data = resource_of(body, expected="Bundle")
    if data.get("type") != "transaction":
        raise invalid(
            f"Bundle.type: {data.get('type')!r}; POST to the base takes a transaction Bundle.",
            code="not-supported",
            expression="Bundle.type",
        )
    entries = []
    for index, raw in enumerate(data.get("entry") or []):
        where = f"Bundle.entry[{index}]"
        resource = raw.get("resource")
        request = raw.get("request") or {}
        method, url = request.get("method", ""), request.get("url", "")
        if not resource:
            raise invalid(f"{where}.resource: each entry carries a resource.", expression=where)
        kind = resource.get("resourceType", "")
        if method == "POST":
            if kind not in CREATABLE or url != kind:
                raise invalid(
                    f"{where}.request: POST {url!r} — Linkage creates "
                    f"{', '.join(CREATABLE)} (url = the resource type).",
                    code="not-supported",
                    expression=f"{where}.request",
                )
        elif method == "PUT":
            kind_in_url, _, target_id = url.partition("/")
            if kind not in UPDATABLE or kind_in_url != kind or not target_id:
                raise invalid(
                    f"{where}.request: PUT {url!r} — Linkage updates {', '.join(UPDATABLE)} "
                    "(url = <type>/<id>).",
                    code="not-supported",
                    expression=f"{where}.request",
                )
        else:
            raise invalid(
                f"{where}.request.method: {method!r}; a transaction entry is POST or PUT.",
                code="not-supported",
                expression=f"{where}.request.method",
            )
        entry = Entry(
            index,
            kind,
            resource,
            method,
            f"{where}.resource",
            full_url=raw.get("fullUrl", ""),
            if_match=request.get("ifMatch"),
        )
        if method == "PUT":
            entry.target_id = target_id
        entries.append(entry)
    if not entries:
        raise invalid("Bundle.entry: the transaction is empty.", expression="Bundle.entry")
    urls = [e.full_url for e in entries if e.full_url]
    if len(urls) != len(set(urls)):
        raise invalid("Bundle.entry.fullUrl: each fullUrl appears once.", expression="Bundle.entry")
    return _process(entries, caller)


def _process(entries: list[Entry], caller: Caller) -> list[Written]:
    # Bundle entries were validated as part of the Bundle; a single resource already too.
    for entry in entries:
        if not caller.membership.has(CAPABILITY[entry.kind, entry.method]):
            raise FhirError(
                403,
                [
                    Issue(
                        f"{entry.where}: your role does not allow this "
                        f"({entry.method} {entry.kind}).",
                        "forbidden",
                    )
                ],
            )
    resolver = Resolver(caller, {e.full_url: e for e in entries if e.full_url})
    by_kind: dict[str, list[Entry]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry)

    # Patients: every match before any write.
    posted = [e for e in by_kind.get("Patient", []) if e.method == "POST"]
    inputs = [patients.patient_input(e.resource, where=e.where) for e in posted]
    found = [patients.match_patient(i, caller) for i in inputs]
    for entry, data, match in zip(posted, inputs, found, strict=True):
        entry.result, created = patients.patient_save(data, match, caller, entry.warnings)
        entry.status = 201 if created else 200

    posted_consents = [e for e in by_kind.get("Consent", []) if e.method == "POST"]
    referred_to = _referred_to(by_kind, resolver) if posted_consents else []
    for entry in posted_consents:
        entry.result = consents.consent_create(
            consent=entry.resource,
            where=entry.where,
            resolver=resolver,
            warnings=entry.warnings,
            referred_to=referred_to,
        )
    for entry in by_kind.get("QuestionnaireResponse", []):
        entry.result = questionnaires.questionnaire_response_create(
            qr=entry.resource, where=entry.where, resolver=resolver
        )

    _referrals(by_kind, resolver)

    for entry in by_kind.get("Task", []):
        if entry.method == "PUT":
            entry.result = referrals.task_update(
                referral=_updated(entry, resolver, Referral),
                task=entry.resource,
                where=entry.where,
                resolver=resolver,
                if_match=entry.if_match,
            )
            entry.status = 200
    for entry in by_kind.get("Consent", []):
        if entry.method == "PUT":
            entry.result = consents.consent_update(
                release=_updated(entry, resolver, Release),
                consent=entry.resource,
                where=entry.where,
                resolver=resolver,
                if_match=entry.if_match,
            )
            entry.status = 200
    for entry in by_kind.get("Procedure", []):
        if not entry.used:
            entry.result = procedures.procedure_create(
                procedure=entry.resource, where=entry.where, resolver=resolver
            )
    # A Procedure a Task update read is part of that update's answer (the Task).
    return [
        Written(e.kind, e.result, e.status, e.warnings)
        for e in entries
        if not (e.kind == "Procedure" and e.used)
    ]


def _referred_to(by_kind: dict[str, list[Entry]], resolver: Resolver) -> list[Organization]:
    """The organizations the posted Tasks and ServiceRequests of this transaction refer the
    patient to (Task.owner, ServiceRequest.performer: an Organization, or a
    HealthcareService's organization)."""
    refs = [
        (e.resource["owner"], f"{e.where}.owner")
        for e in by_kind.get("Task", [])
        if e.method == "POST" and e.resource.get("owner")
    ]
    refs += [
        (performer, f"{e.where}.performer[{i}]")
        for e in by_kind.get("ServiceRequest", [])
        if e.method == "POST"
        for i, performer in enumerate(e.resource.get("performer") or [])
    ]
    found: list[Organization] = []
    for reference, where in refs:
        if not str(reference.get("reference") or "").startswith(
            ("Organization/", "HealthcareService/")
        ):
            continue  # a Practitioner or the like: not where a referral goes
        target = resolver.target(
            reference, where=where, kinds=("HealthcareService", "Organization")
        )
        if target.kind == "HealthcareService":
            found.append(resolver.program(target, where=where).organization)
        else:
            found.append(resolver.organization(target, where=where))
    return found


def _updated(entry: Entry, resolver: Resolver, model):
    if entry.result is not None:
        return entry.result
    target_id = entry.target_id
    scoped = model.objects.visible_to(resolver.caller.organization)
    row = scoped.filter(pk=int(target_id)).first() if target_id.isdigit() else None
    if row is None:
        raise FhirError(
            404,
            [
                Issue(
                    f"{entry.where}: {entry.kind}/{target_id} is not known here.",
                    "not-found",
                    expression=(entry.where,),
                )
            ],
        )
    return row


def _referrals(by_kind: dict[str, list[Entry]], resolver: Resolver) -> None:
    """Each posted ServiceRequest with the posted Task that focuses on it (one referral);
    a Task alone focuses on a contained ServiceRequest, or on an existing one (then it is
    that referral's Task, already made: 200)."""
    tasks = [e for e in by_kind.get("Task", []) if e.method == "POST"]
    requests = [e for e in by_kind.get("ServiceRequest", []) if e.method == "POST"]
    paired: dict[int, Entry] = {}
    for task in tasks:
        focus = resolver.target(
            task.resource.get("focus"),
            where=f"{task.where}.focus",
            kinds=("ServiceRequest",),
            contained=referrals._contained(task.resource),
        )
        if focus.entry is not None:
            if focus.entry.index in paired:
                raise invalid(
                    f"{task.where}.focus: another Task of this Bundle already fulfils "
                    f"{focus.entry.full_url}.",
                    expression=f"{task.where}.focus",
                )
            paired[focus.entry.index] = task
            task.status = 201
            continue
        if focus.contained is not None:
            sr_where = f"{task.where}.contained"
            validate(focus.contained, where=sr_where)
            task.result = referrals.referral_create(
                sr=focus.contained,
                sr_where=sr_where,
                task=task.resource,
                task_where=task.where,
                resolver=resolver,
                sr_warnings=task.warnings,
                task_warnings=task.warnings,
            )
            continue
        existing = resolver.referral(focus, where=f"{task.where}.focus")
        task.result = _the_task_of(existing, task, resolver)
        task.status = 200
    for sr in requests:
        task = paired.get(sr.index)
        sr.result = referrals.referral_create(
            sr=sr.resource,
            sr_where=sr.where,
            task=task.resource if task else None,
            task_where=task.where if task else "Task",
            resolver=resolver,
            sr_warnings=sr.warnings,
            task_warnings=task.warnings if task else None,
        )
        if task is not None:
            task.result = sr.result


def _the_task_of(referral: Referral, task: Entry, resolver: Resolver) -> Referral:
    """A Task posted for a ServiceRequest that already has its Task (Linkage makes both at
    once): FHIR's conditional create — the existing Task, if the posted one agrees."""
    where = task.where
    referrals._check_fixed(task.resource, where, referral, resolver)
    if task.resource.get("status") not in (referral.status, "requested"):
        raise invalid(
            f"{where}.status: Task/{referral.pk} of this ServiceRequest exists already "
            f"({referral.status}); change it by update.",
            expression=f"{where}.status",
        )
    return referral


def rows_for(written: list[Written]) -> list[Written]:
    """Re-read every written row (final state, for rendering)."""
    out = []
    for item in written:
        obj = item.obj
        if isinstance(obj, Referral):
            obj = Referral.objects.select_related(
                "client", "program", "receiver_organization", "sender_organization"
            ).get(pk=obj.pk)
        elif isinstance(obj, Client):
            obj = Client.objects.get(pk=obj.pk)
        elif isinstance(obj, Release):
            obj = Release.objects.get(pk=obj.pk)
        elif isinstance(obj, Assessment):
            obj = Assessment.objects.select_related("instrument").get(pk=obj.pk)
        elif isinstance(obj, ReportedProcedure):
            obj = ReportedProcedure.objects.select_related(
                "referral__client", "referral__receiver_organization"
            ).get(pk=obj.pk)
        out.append(Written(item.kind, obj, item.status, item.warnings))
    return out
