"""The org admin's webhook pages: register (secret shown once), edit, disable and enable,
replace the secret, delete — each with a confirmation — and the delivery log; each
organization sees only its own, and only admins manage them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from interop.models import Delivery, Subscription, WebhookEndpoint
from interop.subscriptions.topic import TOPIC_URL
from interop.webhooks.signing import SECRET_PREFIX

pytestmark = pytest.mark.django_db


def _register(client, receiver, **overrides):
    data = {
        "name": "Epic production",
        "url": receiver.url(),
        "sends_status_changes": "on",
        "sends_notes": "on",
        **overrides,
    }
    return client.post(reverse("webhook_new"), data)


def test_an_admin_registers_a_webhook_and_sees_its_secret_once(
    client, login, tenant, receiver, loopback_allowed
):
    login(tenant.hco_admin)
    assert client.get(reverse("webhook_list")).status_code == 200
    response = _register(client, receiver)
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.organization == tenant.hco and endpoint.created_by == tenant.hco_admin
    assert endpoint.secret.startswith(SECRET_PREFIX)
    assert response["Location"] == reverse("webhook_edit", args=[endpoint.pk])
    first = client.get(response["Location"])
    assert endpoint.secret in first.content.decode()
    assert first["Cache-Control"] == "no-store"
    again = client.get(response["Location"])
    assert endpoint.secret not in again.content.decode()  # shown once
    assert "Epic production" in client.get(reverse("webhook_list")).content.decode()
    audit = AuditEvent.objects.get(object_type="webhook_endpoint", action="create")
    assert audit.object_ids == [endpoint.pk] and audit.actor_id == tenant.hco_admin.pk
    assert endpoint.secret not in str(audit.detail)


def test_a_private_target_or_no_event_is_refused_on_the_form(
    client, login, tenant, receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    settings.WEBHOOK_REQUIRE_HTTPS = True
    login(tenant.hco_admin)
    refused = _register(client, receiver, url="https://169.254.169.254/latest")
    assert refused.status_code == 400
    assert "169.254.169.254, a link-local address" in refused.content.decode()
    plain = _register(client, receiver, url="http://93.184.215.14/hook")
    assert plain.status_code == 400 and "Use an https:// URL" in plain.content.decode()
    no_events = _register(
        client, receiver, url="https://93.184.215.14/hook", sends_status_changes="", sends_notes=""
    )
    assert no_events.status_code == 400
    assert "Choose at least one event" in no_events.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_edit_disable_enable_rotate_and_delete_with_confirmations(
    client, login, tenant, make_endpoint
):
    endpoint = make_endpoint(tenant.hco, actor=tenant.hco_admin)
    login(tenant.hco_admin)
    edit = reverse("webhook_edit", args=[endpoint.pk])
    saved = client.post(
        edit, {"name": "Renamed", "url": endpoint.url, "sends_status_changes": "on"}
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.name == "Renamed" and not endpoint.sends_notes

    disable = reverse("webhook_disable", args=[endpoint.pk])
    assert "Disable the webhook" in client.get(disable).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.is_active  # a GET only asks
    assert client.post(disable).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "Disabled by" in endpoint.disabled_reason
    assert client.post(reverse("webhook_enable", args=[endpoint.pk])).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""

    old = endpoint.secret
    rotate = reverse("webhook_rotate_secret", args=[endpoint.pk])
    assert "Make a new secret" in client.get(rotate).content.decode()
    assert client.post(rotate).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in client.get(edit).content.decode()

    delete = reverse("webhook_delete", args=[endpoint.pk])
    assert "Delete the webhook" in client.get(delete).content.decode()
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert client.post(delete)["Location"] == reverse("webhook_list")
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_rotated_secret_signs_alongside_the_old_one(tenant, flow, make_endpoint, receiver):
    from interop.webhooks.services import webhook_endpoint_rotate_secret

    from .receiver import verify_signature

    endpoint = make_endpoint(tenant.hco)
    old = endpoint.secret
    endpoint = webhook_endpoint_rotate_secret(endpoint=endpoint, actor=tenant.hco_admin)
    flow.send()
    [post] = receiver.posts()
    header = post.headers["x-linkage-signature"]
    assert header.count("v1=") == 2
    assert verify_signature(old, header, post.body)
    assert verify_signature(endpoint.secret, header, post.body)


def test_the_delivery_log_shows_each_attempt_but_never_the_body(
    client, login, tenant, flow, make_endpoint, receiver
):
    endpoint = make_endpoint(tenant.hco, actor=tenant.hco_admin)
    receiver.answer(503)
    referral = flow.send()
    flow.move(referral, "accept")
    login(tenant.hco_admin)
    page = client.get(reverse("webhook_deliveries", args=[endpoint.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-testid="attempt-row"') == 2
    assert "HTTP 503 from the receiver." in text and ">503<" in text and ">200<" in text
    assert text.count('data-testid="waiting-row"') == 1  # the 503 waits for its retry
    assert f"#{referral.pk}" in text
    for secret in ("api_url", tenant.client.family_name, endpoint.secret):
        assert secret not in text


def test_other_roles_may_not_manage_webhooks(client, login, tenant, make_endpoint):
    endpoint = make_endpoint(tenant.hco)
    login(tenant.hco_navigator)
    for name, args in [
        ("webhook_list", []),
        ("webhook_new", []),
        ("webhook_edit", [endpoint.pk]),
        ("webhook_deliveries", [endpoint.pk]),
        ("webhook_delete", [endpoint.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("webhook_delete", args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_an_admin_of_another_organization_sees_none_of_them(
    client, login, tenant, foreign_tenant, make_endpoint
):
    endpoint = make_endpoint(tenant.hco, name="Marrowdale secret hook")
    subscription = Subscription.objects.create(
        organization=tenant.hco, topic=TOPIC_URL, endpoint="https://ehr.marrowdale.invalid/f"
    )
    # The CBO, a partner in the same network, is "another organization" too.
    for outsider in (foreign_tenant.hco_admin, tenant.backbone_admin):
        client.logout()
        login(outsider)
        listing = client.get(reverse("webhook_list")).content.decode()
        assert "Marrowdale secret hook" not in listing
        assert "ehr.marrowdale.invalid" not in listing
        for name in (
            "webhook_edit",
            "webhook_deliveries",
            "webhook_delete",
            "webhook_disable",
            "webhook_enable",
            "webhook_rotate_secret",
        ):
            url = reverse(name, args=[endpoint.pk])
            assert client.get(url).status_code == 404, name
            assert client.post(url).status_code in {404, 405}, name  # logs are GET only
        for name in ("webhook_subscription_deliveries", "webhook_subscription_delete"):
            url = reverse(name, args=[subscription.pk])
            assert client.get(url).status_code == 404, name
            assert client.post(url).status_code in {404, 405}, name
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.name == "Marrowdale secret hook"
    assert Subscription.objects.filter(pk=subscription.pk).exists()


def test_an_admin_follows_and_ends_an_integrations_fhir_subscription(client, login, tenant):
    subscription = Subscription.objects.create(
        organization=tenant.hco, topic=TOPIC_URL, endpoint="https://ehr.marrowdale.invalid/f"
    )
    login(tenant.hco_admin)
    listing = client.get(reverse("webhook_list")).content.decode()
    assert f"Subscription/{subscription.pk}" in listing
    log = client.get(reverse("webhook_subscription_deliveries", args=[subscription.pk]))
    assert log.status_code == 200 and "No attempts yet" in log.content.decode()
    delete = reverse("webhook_subscription_delete", args=[subscription.pk])
    assert "Delete FHIR subscription" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert not Subscription.objects.exists() and not Delivery.objects.exists()
