from django.urls import path

from . import business_views

urlpatterns = [
    path(
        "partnerships/<int:partnership_id>/business-case/",
        business_views.business_case_page,
        name="payment_business_case",
    ),
]
