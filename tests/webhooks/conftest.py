from __future__ import annotations

import pytest

from interop.webhooks.services import webhook_endpoint_create

from .receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def loopback_allowed(settings):
    """The test receiver listens on 127.0.0.1 over plain http: allow it, as DEBUG would."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.SITE_URL = "https://linkage.test"
    return settings


@pytest.fixture
def make_endpoint(loopback_allowed, receiver):
    """`make_endpoint(org, **fields)`: an endpoint of `org` pointing at the receiver."""

    def _make(org, actor=None, path="/hook", **fields):
        from organizations.models import Membership

        actor = actor or Membership.objects.filter(organization=org).first().user
        return webhook_endpoint_create(
            organization=org,
            actor=actor,
            name=fields.pop("name", "EHR"),
            url=receiver.url(path),
            **fields,
        )

    return _make


@pytest.fixture
def flow(tenant, django_capture_on_commit_callbacks):
    from datetime import datetime

    from django.utils import timezone

    from .support import Flow

    # The release lasts for decades: some tests travel in time.
    release = tenant.release
    release.effective_at = timezone.make_aware(datetime(2020, 1, 1))
    release.expires_at = timezone.make_aware(datetime(2045, 1, 1))
    release.save(update_fields=["effective_at", "expires_at"])
    return Flow(tenant, django_capture_on_commit_callbacks)


# --- for the tests with real workers (tests/webhooks/workers.py) ---------------------------
# `queue` and `sink` come from tests/workers.py.


@pytest.fixture
def outbound(loopback_allowed):
    """This process's settings as the workers' (the fan-out and registration run here)."""
    return loopback_allowed
