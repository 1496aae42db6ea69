from django.urls import path

from . import release_views, views

urlpatterns = [
    path("clients/", views.client_search, name="client_search"),
    path("clients/new/", views.client_create, name="client_create"),
    path(
        "clients/new/from-search/",
        views.client_create_from_search,
        name="client_create_from_search",
    ),
    path("clients/duplicates/", views.possible_duplicates, name="possible_duplicates"),
    path(
        "clients/duplicates/<int:duplicate_id>/dismiss/",
        views.possible_duplicate_dismiss,
        name="possible_duplicate_dismiss",
    ),
    path(
        "clients/duplicates/<int:duplicate_id>/merge/",
        views.possible_duplicate_merge,
        name="possible_duplicate_merge",
    ),
    path("clients/<int:client_id>/", views.client_profile, name="client_profile"),
    path("clients/<int:client_id>/edit/", views.client_edit, name="client_edit"),
    path(
        "clients/<int:client_id>/releases/new/",
        release_views.release_create,
        name="release_create",
    ),
    path(
        "clients/<int:client_id>/lead-navigator/",
        views.client_lead_navigator,
        name="client_lead_navigator",
    ),
    path(
        "clients/<int:client_id>/identifiers/",
        views.client_identifier_add,
        name="client_identifier_add",
    ),
    path(
        "clients/<int:client_id>/disclosures/",
        views.client_disclosures,
        name="client_disclosures",
    ),
]
