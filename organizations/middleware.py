"""Per-request tenancy and the second-factor gate."""

from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django_otp import user_has_device

ACTIVE_ORGANIZATION_SESSION_KEY = "active_organization_id"

# Views a signed-in user may reach before passing the second factor.
TWO_FACTOR_EXEMPT_URL_NAMES = frozenset(
    {"logout", "two_factor_verify", "two_factor_setup", "health", "set_language"}
)


class UserLanguageMiddleware:
    """Speaks the signed-in user's chosen language, whatever the browser asks for.

    Goes after AuthenticationMiddleware (it reads `request.user`) and inside
    LocaleMiddleware, which has already picked the cookie's or the browser's language for
    everyone (and for users who left the choice blank) and sets Content-Language from the
    language active on the way out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class ActiveOrganizationMiddleware:
    """Gives every request exactly one active organization (`request.organization`).

    A user in several organizations picks one in the page header; the choice is kept in
    the session. A user whose chosen membership has ended falls back to another.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.organization = None
        request.memberships = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(user.active_memberships())
            request.memberships = memberships
            chosen_id = request.session.get(ACTIVE_ORGANIZATION_SESSION_KEY)
            membership = next(
                (m for m in memberships if m.organization_id == chosen_id),
                memberships[0] if memberships else None,
            )
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
                if chosen_id != membership.organization_id:
                    request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = membership.organization_id
        return self.get_response(request)


class TwoFactorMiddleware:
    """Sends a signed-in user who has not passed the second factor to do so.

    Users with a confirmed TOTP device must enter a code every sign-in; org admins and
    backbone admins (and superusers) without one must set one up before anything else.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.url_name in TWO_FACTOR_EXEMPT_URL_NAMES:
            return None
        if getattr(view_func, "two_factor_exempt", False):
            return None
        next_url = request.get_full_path()
        if user_has_device(user, confirmed=True):
            target = "two_factor_verify"
        elif user.is_superuser or any(m.role == "org_admin" for m in request.memberships):
            target = "two_factor_setup"
        else:
            return None
        return redirect(f"{reverse(target)}?next={_safe_next(next_url)}")


def _safe_next(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
