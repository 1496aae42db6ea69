from __future__ import annotations

import pytest

from consent import links
from consent.models import Release
from consent.signals import release_link_created, release_link_signed
from tests.browser.conftest import browser, new_context, page  # noqa: F401 (browser tests here)
from tests.factories import ClientFactory


@pytest.fixture
def announced():
    """What consent announced: ("created", kwargs) and ("signed", kwargs), in order."""
    heard: list[tuple[str, dict]] = []

    def created(sender, **kwargs):
        heard.append(("created", {k: v for k, v in kwargs.items() if k != "signal"}))

    def signed(sender, **kwargs):
        heard.append(("signed", {k: v for k, v in kwargs.items() if k != "signal"}))

    release_link_created.connect(created, dispatch_uid="test_link_created")
    release_link_signed.connect(signed, dispatch_uid="test_link_signed")
    yield heard
    release_link_created.disconnect(dispatch_uid="test_link_created")
    release_link_signed.disconnect(dispatch_uid="test_link_signed")


@pytest.fixture
def unreleased_client(tenant):
    """A client of the tenant's clinic with no release at all (phone and email on record)."""
    return ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        given_name="Quennell",
        family_name="Ostrovar",
        email="quennell@example.test",
    )


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def make_link(tenant, client, **terms):
    """A link made through the service by the clinic's navigator; (link, url, token)."""
    values = {
        "recipients": [tenant.cbo],
        "all_network_partners": False,
        "categories": ["demographics", "social_needs", "referrals"],
        "purpose": Release.Purpose.CARE_COORDINATION,
        "channel": "sms",
        **terms,
    }
    link, url = links.release_link_create(
        client=client, organization=tenant.hco, actor=tenant.hco_navigator, **values
    )
    return link, url, token_of(url)
