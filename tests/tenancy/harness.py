"""The tenancy harness: every route, requested by someone who must not see the victim's data.

Three kinds of outsider (`PROBES` counts the requests of each):
- foreign network: a member (or API key) of an organization in another network;
- same network: one of an organization in the victim's own network that is party to none of
  its referrals and named in no release (it may see the network's directory, nothing else);
- wrong role: a member (or API key) of the victim organization itself whose role lacks the
  capability a route declares (a staff member on the API key page).

It walks the URL configuration itself, so a route added later is probed without editing
this file. A route whose URL carries an object id needs a probe (tests/tenancy/probes.py)
that builds that id from the victim tenant's real objects; a route with no probe is itself
a finding, so nobody can add an object route the harness silently skips. The capability a
route needs is read off the view as the view declares it (`member_required`, a DRF view's
`required_capability`/`capabilities`, a FHIR view's `capability_for`), so a new route is
also probed with the wrong role as soon as it declares what it needs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from organizations.roles import Capability

# Routes that end the session: probed last so the others run signed in.
SESSION_ENDING = {"logout", "admin:logout"}
# Routes whose URL parts are secrets handed to one person (not object ids): they may answer
# 200 (e.g. "this link no longer works") but must still show nothing of the victim.
TOKEN_ROUTES = {"password_reset_confirm"}
DENIED = {403, 404, 405}
# The admin's own sign-in pages answer everyone (and refuse non-superusers there).
ADMIN_PUBLIC = {"admin:login", "admin:logout"}

FOREIGN_NETWORK = "foreign network"
SAME_NETWORK = "same network"
WRONG_ROLE = "wrong role"
# Requests made, by kind of outsider; the session's summary line reports them (tests/conftest.py).
PROBES: Counter[str] = Counter()
# What an organization may read of its own network's other organizations: the directory.
NETWORK_SHARED = frozenset({Capability.VIEW_DIRECTORY})


@dataclass(frozen=True)
class Route:
    template: str  # "partnerships/<int:partnership_id>/"
    name: str  # "partnership_detail" or "admin:index" or "" when unnamed
    kwargs: tuple[str, ...]
    pattern_parts: tuple[object, ...]
    callback: Callable | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return self.name or self.template

    @property
    def is_admin(self) -> bool:
        return self.name.startswith("admin:") or self.template.startswith("admin/")


@dataclass(frozen=True)
class Finding:
    route: str
    method: str
    url: str
    status: int | None
    problem: str

    def __str__(self) -> str:
        return f"{self.method} {self.url} ({self.route}) -> {self.status}: {self.problem}"


def iter_routes(urlconf: str | None = None) -> Iterator[Route]:
    def walk(patterns, parts, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                yield from walk(entry.url_patterns, (*parts, entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                all_parts = (*parts, entry.pattern)
                name = entry.name or ""
                if name and namespace:
                    name = f"{namespace}:{name}"
                yield Route(
                    template="".join(str(p) for p in all_parts),
                    name=name,
                    kwargs=tuple(k for p in all_parts for k in _kwarg_names(p)),
                    pattern_parts=all_parts,
                    callback=entry.callback,
                )

    yield from walk(get_resolver(urlconf).url_patterns, (), "")


def _kwarg_names(pattern) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return list(re.compile(pattern._regex).groupindex)
    return []


def build_url(route: Route, values: dict[str, str]) -> str:
    out = []
    for part in route.pattern_parts:
        text = str(part)
        if isinstance(part, RoutePattern):
            text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), text)
        else:
            text = _fill_regex(text, values)
        out.append(text)
    return "/" + "".join(out)


def _fill_regex(text: str, values: dict[str, str]) -> str:
    result, i = [], 0
    while i < len(text):
        if text.startswith("(?P<", i):
            end_name = text.index(">", i)
            name = text[i + 4 : end_name]
            depth, j = 1, end_name + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            result.append(str(values[name]))
            i = j
        elif text[i] in "^$":
            i += 1
        else:
            result.append(text[i])
            i += 1
    return "".join(result)


def declared_capability(route: Route, method: str) -> Capability | None:
    """The capability the route's view says `method` needs, or None when it declares none
    (open pages, or views that decide in their body: those get no wrong-role probe)."""
    view = route.callback
    declared = getattr(view, "required_capability", None)  # organizations.tenancy.member_required
    if declared is not None:
        return declared
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if cls is None:
        return None
    if hasattr(cls, "capability_for"):
        # FHIR views answer per request (the method decides), from their init arguments.
        initkwargs = getattr(view, "initkwargs", None) or getattr(view, "view_initkwargs", {})
        return cls(**initkwargs).capability_for(SimpleNamespace(method=method.upper()))
    action = (getattr(view, "actions", None) or {}).get(method.lower())
    by_action = getattr(cls, "capabilities", None) or {}
    declared = by_action.get(action, getattr(cls, "required_capability", None))
    return declared if isinstance(declared, Capability) else None


@dataclass(frozen=True)
class Outsider:
    """Who is probing, and so what the harness expects of each route.

    `membership` is given for wrong-role probes: only the routes (and methods) whose
    declared capability that membership lacks are requested, and every one must be refused.
    `same_network` lets the network's directory answer (its pages may show what it lists)."""

    kind: str = FOREIGN_NETWORK
    membership: object | None = None

    def wants(self, route: Route, method: str) -> bool:
        if self.kind != WRONG_ROLE:
            return True
        if route.is_admin:
            return False  # the admin site is superusers' only; the outsider walks cover it
        needed = declared_capability(route, method)
        return needed is not None and not self.membership.has(needed)

    def must_deny(self, route: Route, method: str) -> bool:
        if self.kind == WRONG_ROLE:
            return True
        if not route.kwargs or route.name in TOKEN_ROUTES:
            return False
        # A neighbour in the network may read the shared directory (its organizations and
        # listed programs); every other object of the victim's is refused.
        shared = declared_capability(route, method) in NETWORK_SHARED
        return not (self.kind == SAME_NETWORK and shared)


def probe_routes(
    client: Client,
    *,
    probes: dict[str, Callable[[], object]],
    admin_probes: dict[str, Callable[[], object]],
    sentinels: list[str],
    urlconf: str | None = None,
    outsider: Outsider | None = None,
) -> list[Finding]:
    """Request every route as the signed-in outsider behind `client`; return what leaked."""
    outsider = outsider or Outsider()
    findings: list[Finding] = []
    routes = sorted(iter_routes(urlconf), key=lambda r: r.name in SESSION_ENDING)
    for route in routes:
        methods = [
            m
            for m in ("get", "post")
            if not (route.name in SESSION_ENDING and m == "get") and outsider.wants(route, m)
        ]
        if not methods:
            continue
        table = admin_probes if route.is_admin else probes
        missing = [k for k in route.kwargs if k not in table]
        if missing:
            findings.append(
                Finding(route.label, "-", route.template, None, f"no probe for {missing}")
            )
            continue
        values = {k: table[k]() for k in route.kwargs}
        url = build_url(route, values)
        for method in methods:
            response = getattr(client, method)(url, **({"SERVER_NAME": "testserver"}))
            PROBES[outsider.kind] += 1
            findings.extend(_judge(route, method, url, response, sentinels, outsider))
    return findings


def _judge(
    route: Route, method: str, url: str, response, sentinels: list[str], outsider: Outsider
) -> list[Finding]:
    found = []
    status = response.status_code
    body = response.content.decode(errors="replace") if not response.streaming else ""
    body += " " + response.get("Location", "")
    upper = method.upper()
    if status >= 500:
        found.append(Finding(route.label, upper, url, status, "server error"))
    leaked = [s for s in sentinels if s in body]
    if leaked:
        found.append(Finding(route.label, upper, url, status, f"shows foreign data {leaked}"))
    if route.is_admin and route.name not in ADMIN_PUBLIC:
        if not (status == 302 and response["Location"].startswith("/admin/login/")):
            found.append(Finding(route.label, upper, url, status, "admin open to non-superuser"))
    elif outsider.must_deny(route, method) and status not in DENIED:
        problem = "role lacks capability" if outsider.kind == WRONG_ROLE else "object route"
        found.append(Finding(route.label, upper, url, status, f"{problem} not denied"))
    return found


# The REST API and the FHIR interface take the same keys.
KEY_ROUTES = ("api/v1/", "fhir/r4/")


def probe_api_routes(
    api,
    *,
    probes: dict[str, Callable[[], object]],
    secrets: list[str],
    urlconf: str | None = None,
    outsider: Outsider | None = None,
) -> list[str]:
    """GET and POST (and, on FHIR instance routes, PUT and DELETE) every /api/v1/ and
    /fhir/r4/ route with the key behind `api` (a DRF APIClient); return what leaked."""
    outsider = outsider or Outsider()
    findings = []
    for route in iter_routes(urlconf):
        if not route.template.startswith(KEY_ROUTES):
            continue
        methods = ["get", "post"]
        if route.template.startswith("fhir/r4/") and route.kwargs:
            methods += ["put", "delete"]
        methods = [m for m in methods if outsider.wants(route, m)]
        if not methods:
            continue
        missing = [k for k in route.kwargs if k not in probes]
        if missing:
            findings.append(f"{route.label}: no probe for {missing}")
            continue
        url = build_url(route, {k: probes[k]() for k in route.kwargs})
        for method in methods:
            if method in ("get", "delete"):
                response = getattr(api, method)(url)
            else:
                response = getattr(api, method)(url, {}, format="json")
            PROBES[outsider.kind] += 1
            status = response.status_code
            body = response.content.decode(errors="replace")
            where = f"{method.upper()} {url} -> {status}"
            if status >= 500:
                findings.append(f"{where}: server error")
            if status == 401:
                findings.append(f"{where}: the key was not accepted")
            leaked = [s for s in secrets if s in body]
            if leaked:
                findings.append(f"{where}: shows foreign data {leaked}")
            if outsider.must_deny(route, method) and status not in DENIED:
                problem = "role lacks capability" if outsider.kind == WRONG_ROLE else "object route"
                findings.append(f"{where}: {problem} not denied")
    return findings
