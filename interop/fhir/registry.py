"""The resources the FHIR interface serves: for each, its interactions, its search
parameters and the functions behind them. The URL patterns (urls.py) and the
CapabilityStatement (`capability_statement`) are both generated from this one table, so
what `GET metadata` says is exactly what the server does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.db.models import Q, QuerySet
from django.utils import timezone

from assessments.fhir import questionnaire_response
from assessments.models import Assessment
from audit.models import AuditEvent
from audit.services import audit_read
from clients.models import Client
from consent import policy
from consent.categories import Category
from consent.models import Release
from directory.models import Program
from organizations.models import Organization
from organizations.roles import Capability
from referrals.models import Referral
from referrals.selectors import with_open_referrals
from referrals.workflow import Status

from . import codes, render
from .errors import not_found
from .models import ID_PREFIX as REPORTED_PREFIX
from .models import ReportedProcedure
from .references import Caller
from .search import (
    Include,
    Param,
    SearchSpec,
    bad_search,
    date_param,
    id_param,
    ids_of,
    reference_param,
    token_param,
    values_of,
)
from .transaction import Written

SOFTWARE = "Linkage"
FHIR_VERSION = "4.0.1"


@dataclass(frozen=True)
class ResourceType:
    name: str
    documentation: str
    id_route: str  # the id part of the instance URL: "<int:referral_id>"
    read: Callable[[Caller, int], dict] | None = None
    read_capability: Capability = Capability.VIEW_CLIENTS
    search: SearchSpec | None = None
    create_capability: Capability | None = None  # None: no create
    update_capability: Capability | None = None  # None: no update
    update_scope: Callable[[Caller], QuerySet] | None = None
    profile: str | None = None

    @property
    def id_kwarg(self) -> str:
        return self.id_route.split(":", 1)[1].rstrip(">")

    def interactions(self) -> list[str]:
        out = []
        if self.read:
            out.append("read")
        if self.update_capability:
            out.append("update")
        if self.search:
            out.append("search-type")
        if self.create_capability:
            out.append("create")
        return out


# --- referrals: Task, ServiceRequest, Procedure ---------------------------------------------


def _referrals(caller: Caller) -> QuerySet[Referral]:
    return (
        Referral.objects.visible_to(caller.organization)
        .select_related("client", "program", "receiver_organization", "sender_organization")
        .prefetch_related("needs")
    )


def _sights(referrals: list[Referral], caller: Caller) -> dict[int, render.Sight]:
    """The consent policy's answer per referral, for a whole page in a fixed number of
    queries (one per category, whatever the page's length)."""
    key = ("sights", tuple(r.pk for r in referrals))
    if key not in caller.memo:  # asked for the audit, asked again to render
        caller.memo[key] = policy.referral_sights(caller.organization, referrals)
    return caller.memo[key]


def _audit_referrals(referrals: list[Referral], caller: Caller, *, action=AuditEvent.Action.LIST):
    if not referrals:
        return
    sights = _sights(referrals, caller)
    shown = sorted({c for s in sights.values() for c in s.categories})
    audit_read(
        caller.request, object_type="referral", objects=referrals, categories=shown, action=action
    )


def _one_referral(caller: Caller, pk: int, kind: str) -> tuple[Referral, render.Sight]:
    referral = _referrals(caller).filter(pk=pk).first()
    if referral is None:
        raise not_found(kind, pk)
    sight = _sights([referral], caller)[referral.pk]
    return referral, sight


def read_task(caller: Caller, pk: int) -> dict:
    referral, sight = _one_referral(caller, pk, "Task")
    audit_read(
        caller.request, object_type="referral", objects=[referral], categories=sight.categories
    )
    return render.task_resource(referral, viewer=caller.organization, sight=sight)


def read_service_request(caller: Caller, pk: int) -> dict:
    referral, sight = _one_referral(caller, pk, "ServiceRequest")
    audit_read(
        caller.request, object_type="referral", objects=[referral], categories=sight.categories
    )
    return render.service_request_resource(referral, viewer=caller.organization, sight=sight)


def read_procedure(caller: Caller, procedure_id: str) -> dict:
    """`Procedure/<referral id>`: a completed referral's resulting activity;
    `Procedure/reported-<id>`: one its receiver POSTed (procedures.py)."""
    if procedure_id.startswith(REPORTED_PREFIX):
        return _read_reported_procedure(caller, procedure_id)
    if not procedure_id.isdigit():
        raise not_found("Procedure", procedure_id)
    pk = int(procedure_id)
    referral, sight = _one_referral(caller, pk, "Procedure")
    # The resulting activity is what the receiver recorded: shown to the receiver, and to
    # those who see referral details.
    if referral.status != Status.COMPLETED or not sight.receiver_record:
        raise not_found("Procedure", pk)
    audit_read(
        caller.request, object_type="referral", objects=[referral], categories=sight.categories
    )
    return render.procedure_resource(referral, sight=sight)


def _read_reported_procedure(caller: Caller, procedure_id: str) -> dict:
    raw = procedure_id.removeprefix(REPORTED_PREFIX)
    reported = (
        ReportedProcedure.objects.visible_to(caller.organization)
        .select_related("referral__client", "referral__receiver_organization")
        .filter(pk=int(raw) if raw.isdigit() else None)
        .first()
    )
    if reported is None:
        raise not_found("Procedure", procedure_id)
    referral = reported.referral
    # As the resulting activity (read_procedure): what the receiver recorded.
    sight = _sights([referral], caller)[referral.pk]
    if not sight.receiver_record:
        raise not_found("Procedure", procedure_id)
    audit_read(
        caller.request, object_type="referral", objects=[referral], categories=sight.categories
    )
    return render.reported_procedure_resource(reported, sight=sight)


def _render_tasks(rows, caller):
    sights = _sights(rows, caller)
    return [render.task_resource(r, viewer=caller.organization, sight=sights[r.pk]) for r in rows]


def _render_requests(rows, caller):
    sights = _sights(rows, caller)
    return [
        render.service_request_resource(r, viewer=caller.organization, sight=sights[r.pk])
        for r in rows
    ]


def _part_of(qs, raw, caller):
    if not hasattr(Referral, "part_of"):
        return qs.none()
    return qs.filter(part_of_id__in=ids_of(raw, kind="Task", name="part-of"))


def _code_fulfill(qs, raw, caller):
    for value in values_of(raw):
        if value.rpartition("|")[2] != "fulfill":
            raise bad_search(
                "code: Linkage's Tasks are referral Tasks (task-code fulfill).", "code"
            )
    return qs


_STATUSES = frozenset(Status.values)

TASK_SEARCH = SearchSpec(
    queryset=_referrals,
    params=(
        id_param(),
        date_param(
            "_lastUpdated", "updated_at", "When the Task last changed (eq, ne, gt, ge, lt, le)."
        ),
        token_param("status", "status", _STATUSES, "Task.status (referral Task statuses)."),
        reference_param(
            "owner", "Organization", "receiver_organization_id", "The receiving organization."
        ),
        reference_param(
            "requester", "Organization", "sender_organization_id", "The referring organization."
        ),
        reference_param("patient", "Patient", "client_id", "The patient (Task.for)."),
        reference_param("subject", "Patient", "client_id", "The patient (Task.for)."),
        reference_param("focus", "ServiceRequest", "pk", "The ServiceRequest the Task fulfils."),
        Param(
            "part-of",
            "reference",
            "The Task a routed Task fulfils (Task.partOf).",
            _part_of,
            target="Task",
        ),
        Param("code", "token", "Task.code: fulfill.", _code_fulfill),
    ),
    render=_render_tasks,
    audit=_audit_referrals,
    includes=(
        Include(
            "Task:focus",
            "The ServiceRequest each Task fulfils.",
            lambda rows, caller: _render_requests(rows, caller),
        ),
    ),
)


_SR_STATUSES = {
    "draft": [Status.DRAFT],
    "active": [Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS],
    "on-hold": [Status.ON_HOLD],
    "completed": [Status.COMPLETED],
    "revoked": [Status.REJECTED, Status.CANCELLED, Status.FAILED],
    "entered-in-error": [Status.ENTERED_IN_ERROR],
}


def _sr_status(qs, raw, caller):
    wanted = []
    for value in values_of(raw):
        if value not in _SR_STATUSES:
            raise bad_search(f"status: {value!r}; one of {', '.join(_SR_STATUSES)}.", "status")
        wanted += _SR_STATUSES[value]
    return qs.filter(status__in=wanted)


def _sr_intent(qs, raw, caller):
    intents = set(values_of(raw))
    if intents - {"order", "filler-order"}:
        raise bad_search("intent: order or filler-order.", "intent")
    if not hasattr(Referral, "part_of") or intents == {"order", "filler-order"}:
        return qs if "order" in intents else qs.none()
    return qs.filter(part_of__isnull=intents == {"order"})


def _sr_category(qs, raw, caller):
    known = codes.sdoh_categories()
    wanted = []
    for value in values_of(raw):
        code = value.rpartition("|")[2]
        if code not in known:
            raise bad_search(f"category: {code!r} is not an SDOH category.", "category")
        wanted.append(code)
    return qs.filter(needs__code__in=wanted).distinct()


SERVICE_REQUEST_SEARCH = SearchSpec(
    queryset=_referrals,
    params=(
        id_param(),
        date_param("_lastUpdated", "updated_at", "When the referral last changed."),
        Param("status", "token", "ServiceRequest.status.", _sr_status),
        Param("intent", "token", "order, or filler-order (routed by the backbone).", _sr_intent),
        Param("category", "token", "An SDOH category (the need).", _sr_category),
        reference_param("patient", "Patient", "client_id", "The patient."),
        reference_param("subject", "Patient", "client_id", "The patient."),
        reference_param(
            "requester", "Organization", "sender_organization_id", "The referring organization."
        ),
        reference_param("performer", "HealthcareService", "program_id", "The program."),
    ),
    render=_render_requests,
    audit=_audit_referrals,
)


# --- Patient -------------------------------------------------------------------------------------


def read_patient(caller: Caller, pk: int) -> dict:
    """Any client the organization may see something of; demographics only when the
    consent policy lets it see them."""
    client = Client.objects.visible_to(caller.organization).filter(pk=pk).first()
    if client is None:
        raise not_found("Patient", pk)
    categories = policy.visible_categories(caller.organization, client)
    audit_read(
        caller.request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=sorted(c.value for c in categories),
    )
    identifiers = client.identifiers.all() if Category.DEMOGRAPHICS in categories else ()
    return render.patient_resource(client, categories=categories, identifiers=identifiers)


def _patient_identifier(qs, raw, caller):
    if caller.request.method != "POST":
        raise bad_search(
            "identifier: search by identifier with POST Patient/_search (form body), so that "
            "identifiers never travel in URLs.",
            "identifier",
        )
    for value in values_of(raw):
        system, bar, code = value.rpartition("|")
        matches = {"identifiers__value": code if bar else value}
        if bar and system:
            matches["identifiers__system"] = system
        qs = qs.filter(**matches)
    return qs.distinct()


def _render_patients(rows, caller):
    return [
        render.patient_resource(
            c, categories={Category.DEMOGRAPHICS}, identifiers=c.identifiers.all()
        )
        for c in rows
    ]


def _audit_patients(rows, caller):
    audit_read(
        caller.request,
        object_type="client",
        objects=rows,
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS],
        action=AuditEvent.Action.SEARCH,
    )


PATIENT_SEARCH = SearchSpec(
    # Searches show names, so only clients whose demographics the caller may see appear.
    queryset=lambda caller: (
        Client.objects.visible_to(caller.organization, Category.DEMOGRAPHICS)
        .current()
        .prefetch_related("identifiers")
    ),
    params=(
        id_param(),
        Param(
            "identifier",
            "token",
            "An identifier (system|value, or value). POST Patient/_search only.",
            _patient_identifier,
        ),
    ),
    render=_render_patients,
    audit=_audit_patients,
    sensitive=True,
    max_count=50,
)


# --- Consent, QuestionnaireResponse ------------------------------------------------------------


def _releases(caller: Caller) -> QuerySet[Release]:
    return Release.objects.visible_to(caller.organization).prefetch_related("recipients")


def read_consent(caller: Caller, pk: int) -> dict:
    release = _releases(caller).filter(pk=pk).first()
    if release is None:
        raise not_found("Consent", pk)
    audit_read(caller.request, object_type="release", objects=[release])
    return render.consent_resource(release)


CONSENT_SEARCH = SearchSpec(
    queryset=_releases,
    params=(
        id_param(),
        reference_param("patient", "Patient", "client_id", "The patient whose release it is."),
    ),
    render=lambda rows, caller: [render.consent_resource(r) for r in rows],
    audit=lambda rows, caller: audit_read(
        caller.request, object_type="release", objects=rows, action=AuditEvent.Action.LIST
    ),
)


def read_questionnaire_response(caller: Caller, pk: int) -> dict:
    org = caller.organization
    assessment = (
        Assessment.objects.visible_to(org)
        .select_related("instrument", "client")
        .prefetch_related("answers")
        .filter(pk=pk)
        .first()
    )
    # Another organization's screening: only with a release covering social needs.
    if assessment is None or not policy.may_see_assessment(org, assessment):
        raise not_found("QuestionnaireResponse", f"assessment-{pk}")
    audit_read(
        caller.request,
        object_type="assessment",
        objects=[assessment],
        categories=[Category.SOCIAL_NEEDS],
    )
    return questionnaire_response(assessment)


# --- the directory -----------------------------------------------------------------------------


def read_organization(caller: Caller, pk: int) -> dict:
    organization = Organization.objects.visible_to(caller.organization).filter(pk=pk).first()
    if organization is None:
        raise not_found("Organization", pk)
    return render.organization_resource(organization)


def _name_contains(field_name: str):
    def apply(qs, raw, caller):
        for value in raw:
            qs = qs.filter(**{f"{field_name}__icontains": value.strip()})
        return qs

    return apply


ORGANIZATION_SEARCH = SearchSpec(
    queryset=lambda caller: Organization.objects.visible_to(caller.organization),
    params=(
        id_param(),
        Param("name", "string", "Part of the organization's name.", _name_contains("name")),
        token_param(
            "type",
            "kind",
            frozenset(Organization.Kind.values),
            "The kind of organization (Linkage's organization-kind codes).",
        ),
    ),
    render=lambda rows, caller: [render.organization_resource(o) for o in rows],
)


def _programs(caller: Caller) -> QuerySet[Program]:
    return (
        with_open_referrals(Program.objects.visible_to(caller.organization))
        .select_related("organization")
        .prefetch_related("categories", "service_codes")
    )


def read_healthcare_service(caller: Caller, pk: int) -> dict:
    program = _programs(caller).filter(pk=pk).first()
    if program is None:
        raise not_found("HealthcareService", pk)
    return render.healthcare_service_resource(program)


def _program_type(qs, raw, caller):
    """HealthcareService.type holds both the SDOH categories and the service codes
    (SNOMED CT): a token names either (`system|code`, or a bare code)."""
    known = codes.sdoh_categories()
    categories, services, unknown = [], [], []
    for value in values_of(raw):
        system, _, code = value.rpartition("|")
        if system == codes.SNOMED or (not system and code.isdigit()):
            services.append(code)
        elif code in known:
            categories.append(code)
        else:
            unknown.append(value)
    if unknown:
        raise bad_search(
            f"type: {', '.join(unknown)} is neither an SDOH category nor a SNOMED CT service code.",
            "type",
        )
    return qs.filter(
        Q(categories__code__in=categories)
        | Q(service_codes__system=codes.SNOMED, service_codes__code__in=services)
    ).distinct()


HEALTHCARE_SERVICE_SEARCH = SearchSpec(
    queryset=_programs,
    params=(
        id_param(),
        reference_param("organization", "Organization", "organization_id", "The provider."),
        Param(
            "type",
            "token",
            "An SDOH category the program serves, or a service code (SNOMED CT) it delivers.",
            _program_type,
        ),
        Param("name", "string", "Part of the program's name.", _name_contains("name")),
    ),
    render=lambda rows, caller: [render.healthcare_service_resource(p) for p in rows],
)


# --- the table --------------------------------------------------------------------------------

RESOURCES: dict[str, ResourceType] = {
    r.name: r
    for r in [
        ResourceType(
            "Task",
            "A referral's workflow (SDOHCC Task For Referral Management). Create it with its "
            "ServiceRequest; its owner updates it (PUT) to move the referral.",
            "<int:referral_id>",
            read=read_task,
            search=TASK_SEARCH,
            create_capability=Capability.VIEW_CLIENTS,
            update_capability=Capability.VIEW_CLIENTS,
            update_scope=lambda caller: Referral.objects.visible_to(caller.organization),
            profile=codes.PROFILE["Task"],
        ),
        ResourceType(
            "ServiceRequest",
            "What a referral asks for: SDOH category, service, patient, program.",
            "<int:referral_id>",
            read=read_service_request,
            search=SERVICE_REQUEST_SEARCH,
            create_capability=Capability.VIEW_CLIENTS,
            profile=codes.PROFILE["ServiceRequest"],
        ),
        ResourceType(
            "Procedure",
            "What the receiver did for a referral (Task.output resulting-activity): "
            "Procedure/<referral id> once the referral is completed. The receiver may POST a "
            "Procedure basedOn the ServiceRequest first (it is given the id reported-<n>), "
            "then complete the Task with it as output.",
            "<str:procedure_id>",
            read=read_procedure,
            create_capability=Capability.VIEW_CLIENTS,
            profile=codes.PROFILE["Procedure"],
        ),
        ResourceType(
            "Patient",
            "A client record, as far as the consent policy lets the caller see it. Created "
            "(or matched) by POST; searched by identifier with POST Patient/_search.",
            "<int:client_id>",
            read=read_patient,
            search=PATIENT_SEARCH,
            create_capability=Capability.EDIT_CLIENTS,
            profile=codes.PROFILE["Patient"],
        ),
        ResourceType(
            "Consent",
            "A release of information (recipients: provision.actor IRCP; categories: "
            "provision.class; expiry: provision.period.end; revoke: status inactive).",
            "<int:release_id>",
            read=read_consent,
            search=CONSENT_SEARCH,
            create_capability=Capability.CAPTURE_RELEASES,
            update_capability=Capability.CAPTURE_RELEASES,
            update_scope=lambda caller: Release.objects.visible_to(caller.organization),
            profile=codes.PROFILE["Consent"],
        ),
        ResourceType(
            "QuestionnaireResponse",
            "A completed screening of one of Linkage's instruments, scored on create.",
            "assessment-<int:assessment_id>",
            read=read_questionnaire_response,
            create_capability=Capability.ADMINISTER_ASSESSMENTS,
            profile=codes.PROFILE["QuestionnaireResponse"],
        ),
        ResourceType(
            "Organization",
            "An organization of the network's directory.",
            "<int:organization_id>",
            read=read_organization,
            read_capability=Capability.VIEW_DIRECTORY,
            search=ORGANIZATION_SEARCH,
            profile=codes.PROFILE["Organization"],
        ),
        ResourceType(
            "HealthcareService",
            "A program of the network's directory, with its SDOH categories and capacity.",
            "<int:program_id>",
            read=read_healthcare_service,
            read_capability=Capability.VIEW_DIRECTORY,
            search=HEALTHCARE_SERVICE_SEARCH,
            profile=codes.PROFILE["HealthcareService"],
        ),
    ]
}


def render_written(item: Written, caller: Caller) -> dict:
    """The resource an entry wrote, as the caller now sees it (no audit: the caller sent
    it, or the service just wrote it on the caller's behalf)."""
    obj, org = item.obj, caller.organization
    if item.kind == "Task":
        return render.task_resource(obj, viewer=org)
    if item.kind == "ServiceRequest":
        return render.service_request_resource(obj, viewer=org)
    if item.kind == "Patient":
        categories = policy.visible_categories(org, obj)
        identifiers = obj.identifiers.all() if Category.DEMOGRAPHICS in categories else ()
        return render.patient_resource(obj, categories=categories, identifiers=identifiers)
    if item.kind == "Consent":
        return render.consent_resource(obj)
    if item.kind == "QuestionnaireResponse":
        return questionnaire_response(obj)
    if item.kind == "Procedure":
        sight = render.referral_sight(obj.referral, org)
        return render.reported_procedure_resource(obj, sight=sight)
    raise ValueError(item.kind)


def fhir_id(item: Written) -> str:
    if item.kind == "QuestionnaireResponse":
        return f"assessment-{item.obj.pk}"
    if item.kind == "Procedure":
        return item.obj.fhir_id
    return str(item.obj.pk)


_METHOD_INTERACTIONS = {
    "collection": {"get": "search-type", "post": "create"},
    "instance": {"get": "read", "put": "update", "patch": "patch", "delete": "delete"},
}


@cache
def mounted_elsewhere() -> tuple[dict, ...]:
    """CapabilityStatement entries for resources other parts of Linkage serve under the
    same base (interop.subscriptions: Subscription), read off their routes: a view class
    may describe itself (`fhir_capability`, a rest.resource entry); otherwise its
    interactions are its HTTP methods (collection GET/POST: search-type/create; instance
    GET/PUT/PATCH/DELETE: read/update/patch/delete)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, dict] = {}

    def walk(patterns, prefix):
        for entry in patterns:
            template = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if getattr(entry.urlconf_module, "__name__", "") == "interop.fhir.urls":
                    continue
                yield from walk(entry.url_patterns, template)
            elif isinstance(entry, URLPattern) and template.startswith("fhir/r4/"):
                yield template.removeprefix("fhir/r4/"), entry.callback

    for template, callback in walk(get_resolver().url_patterns, ""):
        parts = template.split("/")
        view = getattr(callback, "view_class", None)
        if view is None or not parts[0] or len(parts) > 2 or parts[0] in RESOURCES:
            continue
        kind = parts[0]
        entry = found.setdefault(kind, {"type": kind, "interaction": []})
        described = getattr(view, "fhir_capability", None)
        if described:
            entry.update(described)
            continue
        shape = "collection" if len(parts) == 1 else "instance"
        for method, interaction in _METHOD_INTERACTIONS[shape].items():
            if hasattr(view, method) and {"code": interaction} not in entry["interaction"]:
                entry["interaction"].append({"code": interaction})
    return tuple(found.values())


def capability_statement(base_url: str) -> dict:
    """What this server supports, from RESOURCES (the same table the views use) and the
    routes other parts mount under the same base (`mounted_elsewhere`)."""
    resources = []
    for r in RESOURCES.values():
        entry: dict = {"type": r.name, "documentation": r.documentation}
        if r.profile:
            entry["supportedProfile"] = [r.profile]
        entry["interaction"] = [{"code": code} for code in r.interactions()]
        if r.update_capability:
            entry["updateCreate"] = False
        if r.create_capability:
            entry["conditionalCreate"] = r.name == "Task"
        if r.search:
            entry["searchParam"] = [
                {"name": p.name, "type": p.type, "documentation": p.documentation}
                for p in r.search.params
            ]
            if r.search.includes:
                entry["searchInclude"] = [i.name for i in r.search.includes]
        resources.append(entry)
    resources += [dict(entry) for entry in mounted_elsewhere()]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.localdate().isoformat(),
        "publisher": SOFTWARE,
        "kind": "instance",
        "software": {"name": SOFTWARE},
        "implementation": {"description": "Linkage FHIR R4 interface", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "implementationGuide": [codes.IG_URL],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Referrals as ServiceRequest + Task after the HL7 SDOH Clinical Care IG. "
                    "Errors are OperationOutcomes. POST requests may carry Idempotency-Key."
                ),
                "security": {
                    "cors": False,
                    "description": "Authorization: Bearer <API key> (an organization's key, "
                    "acting with its role), or a signed-in browser session.",
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}],
            }
        ],
    }
