"""Refusals and misses are pages a person understands, in the site's layout."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_refused_page_says_why_in_the_layout(tenant, login):
    c = login(tenant.hco_navigator)
    response = c.get("/api/keys/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Your role does not allow this." in html
    assert "Back to your dashboard" in html
    assert "Sign out" in html  # the site's header, not a bare error page


def test_a_missing_record_is_a_plain_not_found_page(tenant, login):
    c = login(tenant.hco_navigator)
    response = c.get("/clients/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here you can see" in html
    assert "Traceback" not in html and "999999" not in html
