from django.urls import path

from . import pathway_views as views

urlpatterns = [
    path("pathways/", views.pathway_list, name="pathway_list"),
    # `?referral=<id>`: the referral the pathway opens from (no client data in the URL).
    path("pathways/open/", views.pathway_open, name="pathway_open"),
    path(
        "pathways/<int:pathway_instance_id>/close/",
        views.pathway_close,
        name="pathway_close",
    ),
]
