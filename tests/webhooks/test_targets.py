"""No SSRF: loopback, private, link-local, multicast and reserved targets are refused —
when registered and again at each delivery — unless WEBHOOK_ALLOW_PRIVATE_TARGETS allows
them; https is required unless WEBHOOK_REQUIRE_HTTPS is off. No name here needs the
network to resolve (IP literals, and `localhost` from the hosts file)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from interop.models import Delivery
from interop.webhooks import delivery as sending
from interop.webhooks import targets
from interop.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(settings):
    """Production's rules."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOK_REQUIRE_HTTPS = True
    return settings


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://127.8.9.10:8443/hook", "loopback"),
        ("https://localhost/hook", "loopback"),  # a name: resolved, then checked
        ("https://[::1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://172.16.0.9/hook", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),  # cloud metadata
        ("https://[fe80::1]/hook", "link-local"),
        ("https://[fd00::5]/hook", "private"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://240.0.0.1/hook", "reserved"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),  # IPv4 in IPv6 clothing
        ("https://2130706433/hook", "loopback"),  # 127.0.0.1 written as one number
        ("https://100.64.0.1/hook", "non-public"),  # carrier-grade NAT
    ],
)
def test_non_public_addresses_are_refused(strict, url, kind):
    with pytest.raises(targets.TargetRefused) as refused:
        targets.check_url(url)
    assert f"a {kind} address" in str(refused.value)


def test_a_public_address_passes(strict):
    target = targets.check_url("https://93.184.215.14:8443/events?x=1")
    assert target.addresses == ("93.184.215.14",)
    assert target.path == "/events?x=1" and target.host_header == "93.184.215.14:8443"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hook", "Use an https:// URL"),
        ("ftp://93.184.215.14/hook", "Use an https:// URL"),
        ("https://user:pw@93.184.215.14/hook", "no user name or password"),
        ("https:///hook", "no host name"),
        ("https://93.184.215.14:99999/hook", "port"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(strict, url, message):
    with pytest.raises(targets.TargetRefused) as refused:
        targets.check_url(url)
    assert message in str(refused.value)


def test_the_setting_allows_private_targets_and_plain_http(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_REQUIRE_HTTPS = False
    assert targets.check_url("http://127.0.0.1:9/hook").addresses == ("127.0.0.1",)
    assert targets.check_url("http://[::1]:9/hook").host_header == "[::1]:9"


def test_registering_a_private_target_is_refused_with_the_reason(strict, tenant):
    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(
            organization=tenant.hco,
            actor=tenant.hco_admin,
            name="Inside",
            url="https://10.0.0.7/hook",
        )
    assert "10.0.0.7, a private address" in str(refused.value.message_dict["url"])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_each_delivery_checks_again_and_posts_nothing_to_a_refused_address(
    tenant, flow, make_endpoint, receiver, settings, host
):
    # Registered while allowed (as if the name pointed elsewhere then) ...
    endpoint = make_endpoint(tenant.hco)
    endpoint.url = endpoint.url.replace("127.0.0.1", host)
    endpoint.save(update_fields=["url"])
    # ... and refused now that it resolves to loopback in production's rules.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    flow.send()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed"  # a refusal is not retried
    attempt = delivery.attempts.get()
    assert attempt.outcome == "failed" and attempt.status_code is None
    assert attempt.error.startswith(f"Refused: {host} resolves to 127.0.0.1, a loopback address")
    assert receiver.posts() == []  # nothing reached the receiver
    # Allowed again, a new event is delivered to the same receiver: the refusal was the guard.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    referral = delivery.referral
    flow.move(referral, "accept")
    assert len(receiver.posts()) == 1
    assert sending.delivery_send(delivery_id=delivery.pk) == sending.SKIPPED


def test_redirects_are_not_followed(tenant, flow, make_endpoint, receiver):
    make_endpoint(tenant.hco)
    receiver.answer(302)
    flow.send()
    delivery = Delivery.objects.get()
    assert delivery.state == "failed"
    assert "redirect, which Linkage does not follow" in delivery.last_error
    assert len(receiver.posts()) == 1
