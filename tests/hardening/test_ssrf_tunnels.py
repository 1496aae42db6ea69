"""The SSRF guard looks inside IPv6 addresses that carry an IPv4 one: a 6to4 (2002::/16) or
Teredo (2001::/32) address reaches the IPv4 address it embeds through a relay, so it is
refused when that address would be; IPv4-mapped addresses are the IPv4 address itself."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ValidationError

from interop.webhooks import targets
from interop.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOK_REQUIRE_HTTPS = True
    return settings


def teredo(server: str, client: str) -> str:
    """The Teredo address of `client` behind `server` (RFC 4380: the client's address and
    port are stored inverted)."""
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64)
    value |= (0xFFFF ^ 40000) << 32  # an obfuscated port
    value |= int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address(value))


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a01:203::1", "private"),  # 6to4 of 10.1.2.3
        ("2002:a9fe:a9fe::", "link-local"),  # 6to4 of 169.254.169.254 (cloud metadata)
        ("2002:c0a8:114::", "private"),  # 6to4 of 192.168.1.20
        (teredo("65.54.227.120", "127.0.0.1"), "loopback"),
        (teredo("65.54.227.120", "10.0.0.1"), "private"),
        (teredo("10.9.9.9", "93.184.215.14"), "private"),  # a private Teredo server
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:a9fe:a9fe", "link-local"),
    ],
)
def test_ipv6_addresses_carrying_a_refused_ipv4_address_are_refused(strict, address, kind):
    with pytest.raises(targets.TargetRefused) as refused:
        targets.check_url(f"https://[{address}]/hook")
    assert f"a {kind} address" in str(refused.value)


def test_the_embedded_address_is_what_the_teredo_helper_says():
    # The test's own Teredo builder agrees with the standard library's reading.
    assert ipaddress.IPv6Address(teredo("65.54.227.120", "127.0.0.1")).teredo == (
        ipaddress.IPv4Address("65.54.227.120"),
        ipaddress.IPv4Address("127.0.0.1"),
    )


def test_a_6to4_address_of_a_public_ipv4_address_passes(strict):
    target = targets.check_url("https://[2002:5db8:d70e::1]/hook")  # 93.184.215.14
    assert target.addresses == ("2002:5db8:d70e::1",)


def test_registering_a_6to4_loopback_endpoint_is_refused(strict, tenant):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(
            organization=tenant.hco,
            actor=tenant.hco_admin,
            name="Tunnelled",
            url="https://[2002:7f00:1::]/hook",
        )
    assert "a loopback address" in str(refused.value.message_dict["url"])
