"""Interop's tables live in their sub-packages; Django finds them through this module."""

from .subscriptions.models import Subscription
from .webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

__all__ = ["Delivery", "DeliveryAttempt", "Subscription", "WebhookEndpoint"]
