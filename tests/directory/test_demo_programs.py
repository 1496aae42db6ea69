"""The demo network's directory: every CBO runs 1 to 3 programs; one is full."""

import io

import pytest
from django.core.management import call_command

from directory.models import Program
from directory.selectors import directory_programs
from organizations.models import Organization

pytestmark = pytest.mark.django_db


def test_seed_demo_lists_programs_for_every_cbo_once(settings, demo_network):
    settings.DEBUG = True
    for cbo in Organization.objects.filter(kind=Organization.Kind.CBO):
        assert 1 <= cbo.programs.count() <= 3, cbo.name
        for program in cbo.programs.all():
            assert program.categories.exists() and program.phone and program.intake
    backbone = Organization.objects.get(kind=Organization.Kind.BACKBONE)
    states = {p.name: p.capacity_state for p in directory_programs(backbone)}
    assert states["Rapid Rehousing"] == "waitlist"
    assert list(states.values()).count("capacity") == len(states) - 1

    count = Program.objects.count()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    assert Program.objects.count() == count
