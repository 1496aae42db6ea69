"""ReleaseForm: narrowed recipients and network defaults."""

from datetime import date

import pytest
import time_machine
from django.utils import timezone

from consent.forms import ReleaseForm, add_months
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_add_months_keeps_the_day_or_clamps_to_the_month_end():
    assert add_months(date(2026, 3, 10), 12) == date(2027, 3, 10)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 15), 2) == date(2027, 1, 15)


def test_recipients_are_the_active_organizations_of_the_clients_network(tenant, foreign_tenant):
    closed = OrganizationFactory(network=tenant.network, name="Closed Org", is_active=False)
    form = ReleaseForm(organization=tenant.hco, client=tenant.client, actor=tenant.hco_staff)
    choices = set(form.fields["recipients"].queryset)
    assert choices == {tenant.backbone, tenant.cbo}
    assert tenant.hco not in choices  # the capturing organization holds the record already
    assert closed not in choices
    assert foreign_tenant.cbo not in choices


@time_machine.travel(timezone.make_aware(timezone.datetime(2026, 8, 31, 10, 0)), tick=False)
def test_dates_default_to_today_and_the_networks_release_length(tenant):
    tenant.network.release_default_months = 6
    tenant.network.save()
    tenant.client.network.refresh_from_db()
    form = ReleaseForm(organization=tenant.hco, client=tenant.client, actor=tenant.hco_staff)
    assert form["effective_at"].value() == date(2026, 8, 31)
    assert form["expires_at"].value() == date(2027, 2, 28)


def test_language_defaults_to_the_clients_when_the_form_exists_in_it(tenant):
    tenant.client.preferred_language = "es"
    form = ReleaseForm(organization=tenant.hco, client=tenant.client, actor=tenant.hco_staff)
    assert form["language"].value() == "es"
    tenant.client.preferred_language = "vi"
    form = ReleaseForm(organization=tenant.hco, client=tenant.client, actor=tenant.hco_staff)
    assert form["language"].value() == "en"
