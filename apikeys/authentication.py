"""`Authorization: Bearer <key>`: an integration acting for its organization."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiKey
from .services import api_key_mark_used, secret_matches, split_key

INVALID = "Invalid or revoked API key."


class BearerKeyAuthentication(authentication.BaseAuthentication):
    """Finds the key by its public prefix, compares the secret's hash in constant time,
    and gives the request the key's organization and membership, as the
    ActiveOrganizationMiddleware does for a signed-in person."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        parts = split_key(raw)
        if parts is None:
            raise exceptions.AuthenticationFailed(INVALID)
        prefix, secret = parts
        api_key = (
            ApiKey.objects.usable()
            .select_related("organization__network", "membership", "user")
            .filter(prefix=prefix)
            .first()
        )
        if api_key is None or not secret_matches(api_key, secret):
            raise exceptions.AuthenticationFailed(INVALID)
        if api_key.membership.organization_id == api_key.organization_id:
            # The key's membership is in the key's organization (api_key_create): one row,
            # loaded once rather than joined twice.
            api_key.membership.organization = api_key.organization
        api_key_mark_used(api_key=api_key, now=timezone.now())
        django_request = request._request
        django_request.organization = api_key.organization
        django_request.membership = api_key.membership
        django_request.memberships = [api_key.membership]
        django_request.api_key = api_key
        return api_key.user, api_key

    def authenticate_header(self, request):
        return self.keyword


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apikeys.authentication.BearerKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key created by an organization admin: "
            "`Authorization: Bearer lk_<prefix>_<secret>`.",
        }
