from django.urls import path

from . import term_views

urlpatterns = [
    path("terms/", term_views.payment_term_list, name="payment_term_list"),
    path("terms/new/", term_views.payment_term_new, name="payment_term_new"),
    path("terms/<int:term_id>/edit/", term_views.payment_term_edit, name="payment_term_edit"),
    # The rows statements are made from: panel sizes (PMPM) and support-fund expenses.
    path("terms/<int:term_id>/panel/", term_views.payment_term_panel, name="payment_term_panel"),
    path(
        "terms/<int:term_id>/expenses/",
        term_views.payment_term_expenses,
        name="payment_term_expenses",
    ),
]
