from django.urls import path

from . import views

urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("directory/programs/new/", views.program_create_view, name="program_create"),
    path("directory/programs/<int:program_id>/", views.program_detail, name="program_detail"),
    path("directory/programs/<int:program_id>/edit/", views.program_edit, name="program_edit"),
    path(
        "directory/programs/<int:program_id>/close/",
        views.program_close_view,
        name="program_close",
    ),
    path("directory/import/", views.hsds_import, name="hsds_import"),
    path("directory/import/<int:import_id>/", views.hsds_import_status, name="hsds_import_status"),
    path("directory/export/", views.hsds_export, name="hsds_export"),
    path("partnerships/new/", views.partnership_create_view, name="partnership_create"),
    path("partnerships/<int:partnership_id>/", views.partnership_detail, name="partnership_detail"),
    path(
        "partnerships/<int:partnership_id>/edit/", views.partnership_edit, name="partnership_edit"
    ),
    path(
        "partnerships/<int:partnership_id>/agreements/new/",
        views.partnership_agreement_upload,
        name="partnership_agreement_upload",
    ),
    path(
        "partnerships/<int:partnership_id>/agreements/<int:document_id>/",
        views.partnership_agreement_file,
        name="partnership_agreement_file",
    ),
    path(
        "partnerships/<int:partnership_id>/agreements/<int:document_id>/delete/",
        views.partnership_agreement_delete,
        name="partnership_agreement_delete",
    ),
    path(
        "partnerships/<int:partnership_id>/programs/",
        views.partnership_programs,
        name="partnership_programs",
    ),
]
