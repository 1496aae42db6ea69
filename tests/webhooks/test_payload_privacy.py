"""Webhook and FHIR subscription payloads, posted to a real HTTP receiver on 127.0.0.1,
carry ids, codes and statuses only: no one's free text (a decline's explanation, a cancel
reason, a note), also inside the FHIR Task an endpoint asked for — and after the release
ends, the Task only goes to whom the consent policy still shows the details."""

from __future__ import annotations

import pytest
from django.utils import timezone

from consent.models import Release

from .test_subscriptions import key_client, subscription_body

pytestmark = pytest.mark.django_db

DECLINE = "Declined-ZK4: the mother was admitted to a psychiatric ward"
CANCEL = "Cancel-ZK4: moved to a treatment program"
NOTE = "Note-ZK4 about the family"


def bodies(receiver, path: str) -> str:
    return " ".join(post.body.decode() for post in receiver.posts(path))


def test_no_free_text_reaches_any_receiver(tenant, flow, make_endpoint, receiver):
    make_endpoint(tenant.hco, path="/hco", include_fhir_task=True)
    make_endpoint(tenant.cbo, path="/cbo", include_fhir_task=True)
    for org, path in ((tenant.hco, "/hco-sub"), (tenant.cbo, "/cbo-sub")):
        made = key_client(org).post(
            "/fhir/r4/Subscription",
            subscription_body(receiver.url(path)),
            format="json",
            HTTP_ACCEPT="application/fhir+json",
        )
        assert made.status_code == 201, made.content
    declined = flow.send()
    flow.move(declined, "reject", decline_reason="other", reason=DECLINE)
    cancelled = flow.send(reason="Sender's words")
    flow.note(cancelled, NOTE)
    flow.move(cancelled, "cancel", reason=CANCEL)

    for path in ("/hco", "/cbo", "/hco-sub", "/cbo-sub"):
        sent = bodies(receiver, path)
        assert sent, f"nothing reached {path}"
        for words in (DECLINE, CANCEL, NOTE, "Sender's words"):
            assert words not in sent, (path, words)
    # The Task went along, with the coded decline reason but not its explanation.
    hco_posts = [p.json() for p in receiver.posts("/hco")]
    tasks = [p["fhir_task"] for p in hco_posts if p["referral"]["status"] == "rejected"]
    assert tasks and tasks[-1]["statusReason"]["coding"][0]["code"] == "other"
    assert "text" not in tasks[-1]["statusReason"]


def test_after_revocation_the_receiver_gets_no_task(tenant, flow, make_endpoint, receiver):
    make_endpoint(tenant.cbo, path="/cbo", include_fhir_task=True)
    referral = flow.send()
    flow.move(referral, "accept")
    assert "fhir_task" in receiver.posts("/cbo")[-1].json()
    Release.objects.filter(pk=tenant.release.pk).update(revoked_at=timezone.now())
    flow.note(referral, NOTE)
    last = receiver.posts("/cbo")[-1].json()
    assert last["type"] == "referral.note_added"
    assert "fhir_task" not in last
    assert NOTE not in receiver.posts("/cbo")[-1].body.decode()
