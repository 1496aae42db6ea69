from django.urls import path

from . import views

urlpatterns = [
    path("releases/<int:release_id>/", views.release_detail, name="release_detail"),
    path("releases/<int:release_id>/print/", views.release_print, name="release_print"),
    path(
        "releases/<int:release_id>/paper-form/",
        views.release_paper_form,
        name="release_paper_form",
    ),
    path("releases/<int:release_id>/revoke/", views.release_revoke, name="release_revoke"),
]
