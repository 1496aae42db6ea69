"""One table of expectations, run against every face that shows a referral.

The clinic (the referral's author) sends a referral to the food bank, notes it and cancels
it with a reason that names a psychiatric admission; the food bank put it on hold with a
reason of its own. Then the food bank's release is put in each state. What the food bank
may see of what the clinic recorded is `consent.policy`'s answer — and every face (the
referral page with its timeline and notes, the release's print view, REST detail, list and
notes, FHIR Task and ServiceRequest read and search, webhook payloads, notifications) must
give the same answer. The clinic always sees what it recorded; a same-network stranger
sees nothing at all; the food bank always sees its own hold reason and the status.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.services import api_key_create
from consent.models import Release
from interop.webhooks.payloads import Event, webhook_payload
from organizations.roles import Role
from referrals.models import Notification, Referral
from referrals.services import referral_note_add, referral_transition
from tests.consent.matrix import FACE_CHECKS
from tests.factories import ClientFactory, OrganizationFactory, member, referral_for, release_for

pytestmark = pytest.mark.django_db

NOW = "2031-03-12 10:00:00-05:00"  # a Wednesday

REASON = "Sender-note-QX7 for the pantry"
CANCEL = "Cancelled-QX7: psychiatric admission"
CLINIC_NOTE = "Clinic-note-QX7 about the family"
HOLD = "Hold-QX7 until the pantry restocks"  # the food bank's own words
CLINIC_SECRETS = (REASON, CANCEL, CLINIC_NOTE)

# Recipient types for the food bank (the receiving party):
# named / all_partners: the release names it, or all active partners (it is one);
# narrower: a release naming it that covers demographics only (no referral details);
# part2: a release naming it for substance-use-disorder records only.
RECIPIENTS = ["named", "all_partners", "narrower", "part2"]
STATES = ["active", "expired", "revoked", "not yet effective"]
CASES = [(r, s) for r in RECIPIENTS for s in STATES]


def sees_details(recipient: str, state: str) -> bool:
    return state == "active" and recipient in {"named", "all_partners"}


class Scenario:
    def __init__(self, tenant, recipient: str, state: str, capture):
        self.tenant = tenant
        self.capture = capture
        t = tenant
        self.client_record = ClientFactory(
            created_by_organization=t.hco,
            created_by=t.hco_navigator,
            given_name="Quillon",
            family_name="Matrixdottir",
        )
        # Sent under a release naming the food bank for what a referral carries.
        self.release = release_for(
            self.client_record,
            organization=t.hco,
            recipients=[t.cbo],
            categories=("demographics", "social_needs", "referrals"),
            captured_by=t.hco_navigator,
            esignature_name="Quillon Signer-QX7",
        )
        self.referral = referral_for(
            t, client=self.client_record, reason=REASON, sender_user=t.hco_navigator
        )
        self._move("accept", t.cbo_staff, t.cbo)
        self._move("hold", t.cbo_staff, t.cbo, reason=HOLD)
        with capture(execute=True):
            referral_note_add(
                referral=self.referral,
                author=t.hco_navigator,
                organization=t.hco,
                body=CLINIC_NOTE,
            )
        self._move("cancel", t.hco_navigator, t.hco, reason=CANCEL)
        self.referral.refresh_from_db()
        self._set_release(recipient, state)
        self.stranger = OrganizationFactory(network=t.network, name="Stranger Pantry")
        self.stranger_staff = member(self.stranger, Role.STAFF, email="stranger@matrix.test")

    def _move(self, move, actor, org, **fields):
        # Commit callbacks run: notifications are emailed as in production.
        with self.capture(execute=True):
            referral_transition(
                referral_id=self.referral.pk, move=move, actor=actor, organization=org, **fields
            )

    def _set_release(self, recipient: str, state: str) -> None:
        now = timezone.now()
        fields: dict = {}
        if recipient == "all_partners":
            self.release.recipients.clear()
            fields["all_network_partners"] = True
        elif recipient == "narrower":
            fields.update(covers_social_needs=False, covers_referrals=False)
        elif recipient == "part2":
            fields.update(
                covers_demographics=False,
                covers_social_needs=False,
                covers_referrals=False,
                covers_sud=True,
            )
        fields.update(
            {
                "active": {},
                "expired": {
                    "effective_at": now - timedelta(days=400),
                    "expires_at": now - timedelta(days=1),
                },
                "revoked": {"revoked_at": now - timedelta(minutes=5)},
                "not yet effective": {
                    "effective_at": now + timedelta(days=2),
                    "expires_at": now + timedelta(days=300),
                },
            }[state]
        )
        Release.objects.filter(pk=self.release.pk).update(**fields)
        self.release.refresh_from_db()
        assert self.release.status_at(now) == state

    def api(self, org) -> APIClient:
        _key, raw = api_key_create(organization=org, role=Role.NAVIGATOR, name="EHR")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return api


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _text(response) -> str:
    return response.content.decode()


def _assert_shown(body: str, shown: bool, secrets=CLINIC_SECRETS) -> None:
    for secret in secrets:
        assert (secret in body) is shown, (secret, shown)


@pytest.mark.parametrize(("recipient", "state"), CASES)
def test_every_face_gives_the_policy_answer(
    tenant, login, client, frozen, recipient, state, django_capture_on_commit_callbacks
):
    s = Scenario(tenant, recipient, state, django_capture_on_commit_callbacks)
    r = s.referral
    expected = sees_details(recipient, state)
    faces = 0

    # HTML: the referral page (summary, timeline, notes).
    login(tenant.cbo_staff)
    page = client.get(f"/referrals/{r.pk}/")
    assert page.status_code == 200
    body = _text(page)
    _assert_shown(body, expected)
    assert HOLD in body  # its own words, whatever the release
    assert "Cancelled" in body  # the status, always
    assert ('data-testid="withheld"' in body) is (not expected)
    faces += 1

    # HTML: the release's detail and print view name the signer only with demographics.
    names = recipient in {"named", "all_partners", "narrower"} and state == "active"
    for path in (f"/releases/{s.release.pk}/print/", f"/releases/{s.release.pk}/"):
        release_page = client.get(path)
        if recipient == "all_partners":
            # The food bank is no longer named: the release is not its to read.
            assert release_page.status_code == 404
            continue
        assert release_page.status_code == 200
        assert ("Signer-QX7" in _text(release_page)) is names, path
        faces += 1

    # REST: detail, list, notes.
    api = s.api(tenant.cbo)
    detail = api.get(f"/api/v1/referrals/{r.pk}/")
    assert detail.status_code == 200
    _assert_shown(_text(detail), expected, (REASON, CANCEL))
    data = detail.json()
    assert data["status"] == "cancelled"
    assert (data["reason"] == REASON) is expected
    assert bool(data["needs"]) is expected or recipient in {"named", "all_partners"}
    assert ("reason" in data["withheld"]) is (not expected)
    listing = api.get("/api/v1/referrals/", {"client": s.client_record.pk})
    assert listing.status_code == 200
    _assert_shown(_text(listing), expected, (REASON, CANCEL))
    notes = api.get(f"/api/v1/referrals/{r.pk}/notes/")
    assert notes.status_code == 200
    _assert_shown(_text(notes), expected, secrets=(CLINIC_NOTE,))
    faces += 3

    # FHIR: Task and ServiceRequest, read and search.
    fhir = {"HTTP_ACCEPT": "application/fhir+json"}
    # (The Task carries the status reason; the ServiceRequest the note for the receiver.)
    for kind, words in (("Task", (CANCEL,)), ("ServiceRequest", (REASON,))):
        read = api.get(f"/fhir/r4/{kind}/{r.pk}", **fhir)
        assert read.status_code == 200, kind
        _assert_shown(_text(read), expected, words)
        _assert_shown(_text(read), False, (CLINIC_NOTE,))
        found = api.get(f"/fhir/r4/{kind}", {"_id": str(r.pk)}, **fhir)
        assert found.status_code == 200
        assert f'"id":"{r.pk}"' in _text(found).replace(" ", "")
        _assert_shown(_text(found), expected, words)
        faces += 2

    # Webhook payload (with the FHIR Task): never free text, details as the policy says.
    event = Event(
        key="status-1", type="status", occurred_at=timezone.now(), referral=r, status=r.status
    )
    payload = webhook_payload(event, organization=tenant.cbo, include_task=True)
    _assert_shown(json.dumps(payload), False)
    assert ("fhir_task" in payload) is expected
    faces += 1

    # Notifications and emails to the food bank carry codes, never the clinic's words.
    messages = " ".join(
        Notification.objects.filter(user__memberships__organization=tenant.cbo).values_list(
            "message", flat=True
        )
    )
    mailed = " ".join(m.subject + m.body for m in mail.outbox if tenant.cbo_staff.email in m.to)
    assert messages and mailed  # the cancel was told, by notification and by email
    _assert_shown(messages + mailed, False)
    faces += 1

    # The author sees all it recorded on every face; a same-network stranger sees nothing.
    clinic_api = s.api(tenant.hco)
    _assert_shown(_text(clinic_api.get(f"/api/v1/referrals/{r.pk}/")), True, (REASON, CANCEL))
    _assert_shown(_text(clinic_api.get(f"/fhir/r4/Task/{r.pk}", **fhir)), True, (CANCEL,))
    stranger_api = s.api(s.stranger)
    assert stranger_api.get(f"/api/v1/referrals/{r.pk}/").status_code == 404
    assert stranger_api.get(f"/fhir/r4/Task/{r.pk}", **fhir).status_code == 404
    stranger_browser = login(s.stranger_staff, Client())
    assert stranger_browser.get(f"/referrals/{r.pk}/").status_code == 404
    assert faces >= 10
    FACE_CHECKS.update(cells=1, faces=faces)


def test_the_receiver_keeps_its_own_coded_outcome_but_not_the_senders_words(tenant, frozen):
    """Provenance on a completed referral: the food bank recorded the outcome (it sees it
    after the release ends); the clinic's reason is withheld from it."""
    t = tenant
    client_record = ClientFactory(created_by_organization=t.hco, created_by=t.hco_navigator)
    release = release_for(
        client_record,
        organization=t.hco,
        recipients=[t.cbo],
        categories=("demographics", "social_needs", "referrals"),
        captured_by=t.hco_navigator,
    )
    referral = referral_for(t, client=client_record, reason=REASON)
    for move, fields in (("accept", {}), ("complete", {"outcome": "need-met"})):
        referral_transition(
            referral_id=referral.pk,
            move=move,
            actor=t.cbo_staff,
            organization=t.cbo,
            outcome_note="Two boxes" if move == "complete" else "",
            **fields,
        )
    Release.objects.filter(pk=release.pk).update(revoked_at=timezone.now())
    referral = Referral.objects.get(pk=referral.pk)
    event = Event(
        key="status-9",
        type="status",
        occurred_at=timezone.now(),
        referral=referral,
        status="completed",
    )
    payload = webhook_payload(event, organization=t.cbo, include_task=True)
    assert payload["referral"]["outcome"] == "need-met"
    assert "fhir_task" not in payload
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + api_key_create(organization=t.cbo, role=Role.NAVIGATOR, name="x")[1]
    )
    data = api.get(f"/api/v1/referrals/{referral.pk}/").json()
    assert data["outcome_note"] == "Two boxes"
    assert data["reason"] == ""
    assert set(data["withheld"]) >= {"reason", "needs"}
