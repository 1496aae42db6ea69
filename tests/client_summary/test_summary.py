"""The client's own summary of a referral: the printable page (content, language switch,
consent, sensitive services, audit, tenancy) and the short text version."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from clients.models import Client
from referrals.models import Referral
from referrals.summary import TEXT, TEXT_LIMIT, summary_text
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    ReferralFactory,
    member,
    referral_for,
    referral_program,
)

pytestmark = pytest.mark.django_db

# The referral's own dates (the summary formats them; the reminders' rules set them).
SENT = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)  # 9:00 in Chicago
ACK_DUE = datetime(2026, 3, 5, 23, 0, tzinfo=UTC)  # 17:00 in Chicago


def summary_url(referral, lang=""):
    url = reverse("referral_client_summary", args=[referral.pk])
    return f"{url}?lang={lang}" if lang else url


@pytest.fixture
def referral(tenant):
    program = referral_program(tenant)
    program.phone = "(555) 010-4242"
    program.hours = "Mon-Fri 9-5"
    program.save()
    tenant.client.phone = "(555) 010-7777"
    tenant.client.save()
    referral = referral_for(tenant)
    Referral.objects.filter(pk=referral.pk).update(sent_at=SENT, ack_due_at=ACK_DUE)
    referral.refresh_from_db()
    return referral


def test_every_language_holds_every_string():
    assert set(TEXT["en"]) == set(TEXT["es"])


def test_sender_sees_what_where_how_and_next_in_english(client, login, tenant, referral):
    login(tenant.hco_navigator)
    response = client.get(summary_url(referral, "en"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "Your referral" in body
    assert f"For {tenant.client.display_name}" in body
    assert f"Sent by {tenant.hco.name} on March 3, 2026." in body
    assert referral.program.name in body and tenant.cbo.name in body
    assert "(555) 010-4242" in body and "Mon-Fri 9-5" in body
    assert "For: food" in body
    assert f"{tenant.cbo.name} will call you at (555) 010-7777." in body
    assert f"{tenant.cbo.name} will look at your referral and answer by March 5, 2026." in body
    assert "If you do not hear from them, call (555) 010-4242." in body
    # Printable: the toolbar is hidden by the print stylesheet and the page has no site nav.
    assert "css/release_print.css" in body and 'class="toolbar"' in body


def test_language_switch_and_client_preference(client, login, tenant, referral):
    login(tenant.hco_navigator)
    spanish = client.get(summary_url(referral, "es")).content.decode()
    assert '<html lang="es">' in spanish
    assert "Su referencia" in spanish and "Qué pasa ahora" in spanish
    assert f"Enviada por {tenant.hco.name} el 3 de marzo de 2026." in spanish
    assert f"{tenant.cbo.name} le llamará al (555) 010-7777." in spanish
    assert "Para: alimentos" in spanish
    assert "responderá a más tardar el 5 de marzo de 2026" in spanish
    assert 'href="?lang=en"' in spanish  # the switch back

    # Without a choice: the client's preferred language.
    Client.objects.filter(pk=tenant.client.pk).update(preferred_language="es")
    default = client.get(summary_url(referral)).content.decode()
    assert '<html lang="es">' in default
    Client.objects.filter(pk=tenant.client.pk).update(preferred_language="en")
    assert '<html lang="en">' in client.get(summary_url(referral)).content.decode()


def test_receiver_without_a_release_sees_no_name_contact_or_needs(client, login, tenant):
    """A referral whose client no release covers for the receiver: the receiver's summary
    keeps the program and the next step, and leaves out who the client is, their phone
    and the needs the sender recorded."""
    person = ClientFactory(
        created_by_organization=tenant.hco, given_name="Hiddenia", phone="(555) 010-9999"
    )
    program = ProgramFactory(organization=tenant.cbo, name="Pantry Two", phone="(555) 010-1111")
    referral = ReferralFactory(client=person, program=program, needs=["housing-instability"])
    login(tenant.cbo_staff)
    body = client.get(summary_url(referral, "en")).content.decode()
    assert "Pantry Two" in body and "(555) 010-1111" in body
    assert "Hiddenia" not in body and person.family_name not in body
    assert "(555) 010-9999" not in body
    assert "housing" not in body
    assert f"{tenant.cbo.name} will contact you by the phone number or email you gave." in body
    # The audit trail says what was shown: the referral, not the client's record or needs.
    event = AuditEvent.objects.filter(object_type="referral", action="print").latest("id")
    assert event.detail == {"categories": ["referrals"]}
    assert list(event.clients.values_list("client_id", flat=True)) == [person.pk]


def test_sender_sees_the_same_client_by_provenance(client, login, tenant):
    person = ClientFactory(created_by_organization=tenant.hco, given_name="Shownia")
    program = ProgramFactory(organization=tenant.cbo, name="Pantry Three")
    referral = ReferralFactory(client=person, program=program)
    login(tenant.hco_navigator)
    body = client.get(summary_url(referral, "en")).content.decode()
    assert "Shownia" in body and "(555) 010-0000" in body


@pytest.mark.parametrize(
    ("program_name", "needs", "fields"),
    [
        ("Riverbend Behavioral Health Clinic", ("food-insecurity",), {}),
        ("Opioid Recovery Services", ("food-insecurity",), {}),
        ("Safe Harbor", ("intimate-partner-violence",), {}),
        ("Pantry Four", ("food-insecurity",), {"do_not_contact": True}),
    ],
)
def test_sensitive_service_is_only_your_appointment(
    client, login, tenant, program_name, needs, fields
):
    program = ProgramFactory(
        organization=tenant.cbo,
        name=program_name,
        phone="(555) 010-2323",
        categories=list(needs),
    )
    referral = referral_for(tenant, program=program, needs=needs, **fields)
    login(tenant.hco_navigator)
    body = client.get(summary_url(referral, "en")).content.decode()
    assert "Your appointment" in body
    assert program_name not in body
    assert "For: " not in body  # the needs would name it too
    spanish = client.get(summary_url(referral, "es")).content.decode()
    assert "Su cita" in spanish and program_name not in spanish

    text = summary_text(referral, organization=tenant.hco, language="en")
    assert program_name not in text and tenant.cbo.name not in text
    assert "(555) 010-2323" not in text and tenant.hco.name not in text


def test_do_not_contact_tells_the_client_to_call(client, login, tenant):
    referral = referral_for(tenant, do_not_contact=True)
    login(tenant.hco_navigator)
    body = client.get(summary_url(referral, "en")).content.decode()
    assert f"{tenant.cbo.name} will not contact you first." in body
    assert "will call you at" not in body


def test_the_read_is_audited(client, login, tenant, referral):
    login(tenant.hco_navigator)
    before = AuditEvent.objects.count()
    client.get(summary_url(referral, "es"))
    event = AuditEvent.objects.order_by("id")[before:].get()
    assert event.action == AuditEvent.Action.PRINT
    assert event.object_type == "referral" and event.object_ids == [referral.pk]
    assert (event.actor, event.organization) == (tenant.hco_navigator, tenant.hco)
    assert list(event.clients.values_list("client_id", flat=True)) == [tenant.client.pk]
    assert event.detail == {"categories": ["demographics", "referrals", "social_needs"]}


def test_another_organization_gets_404(client, login, tenant, foreign_tenant, referral):
    login(foreign_tenant.hco_navigator)
    assert client.get(summary_url(referral)).status_code == 404
    # A third organization of the same network, party to nothing, too.
    outsider = member(tenant.backbone)
    login(outsider)
    assert client.get(summary_url(referral)).status_code == 404
    assert client.post(reverse("referral_summary_send", args=[referral.pk])).status_code == 404


def test_summary_text_is_short_and_says_what_where_next_and_who(tenant, referral):
    english = summary_text(referral, organization=tenant.hco, language="en")
    spanish = summary_text(referral, organization=tenant.hco, language="es")
    assert english == (
        f"Your referral: {referral.program.name} at {tenant.cbo.name}. They will answer by "
        f"March 5, 2026. Call (555) 010-4242. - {tenant.hco.name}"
    )
    assert spanish.startswith(f"Su referencia: {referral.program.name} en {tenant.cbo.name}.")
    assert "5 de marzo de 2026" in spanish
    for text in (english, spanish):
        assert len(text) <= TEXT_LIMIT
        assert tenant.client.given_name not in text and "(555) 010-7777" not in text


def test_summary_text_stays_short_with_long_names(tenant):
    program = ProgramFactory(organization=tenant.cbo, name=("Community Pantry " * 12).strip()[:200])
    referral = referral_for(tenant, program=program)
    text = summary_text(referral, organization=tenant.hco, language="es")
    assert len(text) <= TEXT_LIMIT
    assert "Se comunicarán con usted pronto." in text or "responderán" in text


def test_text_this_summary_queues_an_outreach_message(client, login, tenant, referral):
    login(tenant.hco_navigator)
    with mock.patch("referrals.views.summary.message_queue") as queue:
        queue.return_value = object()
        response = client.post(reverse("referral_summary_send", args=[referral.pk]), {"lang": "es"})
    assert response.status_code == 302
    assert response["Location"].endswith("?lang=es")
    kwargs = queue.call_args.kwargs
    assert kwargs["kind"] == "summary" and kwargs["referral"] == referral
    assert kwargs["client"] == tenant.client and kwargs["organization"] == tenant.hco
    assert kwargs["user"] == tenant.hco_navigator
    assert kwargs["context"] == {
        "text": summary_text(referral, organization=tenant.hco, language="es")
    }
    page = client.get(response["Location"]).content.decode()
    assert "El resumen se enviará al cliente" in page


def test_refused_text_says_so(client, login, tenant, referral):
    login(tenant.hco_navigator)
    with mock.patch("referrals.views.summary.message_queue", return_value=None):
        response = client.post(reverse("referral_summary_send", args=[referral.pk]), follow=True)
    assert "The summary was not sent" in response.content.decode()


def test_text_this_summary_stores_the_summary_as_the_text_the_client_gets(
    client, login, tenant, referral
):
    """Not mocked: outreach queues a text whose words are the summary's own (in the chosen
    language), followed by how to stop texts."""
    from outreach.models import Message
    from tests.outreach.conftest import texting_preference

    texting_preference(tenant.client, tenant.hco_navigator, tenant.hco, language="es")
    login(tenant.hco_navigator)
    response = client.post(reverse("referral_summary_send", args=[referral.pk]), {"lang": "es"})
    assert response.status_code == 302
    message = Message.objects.get(referral=referral, kind="summary")
    text = summary_text(referral, organization=tenant.hco, language="es")
    assert message.body.startswith(text)
    assert message.body.endswith("Responda STOP para dejar de recibir mensajes.")
