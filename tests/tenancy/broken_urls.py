"""A URL configuration with deliberately broken views, to prove the harness catches them."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as real_patterns
from organizations.models import Partnership


def leaky_detail(request, partnership_id):
    # The bug the harness exists for: no scope to the active organization.
    return HttpResponse(Partnership.objects.get(pk=partnership_id).name)


def leaky_list(request):
    return HttpResponse(", ".join(Partnership.objects.values_list("name", flat=True)))


def unprobed(request, widget_id):
    return HttpResponse("nothing")


urlpatterns = [
    *real_patterns,
    path("broken/partnerships/<int:partnership_id>/", leaky_detail, name="broken_detail"),
    path("broken/partnerships/", leaky_list, name="broken_list"),
    path("broken/widgets/<int:widget_id>/", unprobed, name="broken_unprobed"),
]
