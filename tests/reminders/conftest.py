from __future__ import annotations

import pytest
import time_machine

from .support import START, build_world


@pytest.fixture
def world(tenant):
    return build_world(tenant)


@pytest.fixture
def clock(world):
    """Frozen at START (a Monday 9:00); move it with `clock.move_to(...)`."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller
