"""Response headers that keep client data out of caches."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# Public, client-free answers that browsers and proxies may keep: the OpenAPI schema and its
# documentation page. Static files never reach this middleware (WhiteNoise answers first).
CACHEABLE_PREFIXES = ("/api/schema/", "/api/docs/")


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every dynamic response but the public API schema/docs.

    Pages, API and FHIR answers carry client data: a shared computer's browser cache, the
    back button after sign-out, or a proxy must not keep a copy. Rather than deciding per view
    (and forgetting one), everything is no-store unless it is on the short public list above;
    error pages, redirects and the sign-in page cost nothing to refetch. A view that already
    said no-store (e.g. "private, no-store" on a download) keeps its own wording.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        path = request.path_info
        if path.startswith(CACHEABLE_PREFIXES) or path.startswith(self.static_prefix):
            return response
        if "no-store" not in response.get("Cache-Control", ""):
            # Replace, not add to: a max-age or "public" on client data would be a bug.
            response["Cache-Control"] = "no-store"
        # For HTTP/1.0 caches that ignore Cache-Control.
        response["Pragma"] = "no-cache"
        return response
