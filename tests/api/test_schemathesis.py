"""Schemathesis (property-based tests generated from the OpenAPI schema) against the API.

Requests go to the Django WSGI application in-process, inside the test's transaction, as a
generated client would send them: for every operation the coverage phase (boundary values,
wrong types, missing fields, for each parameter and body field, deterministic) and a bounded
fuzzing phase, then a stateful run that chains operations through the links Schemathesis
infers (ids from one response used in the next request: a listed referral read, accepted,
completed, its notes read; a created release read, revoked). Every response
must be no server error, with a status code, content type and headers the schema documents
and a body that matches the schema for that status.

Path ids are a mix of generated numbers (mostly 404) and the ids of the tenant's real objects,
so the success paths run too. Each request carries the API key of the HCO or of the CBO,
picked from the request's content (the same request always goes with the same key, so a
failing example replays) and a fresh `Idempotency-Key` on POST. The data are built once
for the module; every example runs in a savepoint rolled back after it.

The schema is loaded at import, as `schema.parametrize()` needs it at collection
(`schemathesis.pytest.from_fixture` does not work with pytest 9: it sets `node._nodeid`).
"""

from __future__ import annotations

import copy
import itertools
import json
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.http import JsonResponse
from django.test import override_settings
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.openapi.checks import JsonSchemaError, UndefinedStatusCode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.serializers.referrals import USER_MOVES
from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke
from organizations.roles import Role
from referrals.models import Notification
from referrals.services import referral_note_add, referral_transition
from tests.conftest import Tenant, build_tenant
from tests.factories import (
    ClientFactory,
    ProgramFactory,
    assessment_for,
    referral_for,
    referral_program,
    release_for,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261202,
        # Derandomized, no example database: the same requests on every run and machine.
        "generation": {"max-examples": 12, "deterministic": True, "database": "none"},
        # 405 for an undeclared method is DRF's own answer on every route: not worth ~250
        # more requests.
        "phases": {"coverage": {"unexpected-methods": []}},
        "operations": [
            {
                # The moves share one view and one body serializer: wrong types and missing
                # fields are tried on `accept`; the others get the valid bodies.
                "include-path": [
                    f"/api/v1/referrals/{{referral_id}}/{move}/"
                    for move in USER_MOVES
                    if move != "accept"
                ],
                "phases": {"coverage": {"generation": {"mode": "positive"}}},
            }
        ],
    }
)


def _document() -> dict:
    """The schema as /api/schema/ serves it (test_served_schema_is_the_one_tested checks),
    generated here because collection runs without a database and the view is atomic."""
    generator = SchemaGenerator()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=CONFIG)
schema.app = WSGIHandler()

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Filled by the `api_world` fixture: the strategies below read them when drawing.
KNOWN_IDS: dict[str, list[int]] = {}
KEYS: dict[str, str] = {}
CALLERS = ("hco", "cbo")
_idempotency_keys = itertools.count(1)


@schema.hook
def before_generate_path_parameters(context, strategy):
    """Real ids of the tenant's objects, or whatever the schema allows (mostly 404)."""
    names = [parameter.name for parameter in context.operation.path_parameters]
    if not names:
        return strategy
    real = st.fixed_dictionaries(
        {name: st.integers(0, 15).map(lambda i, name=name: _known(name, i)) for name in names}
    )
    return st.one_of(real, strategy)


def _known(name: str, index: int) -> int:
    ids = KNOWN_IDS.get(name) or [0]
    return ids[index % len(ids)]


def caller_of(case) -> str:
    """ "hco" or "cbo", a function of the request alone (stable across runs and replays)."""
    body = None if isinstance(case.body, NotSet) else case.body
    content = json.dumps([case.path_parameters, case.query, body], sort_keys=True, default=repr)
    return CALLERS[zlib.crc32(content.encode()) % len(CALLERS)]


def request_headers(case, caller: str | None) -> dict[str, str]:
    headers = {}
    if caller is not None:
        headers["Authorization"] = f"Bearer {KEYS[caller]}"
    if case.method.upper() == "POST":
        headers["Idempotency-Key"] = f"schemathesis-{next(_idempotency_keys)}"
    return headers


def call_and_check(case, caller: str | None):
    """Send `case` as `caller` (None: no key) and run the checks; raises on a failure."""
    return case.call_and_validate(headers=request_headers(case, caller), checks=CHECKS)


@dataclass
class World:
    tenant: Tenant
    keys: dict[str, ApiKey]


def build_world() -> World:
    """A tenant with data on every route: clients (one the CBO sees without demographics),
    releases, an assessment, referrals in several statuses with a note, notifications for
    the keys' users. Fills KEYS and KNOWN_IDS."""
    tenant = build_tenant("Schemathesis")
    keys = {}
    for caller in CALLERS:
        keys[caller], KEYS[caller] = api_key_create(
            organization=getattr(tenant, caller), role=Role.NAVIGATOR, name="EHR integration"
        )
    pantry = referral_program(tenant)
    referrals = [referral_for(tenant)]
    referral_note_add(
        referral=referrals[0], author=tenant.hco_navigator, organization=tenant.hco, body="Hi"
    )
    moves = {"accepted": ["accept"], "in-progress": ["accept", "start"], "on-hold": ["waitlist"]}
    for status, steps in moves.items():
        client = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
        release_for(
            client,
            organization=tenant.hco,
            recipients=[tenant.cbo],
            categories=("demographics", "social_needs", "referrals"),
        )
        program = ProgramFactory(organization=tenant.cbo, name=f"Pantry ({status})")
        referral = referral_for(tenant, client=client, program=program)
        for move in steps:
            referral_transition(
                referral_id=referral.pk,
                move=move,
                actor=tenant.cbo_staff,
                organization=tenant.cbo,
                reason="Waitlist until Monday",
            )
        referrals.append(referral)
    partial = ClientFactory(created_by_organization=tenant.hco, created_by=tenant.hco_navigator)
    release_for(partial, organization=tenant.hco, recipients=[tenant.cbo], categories=["health"])
    assessment = assessment_for(tenant.client, organization=tenant.hco)
    notifications = list(
        Notification.objects.filter(user__in=[k.user for k in keys.values()]).values_list(
            "pk", flat=True
        )
    )
    assert notifications, "the keys' users are told about the referrals"
    KNOWN_IDS.update(
        {
            "client_id": [tenant.client.pk, partial.pk],
            "release_id": [tenant.release.pk],
            "referral_id": [r.pk for r in referrals],
            "program_id": [pantry.pk],
            "organization_id": [tenant.cbo.pk, tenant.hco.pk, tenant.backbone.pk],
            "assessment_id": [assessment.pk],
            "notification_id": notifications,
        }
    )
    return World(tenant=tenant, keys=keys)


@pytest.fixture(scope="module")
def api_world(django_db_setup, django_db_blocker):
    """The world, built once for the module's ~40 tests inside a transaction that is rolled
    back after the last one (pytest-django rolls back each test's own changes inside it, as
    usual)."""
    outer = transaction.atomic()
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer.__enter__()
        world = build_world()
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
    KNOWN_IDS.clear()
    KEYS.clear()


@pytest.fixture(autouse=True)
def _in_process(settings):
    # Throttling is tested in tests/api/test_keys.py; here it would turn the run into 429s.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "1000000/min"},
    }
    # In-process, Django's end-of-request handler would close the test's own database
    # connection (and its transaction); the test client disconnects it for the same reason
    # (and reconnects it after each of its requests, hence per test).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@contextmanager
def rolled_back():
    """Run a block in a savepoint and undo it: every generated example (and stateful
    scenario) starts from the same data, so a failure replays and shrinks."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


OPERATION_IDS = [
    operation["operationId"]
    for item in DOCUMENT["paths"].values()
    for method, operation in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]


def conformance_test(operation_id: str):
    """The generated test of one operation: coverage and fuzzing phases, every example
    checked (CHECKS) and rolled back."""

    # (`exclude` the others: `include` is ignored once CONFIG has "operations" entries.)
    others = [other for other in OPERATION_IDS if other != operation_id]

    @pytest.mark.django_db
    @schema.exclude(operation_id=others).parametrize()
    # The fixture's data are shared by the examples on purpose (each is rolled back).
    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test(case, api_world):
        with rolled_back():
            call_and_check(case, caller_of(case))

    return test


# One test function per operation, not one `schema.parametrize()` over all: under pytest 9.2
# the items Schemathesis makes share the node id of their function (the `[GET /path]` part
# is only in the name), and xdist would then run one of them, not all.
for _operation_id in OPERATION_IDS:
    _name = f"test_{_operation_id}_conforms_to_the_schema"
    globals()[_name] = conformance_test(_operation_id)


@pytest.mark.django_db
def test_refusals_without_a_valid_key_conform(api_world):
    revoked, KEYS["revoked"] = api_key_create(
        organization=api_world.tenant.hco, role=Role.NAVIGATOR, name="Revoked"
    )
    api_key_revoke(api_key=revoked, actor=None)
    for result in schema.get_all_operations():
        operation = result.ok()
        ids = {p.name: _known(p.name, 0) for p in operation.path_parameters}
        for caller in (None, "revoked"):
            body = {"body": {}} if len(operation.body) else {}
            case = operation.Case(path_parameters=ids, **body)
            response = call_and_check(case, caller)
            assert response.status_code == 401, (operation.label, caller)


@pytest.mark.django_db
def test_linked_operations_conform(api_world):
    """Stateful: operations chained through the links Schemathesis infers from the schema
    (ids in one response used in the next request), e.g. a listed referral accepted, then
    completed, its notes read."""

    class Workflow(schema.as_state_machine()):
        def setup(self):
            self._scenario = rolled_back()
            self._scenario.__enter__()

        def teardown(self):
            self._scenario.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": request_headers(case, caller_of(case))}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=10,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
    )


@pytest.mark.django_db
def test_served_schema_is_the_one_tested(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json() == DOCUMENT


# The checks can fail: a deliberately broken detail view, in front of the real routes.
BREAKAGE = {"kind": ""}


def _broken_organization(request, organization_id):
    if BREAKAGE["kind"] == "server_error":
        raise RuntimeError("deliberately broken")
    if BREAKAGE["kind"] == "wrong_body":
        return JsonResponse({"id": "one", "name": None})
    return JsonResponse({"detail": "teapot"}, status=418)


urlpatterns = [
    path("api/v1/organizations/<int:organization_id>/", _broken_organization),
    path("", include("config.urls")),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "failure"),
    [
        ("server_error", ServerError),
        ("wrong_body", JsonSchemaError),
        ("undocumented_status", UndefinedStatusCode),
    ],
)
def test_the_checks_catch_a_broken_view(api_world, settings, kind, failure):
    operation = schema["/api/v1/organizations/{organization_id}/"]["GET"]
    case = operation.Case(path_parameters={"organization_id": api_world.tenant.cbo.pk})
    assert call_and_check(case, "hco").status_code == 200
    settings.ROOT_URLCONF = __name__
    BREAKAGE["kind"] = kind
    with pytest.raises(FailureGroup) as caught:
        call_and_check(case, "hco")
    assert any(isinstance(e, failure) for e in caught.value.exceptions), caught.value


# What the run found, pinned down (each was a 5xx or an answer the schema did not describe).


@pytest.mark.django_db
def test_a_malformed_cursor_is_bad_input(api_world):
    operation = schema["/api/v1/referrals/"]["GET"]
    response = call_and_check(operation.Case(query={"cursor": "not-a-cursor"}), "hco")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"cursor": ["Invalid cursor"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("since", "status"),
    [
        # Valid ISO 8601 with an offset PostgreSQL refuses (it allows ±15:59): was a 500.
        ("2026-04-30T22:09:13+21:31", 200),
        # The offset moves it before year 1: nothing to compare with.
        ("0001-01-01T00:00:00+21:31", 400),
    ],
)
def test_updated_since_takes_any_valid_offset(api_world, since, status):
    operation = schema["/api/v1/referrals/"]["GET"]
    response = call_and_check(operation.Case(query={"updated_since": since}), "hco")
    assert response.status_code == status, response.json()


@pytest.mark.django_db
def test_ids_are_whole_numbers_in_filters(api_world):
    operation = schema["/api/v1/referrals/"]["GET"]
    case = operation.Case(query={"client": "1e+136"})
    response = case.call(headers=request_headers(case, "hco"))
    assert response.status_code == 400
    assert "client" in response.json()["error"]["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/referrals/abc/", "Not found."),
        ("/api/v1/no-such-thing/", "Not found."),
        ("/api/v1/no-such-thing", "Not found."),
    ],
)
def test_unknown_api_paths_get_the_json_error_body(api_world, client, url, message):
    for method in (client.get, client.post):
        response = method(url, HTTP_AUTHORIZATION=f"Bearer {KEYS['hco']}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"] == {
            "status": 404,
            "code": "not_found",
            "message": message,
            "fields": {},
        }
