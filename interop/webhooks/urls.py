from django.urls import path

from . import views

urlpatterns = [
    path("integrations/webhooks/", views.webhook_list, name="webhook_list"),
    path("integrations/webhooks/new/", views.webhook_new, name="webhook_new"),
    path("integrations/webhooks/<int:endpoint_id>/", views.webhook_edit, name="webhook_edit"),
    path(
        "integrations/webhooks/<int:endpoint_id>/secret/",
        views.webhook_rotate_secret,
        name="webhook_rotate_secret",
    ),
    path(
        "integrations/webhooks/<int:endpoint_id>/disable/",
        views.webhook_set_enabled,
        {"action": "disable"},
        name="webhook_disable",
    ),
    path(
        "integrations/webhooks/<int:endpoint_id>/enable/",
        views.webhook_set_enabled,
        {"action": "enable"},
        name="webhook_enable",
    ),
    path(
        "integrations/webhooks/<int:endpoint_id>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path(
        "integrations/webhooks/<int:endpoint_id>/deliveries/",
        views.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path(
        "integrations/subscriptions/<int:subscription_id>/deliveries/",
        views.subscription_deliveries,
        name="webhook_subscription_deliveries",
    ),
    path(
        "integrations/subscriptions/<int:subscription_id>/delete/",
        views.subscription_delete,
        name="webhook_subscription_delete",
    ),
]
