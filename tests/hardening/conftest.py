"""The API and FHIR personas of tests/api and tests/fhir, for the hardening tests."""

from tests.api.conftest import bearer, hco_api, make_key  # noqa: F401
from tests.fhir.conftest import fhir_for, hco_fhir  # noqa: F401
