"""What systems send, seen in the browser (issue 14): contact details a system sent that
cannot be used are flagged to the people who may see the contact details (the browser's own
forms stay strict); the possible-duplicates queue shows each record as far as the consent
policy allows, audits what it shows, and lets only an organization that sees both records
say "not the same person"."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from clients.models import Client, PossibleDuplicate
from clients.services import client_lead_navigator_assign
from organizations.models import Membership
from organizations.roles import Role
from tests.clients.conftest import client_ids, events
from tests.clients.test_duplicates import record
from tests.clients.test_record_forms import edit_data
from tests.factories import ClientFactory, member, release_for

pytestmark = pytest.mark.django_db

NOTE = "The phone number the sender gave, 555-1234, cannot be dialled as is"
QUEUE = "/clients/duplicates/"


def _flagged(tenant) -> Client:
    """A record an EHR of the HCO sent with a seven-digit phone (as FHIR create leaves it)."""
    return ClientFactory(
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
        phone="555-1234",
        contact_problems={"phone": "555-1234"},
    )


def _queued(tenant, *, match, client=None) -> PossibleDuplicate:
    new = client or ClientFactory(
        created_by_organization=tenant.hco, created_by=tenant.hco_navigator, given_name="Newrec"
    )
    return PossibleDuplicate.objects.create(
        client=new,
        match=match,
        strength="possible",
        reason="Same given name, date of birth and ZIP",
        created_by_organization=tenant.hco,
        created_by=tenant.hco_navigator,
    )


def _lead(client_record, user) -> None:
    client_lead_navigator_assign(
        client=client_record, membership=Membership.objects.get(user=user), actor=user
    )


# --- contact details ------------------------------------------------------------------------


def test_the_browser_form_still_refuses_a_seven_digit_phone(client, login, tenant):
    login(tenant.hco_staff)
    before = Client.objects.count()
    response = client.post("/clients/new/", record(family_name="Nuevo", phone="555-1234"))
    assert response.status_code == 400
    assert "10-digit US phone number" in str(response.context["form"].errors["phone"])
    assert Client.objects.count() == before


def test_the_profile_flags_unusable_contact_details_to_who_may_see_them(client, login, tenant):
    flagged = _flagged(tenant)
    login(tenant.hco_staff)
    page = client.get(f"/clients/{flagged.pk}/").content.decode()
    assert 'data-testid="contact-problems"' in page and NOTE in page
    # An organization that may see the client's social needs but not the contact details
    # is not told the number either.
    release_for(
        flagged, organization=tenant.hco, recipients=[tenant.cbo], categories=("social_needs",)
    )
    client.logout()
    login(tenant.cbo_staff)
    response = client.get(f"/clients/{flagged.pk}/")
    assert response.status_code == 200
    assert "555-1234" not in response.content.decode()
    assert 'data-testid="contact-problems"' not in response.content.decode()


def test_a_person_fixing_the_phone_clears_the_flag(client, login, tenant):
    flagged = _flagged(tenant)
    login(tenant.hco_staff)
    # The edit form is the browser's: strict, so the number must be fixed to save.
    refused = client.post(f"/clients/{flagged.pk}/edit/", edit_data(flagged, city="Evanston"))
    assert refused.status_code == 400
    response = client.post(f"/clients/{flagged.pk}/edit/", edit_data(flagged, phone="312 555 1234"))
    assert response.status_code == 302
    flagged.refresh_from_db()
    assert (flagged.phone, flagged.contact_problems) == ("(312) 555-1234", {})
    assert NOTE not in client.get(f"/clients/{flagged.pk}/").content.decode()


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_shows_both_records_and_dismisses_with_confirmation(client, login, tenant):
    entry = _queued(tenant, match=tenant.client)
    login(tenant.hco_navigator)
    assert 'data-testid="duplicates-link"' in client.get("/clients/").content.decode()
    response = client.get(QUEUE)
    assert response.status_code == 200
    page = response.content.decode()
    assert tenant.client.family_name in page and entry.client.family_name in page
    assert "Same given name, date of birth and ZIP" in page
    assert f"/clients/duplicates/{entry.pk}/dismiss/" in page
    # Both records were shown: audited as the duplicate check audits what it shows.
    [shown] = events(action=AuditEvent.Action.SEARCH, object_type="client")
    assert client_ids(shown) == sorted([tenant.client.pk, entry.client_id])
    assert not events(action=AuditEvent.Action.DISCLOSE)

    # Without the confirmation tick nothing changes.
    unconfirmed = client.post(f"/clients/duplicates/{entry.pk}/dismiss/", follow=True)
    assert "Tick the box" in unconfirmed.content.decode()
    entry.refresh_from_db()
    assert entry.status == "open"

    done = client.post(f"/clients/duplicates/{entry.pk}/dismiss/", {"confirm": "yes"})
    assert done.status_code == 302
    entry.refresh_from_db()
    assert (entry.status, entry.resolved_by, entry.resolved_by_organization) == (
        "dismissed",
        tenant.hco_navigator,
        tenant.hco,
    )
    [event] = events(action=AuditEvent.Action.UPDATE, object_type="possible_duplicate")
    assert event.object_ids == [entry.pk]
    assert client_ids(event) == sorted([tenant.client.pk, entry.client_id])
    assert "No possible duplicates to review" in client.get(QUEUE).content.decode()


def test_a_record_the_reviewer_may_not_see_is_only_said_to_exist(client, login, tenant):
    # The food bank leads a client the clinic may not see; the clinic's EHR created a
    # record that may be the same person, which the food bank may not see.
    theirs = ClientFactory(
        created_by_organization=tenant.cbo, created_by=tenant.cbo_staff, family_name="Hidalgo"
    )
    cbo_nav = member(tenant.cbo, Role.NAVIGATOR, email="nav@cbo.test")
    _lead(theirs, cbo_nav)
    entry = _queued(tenant, match=theirs)

    login(cbo_nav)
    page = client.get(QUEUE).content.decode()
    assert "Hidalgo" in page
    assert entry.client.family_name not in page and f"#{entry.client_id}" not in page
    assert 'data-testid="hidden-record"' in page
    # Why they may be one person says something of the hidden record: not shown; nor may
    # the food bank decide.
    assert "Same given name" not in page and "/dismiss/" not in page
    [disclosed] = events(action=AuditEvent.Action.DISCLOSE)
    assert disclosed.object_ids == [entry.client_id]
    refused = client.post(
        f"/clients/duplicates/{entry.pk}/dismiss/", {"confirm": "yes"}, follow=True
    )
    assert "may not see both records" in refused.content.decode()
    entry.refresh_from_db()
    assert entry.status == "open"

    # The clinic holds the new record (no lead navigator yet): it is in its queue too, with
    # the food bank's record only said to exist, under its lead navigator's organization.
    client.logout()
    login(tenant.hco_navigator)
    page = client.get(QUEUE).content.decode()
    assert entry.client.family_name in page and "Hidalgo" not in page
    assert f"lead navigator: {tenant.cbo.name}" in page


def test_other_organizations_neither_see_nor_dismiss_an_entry(
    client, login, tenant, foreign_tenant, bystander_navigator
):
    entry = _queued(tenant, match=tenant.client)
    for outsider in (foreign_tenant.hco_navigator, bystander_navigator):
        client.logout()
        login(outsider)
        page = client.get(QUEUE).content.decode()
        assert tenant.client.family_name not in page and entry.client.family_name not in page
        response = client.post(f"/clients/duplicates/{entry.pk}/dismiss/", {"confirm": "yes"})
        assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.status == "open"
    # A member whose role cannot lead care coordination does not review duplicates.
    client.logout()
    login(tenant.hco_staff)
    assert client.get(QUEUE).status_code == 403
    assert 'data-testid="duplicates-link"' not in client.get("/clients/").content.decode()


def test_the_queue_follows_the_lead_navigators(tenant):
    new = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    entry = _queued(tenant, match=tenant.client, client=new)
    # Neither record has a lead navigator: the organization holding them reviews.
    assert list(PossibleDuplicate.objects.visible_to(tenant.hco)) == [entry]
    assert list(PossibleDuplicate.objects.visible_to(tenant.cbo)) == []
    # The food bank (which sees the client under the tenant's release) leads the existing
    # record: the entry is in its queue too.
    cbo_nav = member(tenant.cbo, Role.NAVIGATOR, email="nav@cbo.test")
    _lead(tenant.client, cbo_nav)
    assert list(PossibleDuplicate.objects.visible_to(tenant.cbo)) == [entry]
    assert list(PossibleDuplicate.objects.visible_to(tenant.hco)) == [entry]
    # Once it leads the new record as well, the clinic, which only created them, no longer
    # reviews the pair.
    release_for(new, organization=tenant.hco, recipients=[tenant.cbo])
    _lead(new, cbo_nav)
    assert list(PossibleDuplicate.objects.visible_to(tenant.hco)) == []
    assert list(PossibleDuplicate.objects.visible_to(tenant.cbo)) == [entry]
