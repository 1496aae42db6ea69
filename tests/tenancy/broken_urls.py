"""A URL configuration with deliberately broken views, to prove the harness catches them."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as real_patterns
from organizations.models import Partnership
from organizations.roles import Capability


def leaky_detail(request, partnership_id):
    # The bug the harness exists for: no scope to the active organization.
    return HttpResponse(Partnership.objects.get(pk=partnership_id).name)


def leaky_list(request):
    return HttpResponse(", ".join(Partnership.objects.values_list("name", flat=True)))


def leaky_referral_list(request):
    # Listed first: the victim's referrals must exist before the walk reaches any route.
    from referrals.models import Referral

    return HttpResponse(", ".join(Referral.objects.values_list("reason", flat=True)))


def leaky_key_list(request):
    # Declares the org admin's capability (as member_required would) but never checks it.
    from apikeys.models import ApiKey

    return HttpResponse(", ".join(ApiKey.objects.values_list("name", flat=True)))


leaky_key_list.required_capability = Capability.MANAGE_MEMBERS


def unprobed(request, widget_id):
    return HttpResponse("nothing")


urlpatterns = [
    path("broken/referrals/", leaky_referral_list, name="broken_referral_list"),
    *real_patterns,
    path("broken/partnerships/<int:partnership_id>/", leaky_detail, name="broken_detail"),
    path("broken/partnerships/", leaky_list, name="broken_list"),
    path("broken/keys/", leaky_key_list, name="broken_key_list"),
    path("broken/widgets/<int:widget_id>/", unprobed, name="broken_unprobed"),
]
