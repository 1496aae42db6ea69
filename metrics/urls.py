from django.urls import path

from . import views
from .outcomes import views as outcome_views

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
    # A partnership's outcome measures and the results its organizations report.
    path(
        "measures/partnerships/<int:partnership_id>/outcomes/",
        outcome_views.outcomes,
        name="metrics_outcomes",
    ),
    path(
        "measures/partnerships/<int:partnership_id>/outcomes/define/",
        outcome_views.outcome_define,
        name="metrics_outcome_define",
    ),
    path(
        "measures/partnerships/<int:partnership_id>/outcomes/edit/",
        outcome_views.outcome_edit,
        name="metrics_outcome_edit",
    ),
    path(
        "measures/partnerships/<int:partnership_id>/outcomes/active/",
        outcome_views.outcome_set_active,
        name="metrics_outcome_set_active",
    ),
    path(
        "measures/partnerships/<int:partnership_id>/outcomes/record/",
        outcome_views.outcome_record,
        name="metrics_outcome_record",
    ),
    path(
        "measures/partnerships/<int:partnership_id>/outcomes/upload/",
        outcome_views.outcome_upload,
        name="metrics_outcome_upload",
    ),
    path(
        "measures/partnerships/<int:partnership_id>/outcomes/entered-in-error/",
        outcome_views.outcome_entered_in_error,
        name="metrics_outcome_entered_in_error",
    ),
]
