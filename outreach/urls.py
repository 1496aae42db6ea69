from django.urls import path

from . import views

urlpatterns = [
    path(
        "clients/<int:client_id>/contact/",
        views.contact_preferences,
        name="outreach_contact",
    ),
    path(
        "clients/<int:client_id>/messages/",
        views.delivery_log,
        name="outreach_delivery_log",
    ),
    path("outreach/templates/", views.message_templates, name="outreach_templates"),
    # Public (the provider posts here), verified by the provider's signature.
    path("outreach/sms/inbound/", views.sms_inbound, name="outreach_sms_inbound"),
]
