"""The FHIR R4 endpoints (`/fhir/r4/`): thin views over the registry's readers and
searches and the transaction module's writes.

Authentication, throttling and roles are the REST API's (`Authorization: Bearer <API key>`
or a browser session; `API_THROTTLE_RATE` per key; the capability each interaction needs),
POSTs honour `Idempotency-Key`, responses are `application/fhir+json`, and every failure is
an OperationOutcome — a refused request writes nothing (the request's transaction is
rolled back).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from apikeys.authentication import BearerKeyAuthentication
from apikeys.idempotency import IdempotentPostMixin
from apikeys.throttling import ApiKeyRateThrottle
from assessments.models import Assessment
from clients.models import Client
from consent.models import Release
from organizations.roles import Capability
from referrals.models import Referral

from . import errors, registry, render, search, transaction
from .errors import FhirError, Issue, operation_outcome
from .models import ReportedProcedure
from .references import Caller
from .validation import parse_json

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/fhir+json"
JSON_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir"})
FORM_TYPE = "application/x-www-form-urlencoded"
BASE_PATH = "/fhir/r4/"


class FhirRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "json"
    charset = "utf-8"


class FhirNegotiation(BaseContentNegotiation):
    """JSON always (the server speaks application/fhir+json only); bodies are read by the
    views themselves, so that malformed JSON gets an OperationOutcome saying where."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FhirPermission(BasePermission):
    """Acting for an organization, with the capability the interaction needs."""

    def has_permission(self, request, view) -> bool:
        capability = view.capability_for(request)
        if view.public:
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        membership = getattr(request, "membership", None)
        if membership is None:
            self.message = "Act for an organization to use the FHIR interface."
            return False
        return capability is None or membership.has(capability)


_STATUS_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
}


def fhir_exception_handler(exc, context):
    """Every error as an OperationOutcome; the request's writes are rolled back unless the
    refusal says they must stay (FhirError.keep_writes)."""
    headers = {}
    if isinstance(exc, FhirError):
        if not exc.keep_writes:
            set_rollback()
        return Response(exc.outcome(), status=exc.status)
    set_rollback()
    if isinstance(exc, RequestDataTooBig):  # past DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(body_too_large().outcome(), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        error = errors.from_service_error(exc)
        return Response(error.outcome(), status=error.status)
    if isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail
        if isinstance(detail, dict):
            message = "; ".join(f"{k}: {_words(v)}" for k, v in detail.items())
        elif isinstance(detail, list):
            message = " ".join(map(str, detail))
        else:
            message = str(detail)
        code = _STATUS_CODES.get(exc.status_code, "processing")
        return Response(
            operation_outcome([Issue(message, code)]), status=exc.status_code, headers=headers
        )
    logger.exception("FHIR request failed")
    return Response(
        operation_outcome([Issue("The server failed to process the request.", "exception")]),
        status=500,
    )


def body_too_large() -> FhirError:
    megabytes = settings.FHIR_MAX_BODY_BYTES / (1024 * 1024)
    return FhirError(
        413,
        [
            Issue(
                f"The request body is larger than the {megabytes:g} MB this server reads.",
                "too-long",
            )
        ],
    )


def _words(value) -> str:
    return " ".join(map(str, value if isinstance(value, list) else [value]))


def _version(obj) -> tuple[str, Any]:
    if isinstance(obj, Release):
        moment = render.release_changed_at(obj)
    elif isinstance(obj, Referral | Client | Assessment):
        moment = obj.updated_at
    elif isinstance(obj, ReportedProcedure):
        moment = obj.created_at
    else:  # pragma: no cover
        return "", None
    return render.version_id(moment), moment


def preferred_return(request) -> str:
    """`Prefer: return=minimal | representation | OperationOutcome` (RFC 7240, as FHIR uses
    it); anything else, or nothing, is the FHIR default: the representation."""
    for token in request.headers.get("Prefer", "").split(";"):
        name, _, value = token.strip().partition("=")
        if name.strip().lower() == "return":
            value = value.strip().strip('"')
            if value in ("minimal", "representation", "OperationOutcome"):
                return value
    return "representation"


def written_response(
    request, resource: dict, status: int, *, obj, location: str = "", warnings=()
) -> Response:
    """The answer to a create or an update, as the client preferred: the resource (default),
    no body (`return=minimal`), or an OperationOutcome (`return=OperationOutcome`) holding the
    warnings — what Linkage assumed for the client — or a line saying it was done."""
    prefer = preferred_return(request)
    response = fhir_response(resource, status, obj=obj, location=location)
    if prefer == "minimal":
        response.data = None
    elif prefer == "OperationOutcome":
        done = "Created" if status == 201 else "Updated"
        issues = list(warnings) or [
            Issue(
                f"{done} {resource['resourceType']}/{resource.get('id')}.",
                "informational",
                severity="information",
            )
        ]
        response.data = operation_outcome(issues)
    response["Preference-Applied"] = f"return={prefer}"
    return response


def fhir_response(resource: dict, status: int = 200, *, obj=None, location: str = "") -> Response:
    response = Response(resource, status=status)
    if obj is not None:
        version, moment = _version(obj)
        if version:
            response["ETag"] = f'W/"{version}"'
            response["Last-Modified"] = http_date(moment.timestamp())
    if location:
        response["Location"] = location
    return response


class FhirView(IdempotentPostMixin, APIView):
    """The common frame of the FHIR endpoints (not in the OpenAPI schema: FHIR has its own
    CapabilityStatement at `metadata`)."""

    schema = None
    authentication_classes = [BearerKeyAuthentication, SessionAuthentication]
    permission_classes = [FhirPermission]
    throttle_classes = [ApiKeyRateThrottle]
    renderer_classes = [FhirRenderer]
    content_negotiation_class = FhirNegotiation
    resource: registry.ResourceType | None = None
    public = False

    def capability_for(self, request) -> Capability | None:
        return Capability.VIEW_CLIENTS

    def get_exception_handler(self):
        return fhir_exception_handler

    def initial(self, request, *args, **kwargs):
        # Before anything reads the body (the Idempotency-Key check hashes it).
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.FHIR_MAX_BODY_BYTES:
            raise body_too_large()
        super().initial(request, *args, **kwargs)

    def caller(self) -> Caller:
        request = self.request
        return Caller(
            request=request,
            organization=request.organization,
            user=request.user,
            membership=request.membership,
            base_url=request.build_absolute_uri(BASE_PATH),
        )

    def body(self) -> Any:
        content_type = (self.request.content_type or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise FhirError(
                415,
                [
                    Issue(
                        f"Content-Type {content_type or 'missing'}: send {MEDIA_TYPE}.",
                        "not-supported",
                    )
                ],
            )
        return parse_json(self.request.body)


class MetadataView(FhirView):
    """GET metadata: the CapabilityStatement (open to everyone, as FHIR clients expect)."""

    public = True

    def capability_for(self, request):
        return None

    def get(self, request):
        return fhir_response(registry.capability_statement(request.build_absolute_uri(BASE_PATH)))


class TransactionView(FhirView):
    """POST [base]: a transaction Bundle, all or nothing."""

    def post(self, request):
        caller = self.caller()
        items = transaction.rows_for(transaction.bundle(caller=caller, body=self.body()))
        entries = []
        for item in items:
            resource = registry.render_written(item, caller)
            version, moment = _version(item.obj)
            location = f"{item.kind}/{registry.fhir_id(item)}"
            answer = {
                "status": "201 Created" if item.status == 201 else "200 OK",
                "location": f"{location}/_history/{version}",
                "etag": f'W/"{version}"',
                "lastModified": render.instant(moment),
            }
            if item.warnings:
                answer["outcome"] = operation_outcome(item.warnings)
            entries.append(
                {
                    "fullUrl": f"{caller.base_url}{location}",
                    "resource": resource,
                    "response": answer,
                }
            )
        return fhir_response(
            {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
        )


class TypeView(FhirView):
    """GET [base]/<type>: search; POST [base]/<type>: create."""

    def capability_for(self, request):
        if request.method == "POST" and self.resource.create_capability:
            return self.resource.create_capability
        return self.resource.read_capability

    def get(self, request):
        return self._search(
            request, {k: request.query_params.getlist(k) for k in request.query_params}
        )

    def _search(self, request, params):
        spec = self.resource.search
        if spec is None:
            raise exceptions.MethodNotAllowed(request.method)
        bundle = search.run(kind=self.resource.name, spec=spec, params=params, caller=self.caller())
        return fhir_response(bundle)

    def post(self, request):
        if not self.resource.create_capability:
            raise exceptions.MethodNotAllowed(request.method)
        caller = self.caller()
        written = transaction.single(
            caller=caller, kind=self.resource.name, body=self.body(), method="POST"
        )
        item = transaction.rows_for([written])[0]
        location = f"{caller.base_url}{item.kind}/{registry.fhir_id(item)}"
        return written_response(
            request,
            registry.render_written(item, caller),
            item.status,
            obj=item.obj,
            location=location,
            warnings=item.warnings,
        )


class SearchView(TypeView):
    """POST [base]/<type>/_search: search with the terms in a form body (never in URLs)."""

    def capability_for(self, request):
        return self.resource.read_capability

    def post(self, request):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type != FORM_TYPE:
            raise FhirError(
                415, [Issue(f"_search takes a form body ({FORM_TYPE}).", "not-supported")]
            )
        form = request._request.POST
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        for key in form:
            params.setdefault(key, []).extend(form.getlist(key))
        return self._search(request, params)


class InstanceView(FhirView):
    """GET [base]/<type>/<id>: read; PUT: update."""

    def capability_for(self, request):
        if request.method == "PUT" and self.resource.update_capability:
            return self.resource.update_capability
        return self.resource.read_capability

    def get(self, request, **kwargs):
        pk = kwargs[self.resource.id_kwarg]
        resource = self.resource.read(self.caller(), pk)
        response = fhir_response(resource)
        meta = resource.get("meta") or {}
        if meta.get("versionId"):
            response["ETag"] = f'W/"{meta["versionId"]}"'
        if meta.get("lastUpdated"):
            moment = parse_datetime(meta["lastUpdated"])
            response["Last-Modified"] = http_date(moment.timestamp())
        return response

    def put(self, request, **kwargs):
        resource_type = self.resource
        if not resource_type.update_capability:
            raise exceptions.MethodNotAllowed(request.method)
        caller = self.caller()
        pk = kwargs[resource_type.id_kwarg]
        row = resource_type.update_scope(caller).filter(pk=pk).first()
        if row is None:
            raise errors.not_found(resource_type.name, pk)
        written = transaction.single(
            caller=caller,
            kind=resource_type.name,
            body=self.body(),
            method="PUT",
            target=row,
            if_match=request.headers.get("If-Match"),
        )
        item = transaction.rows_for([written])[0]
        return written_response(
            request,
            registry.render_written(item, caller),
            200,
            obj=item.obj,
            warnings=item.warnings,
        )


@csrf_exempt
def unknown(request, *args, **kwargs):
    """Anything else under /fhir/r4/: 404 as an OperationOutcome (nothing is looked up)."""
    import json

    body = operation_outcome(
        [Issue("No such resource type or interaction on this server (see metadata).", "not-found")]
    )
    return HttpResponse(json.dumps(body), status=404, content_type=f"{MEDIA_TYPE}; charset=utf-8")
