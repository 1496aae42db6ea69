"""The staff pages: a client's contact preferences and delivery log (tenant-scoped, audited),
the message templates in English and Spanish, and the pieces other pages include."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from audit.models import AuditEvent
from outreach.models import ClientReport, ContactPreference, InboundMessage, Message
from outreach.services import message_queue
from tests.factories import referral_for

from .conftest import CLIENT_PHONE

pytestmark = pytest.mark.django_db


def contact_url(world) -> str:
    return reverse("outreach_contact", args=[world.client.pk])


def log_url(world) -> str:
    return reverse("outreach_delivery_log", args=[world.client.pk])


def reads_of(world, user) -> int:
    return AuditEvent.objects.filter(
        action="view", object_type="client", actor=user, clients__client_id=world.client.pk
    ).count()


# --- contact preferences ----------------------------------------------------------------------


def test_staff_see_and_change_how_the_client_is_reached(world, client, login):
    ContactPreference.objects.all().delete()
    nav = world.tenant.hco_navigator
    login(nav)
    page = client.get(contact_url(world))
    assert page.status_code == 200
    assert reads_of(world, nav) == 1

    response = client.post(
        contact_url(world),
        {
            "channel": "text",
            "phone": "(555) 555-0100",
            "language": "es",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "texts_opt_in": "on",
            "opt_in_method": "written",
        },
    )
    assert response.status_code == 302
    preference = ContactPreference.objects.get(client=world.client)
    assert (preference.channel, preference.phone, preference.language) == (
        "text",
        CLIENT_PHONE,
        "es",
    )
    # The opt-in, with who, when and how.
    assert preference.texts_allowed
    assert preference.text_opt_in_method == "written"
    assert preference.text_opt_in_by == nav
    assert preference.text_opt_in_organization == world.tenant.hco
    change = AuditEvent.objects.get(action="update", object_type="contact_preference")
    assert "text_opt_in" in change.detail["fields"] and "phone" in change.detail["fields"]
    assert CLIENT_PHONE not in str(change.detail)

    page = client.get(contact_url(world))
    assert "Agreed to texts on" in page.content.decode()

    # Unticking the agreement is an opt-out.
    client.post(contact_url(world), {"channel": "email", "email": "c@mail.test"})
    preference.refresh_from_db()
    assert not preference.texts_allowed and preference.text_opt_out_at is not None


def test_the_form_says_what_is_missing(world, client, login):
    login(world.tenant.hco_navigator)
    response = client.post(
        contact_url(world),
        {"channel": "text", "phone": "123", "quiet_start": "21:00", "email": ""},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Enter a 10-digit US phone number" in text
    assert "Give both the start and the end of the quiet hours." in text
    response = client.post(contact_url(world), {"channel": "email"})
    assert "Enter the email address to write to." in response.content.decode()
    ContactPreference.objects.all().delete()
    response = client.post(
        contact_url(world), {"channel": "text", "phone": "(555) 555-0100", "texts_opt_in": "on"}
    )
    assert response.status_code == 400
    assert "Say how the client agreed to texts." in response.content.decode()
    assert not ContactPreference.objects.exists()


def test_do_not_contact_is_set_from_the_page(world, client, login):
    login(world.tenant.hco_navigator)
    client.post(
        contact_url(world),
        {"channel": "text", "phone": CLIENT_PHONE, "texts_opt_in": "on", "do_not_contact": "on"},
    )
    preference = ContactPreference.objects.get(client=world.client)
    assert preference.do_not_contact and preference.do_not_contact_at is not None
    assert "Do not contact (safety)" in client.get(contact_url(world)).content.decode()
    assert (
        message_queue(client=world.client, organization=world.tenant.cbo, kind="reminder") is None
    )


@pytest.mark.parametrize("url", [contact_url, log_url])
def test_other_tenants_get_404(world, client, login, foreign_tenant, neighbour, url):
    for outsider in (foreign_tenant.hco_navigator, neighbour.staff):
        login(outsider)
        assert client.get(url(world)).status_code == 404
        assert client.post(url(world), {"channel": "none"}).status_code in (404, 405)
    assert ContactPreference.objects.get().channel == "text"


# --- the delivery log --------------------------------------------------------------------------


def test_the_delivery_log_lists_every_message_and_reply(
    world, twilio, client, login, django_capture_on_commit_callbacks
):
    from .conftest import inbound

    with django_capture_on_commit_callbacks(execute=True):
        referral = referral_for(world.tenant, program=world.program)
        inbound(client, "HELP")
    world.preference.do_not_contact = True
    world.preference.save()
    message_queue(client=world.client, organization=world.tenant.cbo, kind="reminder")

    login(world.tenant.cbo_staff)
    page = client.get(log_url(world))
    assert page.status_code == 200
    text = page.content.decode()
    sent = Message.objects.get(kind="referral_sent", referral=referral)
    assert sent.body in text
    assert "From the client" in text and "HELP" in text
    assert "Do not contact (safety): no messages of any kind." in text  # the skipped one
    assert text.count('data-testid="log-row"') == 4  # sent, HELP, its answer, the skipped
    assert reads_of(world, world.tenant.cbo_staff) == 1
    assert InboundMessage.objects.count() == 1


def test_words_about_another_organization_s_referral_are_withheld(world, client, login):
    # A message about a referral between the CBO and a third party is not the HCO's to read
    # unless a release lets the HCO see referral details (it created the record only).
    from tests.factories import OrganizationFactory

    other = OrganizationFactory(network=world.tenant.network, name="Elsewhere Pantry")
    Message.objects.create(
        key="elsewhere",
        client=world.client,
        organization=other,
        kind="reminder",
        channel="sms",
        body="Reminder: your appointment with Elsewhere Pantry is on Friday.",
    )
    login(world.tenant.hco_navigator)
    text = client.get(log_url(world)).content.decode()
    assert "Elsewhere Pantry is on Friday" not in text
    assert "Not shown: it concerns another organization" in text


# --- the templates page ----------------------------------------------------------------------


def test_an_org_admin_reads_every_template_in_english_and_spanish(world, client, login, spanish):
    login(world.tenant.hco_admin)
    page = client.get(reverse("outreach_templates"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Riverbend Food Bank will call you within 2 business days from (555) 010-0123." in text
    assert "Riverbend Food Bank le llamará en un plazo de 2 días hábiles" in text
    assert "Did you get the help you needed? Reply 1 yes / 2 partly / 3 no" in text
    assert "¿Recibió la ayuda que necesitaba? Responda 1 sí / 2 en parte / 3 no" in text
    assert text.count('data-testid="template-row"') >= 20


def test_staff_without_the_admin_role_cannot_open_the_templates_page(world, client, login):
    login(world.tenant.hco_staff)
    assert client.get(reverse("outreach_templates")).status_code == 403


# --- the includes -----------------------------------------------------------------------------


def test_the_client_panel_include(world, rf):
    html = render_to_string(
        "outreach/_client_panel.html", {"client": world.client, "shows_demographics": True}
    )
    assert "texts agreed" in html and contact_url(world) in html and log_url(world) in html
    hidden = render_to_string(
        "outreach/_client_panel.html", {"client": world.client, "shows_demographics": False}
    )
    assert hidden.strip() == ""


def test_the_client_report_include(world, django_capture_on_commit_callbacks):
    referral = referral_for(world.tenant, program=world.program)
    ClientReport.objects.create(referral=referral, client=world.client, answer="no")
    html = render_to_string("outreach/_client_reports.html", {"referral": referral})
    assert "The client's own report:" in html and "No (" in html
