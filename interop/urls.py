from django.urls import include, path

urlpatterns = [
    path("fhir/r4/", include("interop.subscriptions.urls")),
    path("fhir/r4/", include("interop.fhir.urls")),
    path("", include("interop.webhooks.urls")),
]
