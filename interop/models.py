"""Interop's tables live in their sub-packages; Django finds them through this module."""

from .fhir.models import ReportedProcedure
from .subscriptions.models import Subscription
from .webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

__all__ = [
    "Delivery",
    "DeliveryAttempt",
    "ReportedProcedure",
    "Subscription",
    "WebhookEndpoint",
]
