"""Public (no account): a network's self-referral page and its confirmation."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("help/<slug:network_slug>/", public_views.self_referral, name="self_referral"),
    path(
        "help/<slug:network_slug>/sent/",
        public_views.self_referral_sent,
        name="self_referral_sent",
    ),
]
