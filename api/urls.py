from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import pages, views
from .serializers import USER_MOVES

router = SimpleRouter()
router.register("organizations", views.OrganizationViewSet, basename="api-organization")
router.register("programs", views.ProgramViewSet, basename="api-program")
router.register("clients", views.ClientViewSet, basename="api-client")
router.register("releases", views.ReleaseViewSet, basename="api-release")
router.register("assessments", views.AssessmentViewSet, basename="api-assessment")
router.register("referrals", views.ReferralViewSet, basename="api-referral")
router.register("notifications", views.NotificationViewSet, basename="api-notification")

move_patterns = [
    path(
        f"v1/referrals/<int:referral_id>/{move}/",
        views.ReferralMoveView.as_view(move=move),
        name=f"api-referral-{move}",
    )
    for move in USER_MOVES
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("keys/", pages.api_keys, name="api_keys"),
    path("keys/<int:key_id>/revoke/", pages.api_key_revoke_page, name="api_key_revoke"),
    *move_patterns,
    path("v1/", include(router.urls)),
    # Last: whatever else is under v1/ gets the API's JSON 404.
    re_path(r"^v1/", views.UnknownRouteView.as_view(), name=views.UNKNOWN_ROUTE),
]
