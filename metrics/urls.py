from django.urls import path

from . import views

urlpatterns = [
    path("measures/", views.dashboard, name="metrics_dashboard"),
    path("measures/export.csv", views.export_csv, name="metrics_export"),
    path("measures/stalled/", views.stalled, name="metrics_stalled"),
    path("measures/refresh/", views.refresh, name="metrics_refresh"),
    path("measures/refresh/status/", views.refresh_status, name="metrics_refresh_status"),
    path(
        "measures/partnerships/<int:partnership_id>/review/",
        views.partnership_review,
        name="metrics_partnership_review",
    ),
    path(
        "measures/partnerships/<int:partnership_id>/targets/",
        views.partnership_target,
        name="metrics_partnership_target",
    ),
]
