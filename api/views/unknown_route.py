"""The API's JSON 404 for any path under /api/v1/ that no route matches."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

UNKNOWN_ROUTE = "api-unknown-route"


@extend_schema(exclude=True)
class UnknownRouteView(APIView):
    """Any other path under /api/v1/ (a mistyped route, an id that is not a number): the
    API's JSON error body with 404, not the site's HTML page, whatever the method."""

    permission_classes = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A real route asked for without its trailing slash never gets here:
        # config.middleware.OptionalTrailingSlashMiddleware serves it.
        raise NotFound("Not found.")
