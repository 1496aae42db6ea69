"""The network's public self-referral page: it lands in the backbone's queue; abuse does
not get through and writes nothing."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from audit.models import AuditEvent
from clients.models import Client
from consent.models import Release
from organizations.models import User
from referrals import public_views
from referrals.models import Referral
from referrals.public_forms import CHALLENGE_SALT

pytestmark = pytest.mark.django_db


def challenge(a: int = 2, b: int = 3, age: float = 30) -> str:
    return signing.dumps({"a": a, "b": b, "t": int(time.time() - age)}, salt=CHALLENGE_SALT)


def form(**changes) -> dict:
    data = {
        "needs": ["food-insecurity", "utility-insecurity"],
        "details": "Lost my job last month; two kids at home.",
        "given_name": "Rosalind",
        "family_name": "Quarrington",
        "date_of_birth": "1984-05-17",
        "contact_method": "text",
        "phone": "(312) 555-0142",
        "email": "",
        "language": "es",
        "agree": "on",
        "challenge": challenge(),
        "answer": "5",
        "website": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def counts() -> tuple[int, ...]:
    return (
        Client.objects.count(),
        Referral.objects.count(),
        Release.objects.count(),
        User.objects.count(),
        AuditEvent.objects.filter(action="create").count(),
    )


def url(tenant) -> str:
    return f"/help/{tenant.network.slug}/"


def test_a_self_referral_lands_in_the_backbones_queue(tenant, client, login):
    response = client.post(url(tenant), form())
    assert response.status_code == 302
    assert response["Location"] == f"/help/{tenant.network.slug}/sent/?lang=en"
    assert "Rosalind" not in response["Location"] and "3125550142" not in response["Location"]

    referral = Referral.objects.get(source=Referral.Source.SELF)
    assert referral.receiver_organization == tenant.backbone
    assert referral.sender_organization is None  # the person is the sender
    assert referral.external_sender == "Self-referral"
    assert referral.program is None  # the backbone's intake queue: it routes it
    assert referral.status == Referral.Status.REQUESTED
    assert sorted(n.code for n in referral.needs.all()) == [
        "food-insecurity",
        "utility-insecurity",
    ]
    assert "Contact by text message ((312) 555-0142)" in referral.reason
    assert "Lost my job last month" in referral.reason
    person = referral.client
    assert (person.given_name, person.family_name) == ("Rosalind", "Quarrington")
    assert person.created_by_organization == tenant.backbone
    assert person.preferred_language == "es"
    assert not person.created_by.has_usable_password()  # the page's service user
    release = Release.objects.get(client=person)
    assert release.all_network_partners
    assert set(release.categories) == {"demographics", "social_needs", "referrals"}
    assert release.method == Release.Method.ESIGNATURE
    assert release.esignature_name == "Rosalind Quarrington"
    assert release.staff_present is None
    assert release.language == "es"

    # The backbone's staff see it in their inbox.
    login(tenant.backbone_admin)
    inbox = client.get("/referrals/inbox/").content.decode()
    assert f"/referrals/{referral.pk}/" in inbox


def test_the_confirmation_says_what_happens_next(tenant, client):
    client.post(url(tenant), form(contact_method="phone"))
    sent = client.get(f"/help/{tenant.network.slug}/sent/?lang=en").content.decode()
    assert f"{tenant.backbone.name} will call you within 2 business days." in sent


def test_a_211_line_on_the_persons_behalf_relays_verbal_consent(tenant, client):
    data = form(helper="on", helper_name="Ana at Riverbend 211", contact_method="email")
    data["email"] = "rosalind@example.test"
    assert client.post(url(tenant), data).status_code == 302
    referral = Referral.objects.get(source=Referral.Source.SELF)
    assert referral.external_sender == "Self-referral (211 or a helper)"
    release = Release.objects.get(client=referral.client)
    assert release.method == Release.Method.VERBAL
    assert release.verbal_witness_name == "Ana at Riverbend 211"
    assert referral.client.email == "rosalind@example.test"
    assert referral.client.phone == ""


def test_the_page_speaks_spanish_when_the_browser_asks(tenant, client):
    page = client.get(url(tenant), HTTP_ACCEPT_LANGUAGE="es")
    body = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Language"] == "es"
    assert '<html lang="es">' in body
    assert "Autorización para compartir información" in body  # the release, in Spanish
    english = client.get(url(tenant) + "?lang=en", HTTP_ACCEPT_LANGUAGE="es")
    assert "Authorization to share information" in english.content.decode()


def test_an_unknown_network_has_no_page(client, db):
    assert client.get("/help/no-such-network/").status_code == 404


# --- Abuse: each refusal is a clear 4xx and writes nothing -----------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answer": "6"}, "That answer is not right."),
        ({"challenge": lambda: challenge(a=9)[:-2] + "xx"}, "The question expired or was"),
        ({"challenge": lambda: challenge(age=3 * 60 * 60)}, "The question expired or was"),
        ({"challenge": lambda: challenge(age=0)}, "The form was sent too quickly."),
        ({"website": "http://spam.example"}, "Please leave the last field empty."),
        ({"agree": None}, "Tick the box to agree to the release"),
        ({"phone": ""}, "Give the phone number to use."),
        ({"needs": []}, "Choose at least one thing you need help with."),
    ],
    ids=[
        "wrong-answer",
        "tampered",
        "expired",
        "too-fast",
        "honeypot",
        "no-agreement",
        "no-phone",
        "no-need",
    ],
)
def test_refusals_write_nothing(tenant, client, changes, message):
    # Challenges are made when the test runs (their age matters), not when it is collected.
    changes = {k: v() if callable(v) else v for k, v in changes.items()}
    before = counts()
    response = client.post(url(tenant), form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert counts() == before


def test_a_refused_form_asks_a_new_question(tenant, client):
    response = client.post(url(tenant), form(answer="6"))
    body = response.content.decode()
    old = form()["challenge"]
    assert 'name="challenge"' in body and old not in body
    assert 'name="answer" value="6"' not in body


def test_one_address_is_limited(tenant, client):
    limit = int(public_views.RATE_SUBMIT.split("/")[0])
    for _ in range(limit):
        assert client.post(url(tenant), form(answer="6")).status_code == 400
    before = counts()
    limited = client.post(url(tenant), form())
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode()
    assert counts() == before
    # Another address still gets through.
    assert client.post(url(tenant), form(), REMOTE_ADDR="198.51.100.20").status_code == 302


def test_nothing_personal_reaches_the_logs(tenant, client, caplog):
    caplog.set_level("DEBUG")
    assert client.post(url(tenant), form(answer="6")).status_code == 400
    assert client.post(url(tenant), form()).status_code == 302
    assert caplog.records
    for secret in ("Rosalind", "Quarrington", "555-0142", "5550142", "1984-05-17"):
        assert secret not in caplog.text
