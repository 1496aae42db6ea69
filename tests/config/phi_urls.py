"""A view that fails while holding client data, to prove error reports leak none of it."""

from django.urls import path

from clients.models import Client
from config.urls import urlpatterns as real_patterns


def failing_view(request):
    client = Client.objects.get(pk=request.POST["client"])
    secret_name = client.family_name  # noqa: F841 (a local the report must not show)
    raise RuntimeError("boom")


urlpatterns = [*real_patterns, path("fail/", failing_view)]
