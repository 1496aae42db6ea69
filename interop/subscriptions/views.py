"""`/fhir/r4/Subscription`: create (POST), search (GET), read, delete and `$status`, for
the caller's own organization (an API key's, or a signed-in person's). Reading is every
role's; creating and deleting are an org admin's, as for webhooks. Errors are
OperationOutcomes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from apikeys.idempotency import IdempotentPostMixin
from apikeys.permissions import HasCapability
from interop.fhir.errors import FhirError, Issue, not_found, operation_outcome
from interop.fhir.validation import parse_json
from organizations.roles import Capability

from . import topic
from .models import Subscription
from .notifications import fhir_base, status_bundle
from .resources import endpoint_refused, read_subscription, subscription_resource
from .services import subscription_create, subscription_delete

ISSUE_CODES = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "processing",
    429: "throttled",
}


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


# A subscription sends the organization's referral events to an endpoint outside Linkage,
# as a webhook does: setting one up, changing or ending it is an org admin's, like webhooks
# (interop/webhooks/views.py); reading them is everyone's.
WRITE_CAPABILITY = Capability.MANAGE_MEMBERS
READ_CAPABILITY = Capability.VIEW_CLIENTS
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FhirView(APIView):
    """Authentication, permission and throttling as on /api/v1/; answers in FHIR JSON."""

    permission_classes = [HasCapability]
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    parser_classes: list = []  # the body is read as FHIR JSON by the view itself
    schema = None  # not part of the REST API's OpenAPI schema (FHIR has its own)

    def capability_for(self, request) -> Capability:
        """What the request's method needs (as the FHIR facade's views declare it)."""
        return WRITE_CAPABILITY if request.method in WRITE_METHODS else READ_CAPABILITY

    @property
    def required_capability(self) -> Capability:
        # HasCapability reads this per request: one answer per method.
        return self.capability_for(self.request)

    def handle_exception(self, exc):
        if isinstance(exc, FhirError):
            set_rollback()
            return Response(exc.outcome(), status=exc.status)
        response = super().handle_exception(exc)
        error = response.data.get("error", {}) if isinstance(response.data, dict) else {}
        message = error.get("message") or str(response.data)
        code = ISSUE_CODES.get(response.status_code, "processing")
        response.data = operation_outcome([Issue(message, code)])
        return response

    def subscription(self, subscription_id: str) -> Subscription:
        found = None
        # ASCII digits: str.isdigit also takes "²", which int() refuses.
        if subscription_id.isascii() and subscription_id.isdigit() and len(subscription_id) < 19:
            found = (
                Subscription.objects.visible_to(self.request.organization)
                .filter(pk=int(subscription_id))
                .first()
            )
        if found is None:
            raise not_found("Subscription", subscription_id)
        return found


def _fhir_body(request):
    kind = request.content_type.split(";", 1)[0].strip()
    if kind not in {"application/fhir+json", "application/json"}:
        raise FhirError(
            415, [Issue("Send the resource as application/fhir+json.", "not-supported")]
        )
    return parse_json(request.body)


# How the FHIR facade's CapabilityStatement lists this resource (interop/fhir/registry.py
# reads `fhir_capability` off the views mounted under /fhir/r4/).
CAPABILITY = {
    "type": "Subscription",
    "supportedProfile": [topic.SUBSCRIPTION_PROFILE],
    "documentation": (
        "Subscriptions R5 backport on R4: the SDOH Clinical Care IG's Task topic "
        f"({topic.TOPIC_URL}), rest-hook channel, application/fhir+json, id-only or empty "
        "content; filters Task?owner= / Task?requester= (the caller's own organization) and "
        "status=. Active at once (no handshake). Subscriptions cannot be updated. Creating "
        "or deleting one takes an org admin's key, as webhooks do."
    ),
    "interaction": [
        {"code": "create"},
        {"code": "read"},
        {"code": "delete"},
        {"code": "search-type"},
    ],
    "operation": [
        {
            "name": "status",
            "definition": "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/"
            "backport-subscription-status",
        }
    ],
}


class SubscriptionCollection(IdempotentPostMixin, FhirView):
    fhir_capability = CAPABILITY

    def get(self, request):
        """The organization's subscriptions (a searchset Bundle)."""
        found = list(Subscription.objects.visible_to(request.organization).order_by("pk")[:200])
        return Response(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(found),
                "link": [{"relation": "self", "url": f"{fhir_base()}/Subscription"}],
                "entry": [
                    {
                        "fullUrl": f"{fhir_base()}/Subscription/{s.pk}",
                        "resource": subscription_resource(s),
                        "search": {"mode": "match"},
                    }
                    for s in found
                ],
            }
        )

    def post(self, request):
        """Subscribe to the Task topic (rest-hook, id-only or empty). The new subscription
        is active at once; no handshake is sent."""
        data = read_subscription(_fhir_body(request), organization_id=request.organization.pk)
        try:
            subscription = subscription_create(
                organization=request.organization, actor=request.user, data=data
            )
        except ValidationError as error:
            raise endpoint_refused(error) from None
        response = Response(subscription_resource(subscription), status=status.HTTP_201_CREATED)
        response["Location"] = f"{fhir_base()}/Subscription/{subscription.pk}"
        return response


class SubscriptionInstance(FhirView):
    fhir_capability = CAPABILITY

    def get(self, request, subscription_id: str):
        return Response(subscription_resource(self.subscription(subscription_id)))

    def delete(self, request, subscription_id: str):
        """End the subscription (no more notifications)."""
        with transaction.atomic():
            subscription_delete(subscription=self.subscription(subscription_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionStatus(FhirView):
    def get(self, request, subscription_id: str):
        """`$status`: the subscription's status and event count (a searchset Bundle with
        the backport's SubscriptionStatus Parameters)."""
        return Response(status_bundle(self.subscription(subscription_id)))
