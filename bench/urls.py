"""The project's routes, and the raw-cursor views bench_api measures the API against.

The raw views answer under /bench/raw/ followed by the API's own path, so that the
pagination links they write can name the API's route (the JSON is compared byte for byte
with the API's)."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

from . import raw_views

urlpatterns = [
    path(
        f"{raw_views.RAW_PREFIX.strip('/')}/api/v1/referrals/",
        raw_views.referral_list,
        name="bench-raw-referral-list",
    ),
    path(
        f"{raw_views.RAW_PREFIX.strip('/')}/api/v1/referrals/<int:referral_id>/",
        raw_views.referral_detail,
        name="bench-raw-referral-detail",
    ),
    *project_urlpatterns,
]
