from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from .serializers.referrals import USER_MOVES
from .views import keys
from .views.assessments import AssessmentViewSet
from .views.clients import ClientViewSet
from .views.notifications import NotificationViewSet
from .views.organizations import OrganizationViewSet
from .views.payments import PaymentTermViewSet, StatementViewSet
from .views.programs import ProgramViewSet
from .views.referrals import ReferralMoveView, ReferralViewSet
from .views.releases import ReleaseViewSet
from .views.unknown_route import UNKNOWN_ROUTE, UnknownRouteView

router = SimpleRouter()
router.register("organizations", OrganizationViewSet, basename="api-organization")
router.register("programs", ProgramViewSet, basename="api-program")
router.register("clients", ClientViewSet, basename="api-client")
router.register("releases", ReleaseViewSet, basename="api-release")
router.register("assessments", AssessmentViewSet, basename="api-assessment")
router.register("referrals", ReferralViewSet, basename="api-referral")
router.register("notifications", NotificationViewSet, basename="api-notification")
router.register("payment-terms", PaymentTermViewSet, basename="api-payment-term")
router.register("statements", StatementViewSet, basename="api-statement")

move_patterns = [
    path(
        f"v1/referrals/<int:referral_id>/{move}/",
        ReferralMoveView.as_view(move=move),
        name=f"api-referral-{move}",
    )
    for move in USER_MOVES
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("keys/", keys.api_keys, name="api_keys"),
    path("keys/<int:key_id>/revoke/", keys.api_key_revoke_page, name="api_key_revoke"),
    *move_patterns,
    path("v1/", include(router.urls)),
    # Last: whatever else is under v1/ gets the API's JSON 404.
    re_path(r"^v1/", UnknownRouteView.as_view(), name=UNKNOWN_ROUTE),
]
