"""The API's JSON 404 for any path under /api/v1/ that no route matches."""

from __future__ import annotations

from django.urls import Resolver404, resolve
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
        raise NotFound(self._message(request.path))

    def _message(self, path: str) -> str:
        # CommonMiddleware's slash redirect never happens here (this route matches first),
        # and a redirect would drop a POST body anyway: say what the right path is.
        if not path.endswith("/"):
            try:
                match = resolve(f"{path}/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != UNKNOWN_ROUTE:
                return f"Not found. API paths end with a slash: {path}/"
        return "Not found."
