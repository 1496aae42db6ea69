"""The org admin's page for API keys: create (shown once), list, revoke.

A new-key form that fails validation is shown again with its errors at 400, and no key is
made.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from ..forms import ApiKeyForm

NEW_KEY_SESSION_KEY = "api_new_key"


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def api_keys(request):
    # Bound on every POST, even an empty one: it then says what is required.
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            _key, full_key = api_key_create(
                organization=request.organization,
                role=form.cleaned_data["role"],
                name=form.cleaned_data["name"],
                created_by=request.user,
            )
        except ValidationError as error:
            # The service's refusals name fields of its own (the organization): shown above
            # the form.
            form.add_error(None, ValidationError(error.messages))
        else:
            # Post/redirect/get, so a reload cannot create a second key; the session
            # carries the key to the next page view only, which takes it out again.
            request.session[NEW_KEY_SESSION_KEY] = full_key
            return redirect("api_keys")
    new_key = request.session.pop(NEW_KEY_SESSION_KEY, None) if request.method == "GET" else None
    keys = ApiKey.objects.visible_to(request.organization).select_related("created_by")
    page = Paginator(keys, 50).get_page(request.GET.get("page"))
    response = render(
        request,
        "api/keys.html",
        {"form": form, "page": page, "new_key": new_key},
        status=400 if form.is_bound else 200,
    )
    # The key is on this page only once: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@member_required(Capability.MANAGE_MEMBERS)
def api_key_revoke_page(request, key_id: int):
    api_key = get_visible_or_404(ApiKey, request.organization, pk=key_id)
    if request.method == "POST":
        api_key_revoke(api_key=api_key, actor=request.user)
        messages.success(
            request, gettext("Key “%(name)s” revoked: it no longer works.") % {"name": api_key.name}
        )
        return redirect("api_keys")
    return render(request, "api/key_revoke.html", {"api_key": api_key})
