"""Consent by link: staff make a link (from the client), the client signs it (public)."""

from django.urls import path

from . import link_views

urlpatterns = [
    path(
        "clients/<int:client_id>/release-links/new/",
        link_views.release_link_new,
        name="release_link_new",
    ),
    path(
        "release-links/<int:link_id>/", link_views.release_link_detail, name="release_link_detail"
    ),
    # Public (no account). The words first: a token is never one of them (43 characters).
    path("c/sign/", link_views.release_link_sign, name="release_link_sign"),
    path("c/signed/", link_views.release_link_done, name="release_link_done"),
    path("c/<str:token>/", link_views.release_link_open, name="release_link_open"),
]
