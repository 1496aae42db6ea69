"""Where Linkage may post: the SSRF guard, and the one HTTP client outbound requests use.

A target URL is checked when it is registered and again before every attempt (DNS can
change between the two): the host is resolved, and every address it resolves to must be
public — not loopback, private, link-local (cloud metadata lives there), multicast,
reserved or unspecified — unless settings.WEBHOOK_ALLOW_PRIVATE_TARGETS allows them (a
developer's machine, tests). The request then goes to an address that was checked (the
connection is pinned to it, TLS still verifies the host name), so a second lookup between
the check and the connection cannot point it elsewhere. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

MAX_RESPONSE_BYTES = 64 * 1024


class TargetRefused(Exception):
    """The URL may not be posted to (a permanent refusal; the message says why and may be
    shown to the organization's admins)."""


class TransientError(Exception):
    """The attempt failed in a way that may pass: a connection error, a timeout, a name
    that did not resolve. The message is Linkage's own description, never a body."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query string, as sent in the request line
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Response:
    status: int
    duration_ms: int
    retry_after: float | None = None


def check_url(url: str) -> Target:
    """The target `url` names, once its form and every address it resolves to are
    acceptable. TargetRefused says what is wrong; TransientError when the name does not
    resolve (now)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise TargetRefused("Use an https:// URL.")
    if scheme == "http" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise TargetRefused("Use an https:// URL: events are only sent encrypted.")
    if parts.username or parts.password:
        raise TargetRefused("Put no user name or password in the URL.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("The URL has no host name.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not a number from 1 to 65535.") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    addresses = _resolve(host, port)
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        for address in addresses:
            kind = non_public_kind(ipaddress.ip_address(address))
            if kind:
                raise TargetRefused(
                    f"{host} resolves to {address}, a {kind} address: Linkage posts only "
                    "to public internet addresses."
                )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def non_public_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why an address is not a public one ("loopback", "private"...), or "" if it is.

    An IPv6 address that carries an IPv4 one (IPv4-mapped, 6to4, Teredo) is
    judged by the IPv4 address too: 2002:7f00:1:: reaches 127.0.0.1 through a 6to4 relay.
    (IPv4-compatible and NAT64 forms lie in ::/8, which is refused as reserved.)"""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the IPv4 address itself, written as IPv6
            return non_public_kind(ip.ipv4_mapped)
        for embedded in _tunnelled_ipv4(ip):
            kind = non_public_kind(embedded)
            if kind:
                return kind
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    for kind, applies in checks:
        if applies:
            return kind
    # Shared address space (100.64.0.0/10, carrier-grade NAT), documentation ranges...
    return "" if ip.is_global else "non-public"


def _tunnelled_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # the Teredo server's address and the client's
    return found


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise TransientError(f"The host name {host} did not resolve.") from error
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone is no part of the check
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TransientError(f"The host name {host} did not resolve.")
    return tuple(addresses)


def post(target: Target, body: bytes, headers: dict[str, str]) -> Response:
    """POST `body` to the target's first checked address; never follows a redirect.
    Raises TransientError on connection errors and timeouts."""
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
        read=settings.WEBHOOK_READ_TIMEOUT_SECONDS,
    )
    address = target.addresses[0]
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            address, target.port, timeout=timeout, retries=False, maxsize=1
        )
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": target.host_header},
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            # Read a little of the answer (so the connection ends cleanly), keep none of it.
            response.read(MAX_RESPONSE_BYTES)
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError as error:
        # Before TimeoutError: urllib3 makes NewConnectionError a ConnectTimeoutError.
        raise TransientError(f"Could not connect ({_connection_text(error)}).") from error
    except urllib3.exceptions.TimeoutError as error:
        raise TransientError(f"No answer within the timeout ({_timeout_text()}).") from error
    except urllib3.exceptions.SSLError as error:
        raise TransientError("The TLS handshake failed (certificate or protocol).") from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise TransientError(f"Could not connect ({_connection_text(error)}).") from error
    finally:
        pool.close()
    duration_ms = int((time.monotonic() - started) * 1000)
    return Response(
        status=response.status,
        duration_ms=duration_ms,
        retry_after=_retry_after(response.headers.get("Retry-After")),
    )


def _timeout_text() -> str:
    return (
        f"{settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS:g} s to connect, "
        f"{settings.WEBHOOK_READ_TIMEOUT_SECONDS:g} s to answer"
    )


def _connection_text(error: BaseException) -> str:
    """A short description from the error's type and its OS cause, never its repr (which
    could carry the URL's query string)."""
    cause = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        nxt = cause.__cause__ or cause.__context__
        if isinstance(nxt, OSError):
            cause = nxt
            break
        cause = nxt
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, ConnectionResetError):
        return "connection reset"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return type(error).__name__


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the delta form only; a date is ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
