from django.urls import path

from . import views

urlpatterns = [
    path("statements/", views.statement_list, name="payment_statements"),
    path("statements/generate/", views.statement_generate, name="payment_statement_generate"),
    path("statements/<int:statement_id>/", views.statement_detail, name="payment_statement"),
    path(
        "statements/<int:statement_id>/lines.csv",
        views.statement_csv,
        name="payment_statement_csv",
    ),
    path(
        "statements/<int:statement_id>/print/",
        views.statement_print,
        name="payment_statement_print",
    ),
    # The workflow's steps, each a POST backed by one service.
    path(
        "statements/<int:statement_id>/submit/",
        views.statement_submit,
        name="payment_statement_submit",
    ),
    path(
        "statements/<int:statement_id>/lines/<int:line_id>/withdraw/",
        views.statement_line_withdraw,
        name="payment_statement_line_withdraw",
    ),
    path(
        "statements/<int:statement_id>/regenerate/",
        views.statement_regenerate,
        name="payment_statement_regenerate",
    ),
    path(
        "statements/<int:statement_id>/correct/",
        views.statement_correct,
        name="payment_statement_correct",
    ),
    path(
        "statements/<int:statement_id>/dispute/",
        views.statement_dispute,
        name="payment_statement_dispute",
    ),
    path(
        "statements/<int:statement_id>/approve/",
        views.statement_approve,
        name="payment_statement_approve",
    ),
    path(
        "statements/<int:statement_id>/paid/",
        views.statement_mark_paid,
        name="payment_statement_mark_paid",
    ),
]
