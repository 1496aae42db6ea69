from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from organizations.views import auth as linkage_auth

account_patterns = [
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", linkage_auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        linkage_auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/change/",
        linkage_auth.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("account/", include(account_patterns)),
    path("", include("organizations.urls")),
    path("", include("directory.urls")),
    path("", include("clients.urls")),
    path("", include("consent.urls")),
    # Public: the client's release by a one-time link (no account).
    path("", include("consent.link_urls")),
    path("", include("outreach.urls")),
    path("", include("assessments.urls")),
    path("", include("referrals.urls")),
    path("", include("referrals.summary_urls")),
    # Public: a network's self-referral page.
    path("", include("referrals.public_urls")),
    path("", include("audit.urls")),
    path("", include("metrics.urls")),
    path("payments/", include("payments.urls")),
    path("payments/", include("payments.term_urls")),
    path("payments/", include("payments.pathway_urls")),
    path("payments/", include("payments.business_urls")),
    path("api/", include("api.urls")),
    path("", include("interop.urls")),
]
