import pytest


@pytest.fixture(autouse=True)
def _sweep_unthrottled(settings):
    # A sweep makes more requests as one user or key than the per-minute rate allows (the
    # throttle has tests of its own: tests/api/test_keys.py); a 429 would hide a leak.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/min"},
    }


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # The probes file an agreement (a partnership document): not in the checkout's media/.
    settings.MEDIA_ROOT = tmp_path
