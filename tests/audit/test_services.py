"""audit_record / audit_read: who, for which organization, what, when, from where, which
request; one event per list; the clients indexed."""

import logging
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import override_settings

from audit.models import AuditEvent, AuditEventClient
from audit.services import audit_read, audit_record
from tests.audit.urls import LIST_ROWS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.audit.urls")]


def test_a_change_records_who_for_which_organization_what_when_where_and_which_request(
    client, login, tenant
):
    login(tenant.hco_navigator)
    moment = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        response = client.get("/test-audit/change/", REMOTE_ADDR="198.51.100.23")
    event = AuditEvent.objects.get(pk=response.json()["event"])
    assert event.actor == tenant.hco_navigator
    assert event.organization == tenant.hco
    assert (event.action, event.object_type, event.object_ids) == ("update", "client", [7])
    assert event.occurred_at == moment
    assert event.ip_address == "198.51.100.23"
    assert event.detail == {"fields": ["phone", "zip_code"]}
    # The id in the row is the one the response carried: logs, trail and the user's
    # bug report meet on it.
    assert event.request_id and event.request_id == response["X-Request-ID"]


def test_the_request_id_from_a_trusted_proxy_is_kept(client, login, tenant):
    login(tenant.hco_navigator)
    response = client.get("/test-audit/change/", HTTP_X_REQUEST_ID="lb-0123456789abcdef")
    assert response["X-Request-ID"] == "lb-0123456789abcdef"
    assert AuditEvent.objects.get(pk=response.json()["event"]).request_id == "lb-0123456789abcdef"


def test_each_request_gets_its_own_id(client, login, tenant):
    login(tenant.hco_navigator)
    first = client.get("/test-audit/change/")
    second = client.get("/test-audit/change/")
    ids = set(AuditEvent.objects.values_list("request_id", flat=True))
    assert ids == {first["X-Request-ID"], second["X-Request-ID"]}
    assert len(ids) == 2


def test_without_proxies_a_forwarded_for_header_is_ignored(client, login, tenant, settings):
    settings.AXES_IPWARE_PROXY_COUNT = None
    login(tenant.hco_navigator)
    response = client.get(
        "/test-audit/change/", REMOTE_ADDR="198.51.100.23", HTTP_X_FORWARDED_FOR="203.0.113.99"
    )
    assert AuditEvent.objects.get(pk=response.json()["event"]).ip_address == "198.51.100.23"


@pytest.mark.parametrize(
    ("proxy_count", "forwarded", "expected"),
    [
        # One proxy (the load balancer) appended the real client; what came before is spoofable.
        (1, "10.9.9.9, 203.0.113.7", "203.0.113.7"),
        # Two proxies: the client is the entry the outer one appended.
        (2, "10.9.9.9, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "2001:db8::7", "2001:db8::7"),
        # Fewer entries than proxies: the header is not what our proxies write; use the peer.
        (2, "203.0.113.7", "10.0.0.1"),
        # Not an address (a count that reaches into client-written entries): use the peer.
        (2, "not-an-ip, 10.0.0.2", "10.0.0.1"),
    ],
)
def test_behind_proxies_the_address_comes_from_x_forwarded_for(
    client, login, tenant, settings, proxy_count, forwarded, expected
):
    settings.AXES_IPWARE_PROXY_COUNT = proxy_count
    login(tenant.hco_navigator)
    response = client.get(
        "/test-audit/change/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert response.status_code == 200
    assert AuditEvent.objects.get(pk=response.json()["event"]).ip_address == expected


def test_a_list_is_one_event_with_every_id_shown_and_its_clients_indexed(client, login, tenant):
    login(tenant.hco_navigator)
    response = client.get("/test-audit/list/", REMOTE_ADDR="198.51.100.23")
    assert AuditEvent.objects.count() == 1
    event = AuditEvent.objects.get()
    assert event.pk == response.json()["event"]
    assert event.action == "list"
    assert event.object_type == "referral"
    assert event.object_ids == sorted(pk for pk, _ in LIST_ROWS)
    assert event.detail == {"categories": ["referrals"]}
    assert event.request_id == response["X-Request-ID"]
    assert event.ip_address == "198.51.100.23"
    clients = sorted(
        AuditEventClient.objects.filter(event=event).values_list("client_id", flat=True)
    )
    assert clients == [101, 102]  # each client once, though two rows were about client 101
    assert list(AuditEvent.objects.about_client(101)) == [event]
    assert list(AuditEvent.objects.about_client(102)) == [event]
    assert not AuditEvent.objects.about_client(103).exists()


def test_an_empty_list_records_nothing(rf, tenant):
    request = rf.get("/")
    request.user = tenant.hco_navigator
    request.organization = tenant.hco
    assert audit_read(request, object_type="referral", objects=[]) is None
    assert not AuditEvent.objects.exists()


def test_explicit_actor_and_organization_win_over_the_request(rf, tenant):
    request = rf.get("/")
    request.user = tenant.hco_navigator
    request.organization = tenant.hco
    event = audit_record(
        request=request,
        action="disclose",
        object_type="client",
        actor=tenant.cbo_staff,
        organization=tenant.cbo,
    )
    assert (event.actor, event.organization) == (tenant.cbo_staff, tenant.cbo)


def test_outside_a_request_there_is_no_address_or_request_id(tenant):
    event = audit_record(
        action="update", object_type="client", actor=tenant.hco_navigator, organization=tenant.hco
    )
    assert event.ip_address is None
    assert event.request_id == ""


@pytest.mark.parametrize(
    "detail",
    [
        {"reason": "Client moved to Springfield"},  # free text
        {"fields": ["phone", "555 010 0000"]},  # a value among field names
        {"email": "someone@example.test"},
        {"note": "x" * 65},
        {"Free text key": "x"},
    ],
)
def test_free_text_in_detail_is_refused_and_nothing_is_written(tenant, detail):
    with pytest.raises(ValueError, match="code") as refused:
        audit_record(
            action="update",
            object_type="client",
            client_ids=[tenant.client.pk],
            actor=tenant.hco_navigator,
            organization=tenant.hco,
            detail=detail,
        )
    # The error itself must not repeat the value (it may reach a log).
    for value in detail.values():
        for v in value if isinstance(value, list) else [value]:
            if " " in v or "@" in v:
                assert v not in str(refused.value)
    assert not AuditEvent.objects.exists()
    assert not AuditEventClient.objects.exists()


def test_codes_and_field_names_are_accepted_in_detail(tenant):
    detail = {
        "categories": ["demographics", "social_needs"],
        "fields": ["family_name", "phone"],
        "from": "requested",
        "to": "in-progress",
        "code": "Z59.0",
        "count": 3,
        "merged": True,
    }
    event = audit_record(
        action="update",
        object_type="referral",
        actor=tenant.hco_navigator,
        organization=tenant.hco,
        detail=detail,
    )
    event.refresh_from_db()
    assert event.detail == detail


def test_an_unknown_action_is_refused(tenant):
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(action="peek", object_type="client", organization=tenant.hco)
    assert not AuditEvent.objects.exists()


@override_settings(DEBUG=True)  # the most talkative setting: SQL logging on
def test_recording_writes_no_client_details_to_the_application_log(client, login, tenant, caplog):
    login(tenant.hco_navigator)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own loggers stop at INFO
    client.get("/test-audit/change/")
    client.get("/test-audit/list/")
    audit_record(
        action="view",
        object_type="client",
        object_ids=[tenant.client.pk],
        client_ids=[tenant.client.pk],
        actor=tenant.hco_navigator,
        organization=tenant.hco,
        detail={"categories": ["demographics"]},
    )
    assert AuditEvent.objects.count() == 3
    person = tenant.client
    logged = caplog.text
    # The capture is real: the audit inserts themselves were logged, parameters and all.
    assert 'INSERT INTO "audit_auditevent"' in logged
    for phi in (person.given_name, person.family_name, person.email, person.phone):
        assert phi not in logged
    assert str(person.date_of_birth) not in logged
