from django.urls import path

from . import views

urlpatterns = [
    path(
        "clients/<int:client_id>/assessments/new/",
        views.assessment_start,
        name="assessment_start",
    ),
    path(
        "clients/<int:client_id>/assessments/",
        views.assessment_history,
        name="assessment_history",
    ),
    path(
        "assessments/<int:assessment_id>/step/<int:step>/",
        views.assessment_step,
        name="assessment_step",
    ),
    path("assessments/<int:assessment_id>/", views.assessment_result, name="assessment_result"),
    path("assessments/<int:assessment_id>/fhir/", views.assessment_fhir, name="assessment_fhir"),
]
