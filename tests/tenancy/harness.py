"""The tenancy harness: every route, requested as a user of a foreign organization.

It walks the URL configuration itself, so a route added later is probed without editing
this file. A route whose URL carries an object id needs a probe (tests/tenancy/probes.py)
that builds that id from the victim tenant's real objects; a route with no probe is itself
a finding, so nobody can add an object route the harness silently skips.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# Routes that end the session: probed last so the others run signed in.
SESSION_ENDING = {"logout", "admin:logout"}
# Routes whose URL parts are secrets handed to one person (not object ids): they may answer
# 200 (e.g. "this link no longer works") but must still show nothing of the victim.
TOKEN_ROUTES = {"password_reset_confirm"}
DENIED = {403, 404, 405}
# The admin's own sign-in pages answer everyone (and refuse non-superusers there).
ADMIN_PUBLIC = {"admin:login", "admin:logout"}


@dataclass(frozen=True)
class Route:
    template: str  # "partnerships/<int:partnership_id>/"
    name: str  # "partnership_detail" or "admin:index" or "" when unnamed
    kwargs: tuple[str, ...]
    pattern_parts: tuple[object, ...]

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


def probe_routes(
    client: Client,
    *,
    probes: dict[str, Callable[[], object]],
    admin_probes: dict[str, Callable[[], object]],
    sentinels: list[str],
    urlconf: str | None = None,
) -> list[Finding]:
    """Request every route as the signed-in foreign user behind `client`; return what leaked."""
    findings: list[Finding] = []
    routes = sorted(iter_routes(urlconf), key=lambda r: r.name in SESSION_ENDING)
    for route in routes:
        table = admin_probes if route.is_admin else probes
        missing = [k for k in route.kwargs if k not in table]
        if missing:
            findings.append(
                Finding(route.label, "-", route.template, None, f"no probe for {missing}")
            )
            continue
        values = {k: table[k]() for k in route.kwargs}
        url = build_url(route, values)
        for method in ("get", "post"):
            if route.name in SESSION_ENDING and method == "get":
                continue
            response = getattr(client, method)(url, **({"SERVER_NAME": "testserver"}))
            findings.extend(_judge(route, method.upper(), url, response, sentinels))
    return findings


def _judge(route: Route, method: str, url: str, response, sentinels: list[str]) -> list[Finding]:
    found = []
    status = response.status_code
    body = response.content.decode(errors="replace") if not response.streaming else ""
    body += " " + response.get("Location", "")
    if status >= 500:
        found.append(Finding(route.label, method, url, status, "server error"))
    leaked = [s for s in sentinels if s in body]
    if leaked:
        found.append(Finding(route.label, method, url, status, f"shows foreign data {leaked}"))
    if route.is_admin and route.name not in ADMIN_PUBLIC:
        if not (status == 302 and response["Location"].startswith("/admin/login/")):
            found.append(Finding(route.label, method, url, status, "admin open to non-superuser"))
    elif route.kwargs and route.name not in TOKEN_ROUTES and status not in DENIED:
        found.append(Finding(route.label, method, url, status, "object route not denied"))
    return found
