"""Response headers that keep client data out of caches; one URL form for the machine faces."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

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


# The machine faces: integrations are configured once and then run unattended, so a base URL
# typed with or without its trailing slash must reach the same route (an APPEND_SLASH redirect
# loses a POST's body, and Django refuses it with a 500 in DEBUG).
SLASH_OPTIONAL_PREFIXES = ("/fhir/r4", "/api/v1/")
# Routes that answer "no such route" under those prefixes: a path that lands on one of these
# is tried again with its trailing slash toggled.
CATCH_ALL_ROUTES = frozenset({"fhir_unknown", "api-unknown-route"})


class OptionalTrailingSlashMiddleware:
    """Serve `/fhir/r4/...` and `/api/v1/...` routes with and without the trailing slash.

    The path is rewritten in place (no redirect) when the form asked for does not resolve, or
    resolves only to the face's catch-all 404, and the other form resolves to a real route.
    Pages keep Django's usual APPEND_SLASH redirect."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        if path.startswith(SLASH_OPTIONAL_PREFIXES) and not _real_route(path):
            other = path[:-1] if path.endswith("/") else path + "/"
            if _real_route(other):
                request.path_info = other
                request.path = request.path[: len(request.path) - len(path)] + other
        return self.get_response(request)


def _real_route(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.url_name not in CATCH_ALL_ROUTES
