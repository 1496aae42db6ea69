"""How to build each URL parameter from the victim tenant's real objects.

A new route with a new object parameter adds one line here (and the harness refuses to run
it until then). Values are callables so that only the probes a route uses are built.
"""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


def page_probes(victim) -> dict:
    return {
        "partnership_id": lambda: victim.partnership.pk,
        "client_id": lambda: victim.client.pk,
        "release_id": lambda: victim.release.pk,
        "uidb64": lambda: urlsafe_base64_encode(force_bytes(victim.hco_admin.pk)),
        # A well-formed token the outsider could not have: the page must say the link is dead.
        "token": lambda: default_token_generator.make_token(victim.hco_admin)[:-3] + "xyz",
    }


def admin_probes(victim) -> dict:
    partnership = victim.partnership
    return {
        "object_id": lambda: partnership.pk,
        "pk": lambda: partnership.pk,
        "id": lambda: victim.hco_admin.pk,
        "content_type_id": lambda: ContentType.objects.get_for_model(partnership).pk,
        "app_label": lambda: "organizations",
        "url": lambda: f"organizations/partnership/{partnership.pk}/change/",
    }


def sentinels(victim) -> list[str]:
    """Strings that appear only in the victim tenant's data."""
    users = [
        victim.backbone_admin,
        victim.hco_admin,
        victim.hco_navigator,
        victim.hco_staff,
        victim.cbo_staff,
    ]
    client = victim.client
    return [
        client.given_name,
        client.family_name,
        client.email,
        victim.network.name,
        victim.backbone.name,
        victim.hco.name,
        victim.cbo.name,
        victim.partnership.name,
        *(u.email for u in users),
        *(u.last_name for u in users),
    ]
