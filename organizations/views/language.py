"""The interface language: English or Spanish, picked in the header or the account page.

Signed-in users keep their choice on their account (UserLanguageMiddleware applies it on
every request, and emails to them use it); the language cookie carries it for the sign-in
page and for visitors who are not signed in. Nothing picked: the browser's language.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .. import services


@require_POST
def set_language(request):
    """Save the chosen language ("" = follow the browser) and go back to the page."""
    language = request.POST.get("language", "").strip()
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        return HttpResponseBadRequest("Unknown language.")
    if request.user.is_authenticated:
        try:
            services.user_set_language(user=request.user, language=language)
        except ValidationError:
            return HttpResponseBadRequest("Unknown language.")
    response = redirect(_back_to(request))
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE or request.is_secure(),
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def _back_to(request) -> str:
    """The page the form was on, if it is on this site; else the dashboard."""
    for candidate in (request.POST.get("next", ""), request.headers.get("referer", "")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "dashboard"
