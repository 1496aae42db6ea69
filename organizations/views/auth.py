"""Sign-in, the second factor, and the account security page.

A wrong or malformed second-factor code answers 400 with the form again; too many wrong
codes in a row 429 (the device's own throttle). Sign-in itself is Django's LoginView with
django-axes: a wrong password re-renders the form at 200 (Django's behaviour, left as is),
a lockout answers 429 with `registration/locked_out.html`.
"""

from __future__ import annotations

from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..forms import SignInForm, TokenForm


class InvalidFormIs400:
    """Django's auth views answer a refused form with 200; Linkage's forms answer 400, so a
    client (and htmx) can tell a refusal from a page."""

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class SignInView(InvalidFormIs400, auth_views.LoginView):
    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    pass


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    pass


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    pass


def _next_url(request, default: str = "dashboard") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """Second step of sign-in for a user with a confirmed authenticator."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    devices = list(TOTPDevice.objects.devices_for_user(request.user, confirmed=True))
    if not devices:
        return redirect("two_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = devices[0]
        allowed, _ = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return redirect(_next_url(request))
        if not allowed:
            form.add_error(
                "token", _throttled("Too many wrong codes: wait a minute and try again.")
            )
        else:
            form.add_error(
                "token", gettext("That code is not right (or has expired). Try the next one.")
            )
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=_token_status(request, form),
    )


def _token_status(request, form) -> int:
    """200 for the empty form; 429 while the device refuses codes; 400 for a wrong one."""
    if request.method != "POST":
        return 200
    return 429 if form.has_error("token", code="throttled") else 400


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up an authenticator app: scan the code, type one code to confirm."""
    if user_has_device(request.user, confirmed=True):
        messages.info(request, gettext("Two-factor sign-in is already on for your account."))
        return redirect("account_security")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            form.add_error(
                "token", _throttled("Too many wrong codes: wait a moment and try again.")
            )
        elif device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, gettext("Two-factor sign-in is on."))
            return redirect(_next_url(request))
        else:
            form.add_error(
                "token", gettext("That code does not match. Check the clock on your phone.")
            )
    qr_svg = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    context = {
        "form": form,
        "qr_svg": qr_svg.to_string(encoding="unicode"),
        "secret": b32encode(device.bin_key).decode(),
        "next": _next_url(request),
        "required": request.user.requires_two_factor(),
    }
    return render(
        request,
        "registration/two_factor_setup.html",
        context,
        status=_token_status(request, form),
    )


def _throttled(message: str) -> ValidationError:
    return ValidationError(message, code="throttled")


def _account_security_page(request, *, error: str = "", status: int = 200):
    has_device = user_has_device(request.user, confirmed=True)
    return render(
        request,
        "registration/account_security.html",
        {"has_device": has_device, "required": request.user.requires_two_factor(), "error": error},
        status=status,
    )


@login_required
def account_security(request):
    return _account_security_page(request)


@login_required
@require_POST
def two_factor_disable(request):
    """Optional two-factor can be turned off; required two-factor cannot (403, the page
    again with the reason, and the device kept)."""
    if request.user.requires_two_factor():
        return _account_security_page(
            request,
            error="Your role requires two-factor sign-in; it cannot be turned off.",
            status=403,
        )
    TOTPDevice.objects.filter(user=request.user).delete()
    messages.success(request, gettext("Two-factor sign-in is off."))
    return redirect("account_security")
