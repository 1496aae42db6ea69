"""Mounted at `fhir/r4/` before the FHIR facade's own routes (interop/urls.py): these
answer the Subscription resource; everything else falls through to interop/fhir."""

from django.urls import path

from . import views

urlpatterns = [
    path("Subscription", views.SubscriptionCollection.as_view(), name="fhir-subscription-list"),
    path(
        "Subscription/<str:subscription_id>/$status",
        views.SubscriptionStatus.as_view(),
        name="fhir-subscription-status",
    ),
    path(
        "Subscription/<str:subscription_id>",
        views.SubscriptionInstance.as_view(),
        name="fhir-subscription-detail",
    ),
]
