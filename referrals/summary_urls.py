"""The client's own summary of a referral (printable, in the client's language)."""

from django.urls import path

from .views import summary

urlpatterns = [
    path(
        "referrals/<int:referral_id>/summary/",
        summary.referral_client_summary,
        name="referral_client_summary",
    ),
    path(
        "referrals/<int:referral_id>/summary/text/",
        summary.referral_summary_send,
        name="referral_summary_send",
    ),
]
