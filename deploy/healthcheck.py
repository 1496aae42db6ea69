"""Container health checks for docker-compose.yml (standard library only; exit 0 = healthy).

    python deploy/healthcheck.py web  [--url "http://127.0.0.1:8000/health/?only=database,broker"]
    python deploy/healthcheck.py beat --schedule /app/var/celerybeat-schedule [--max-age 600]

The worker's check is Celery's own (`celery -A config inspect ping` for its node).
"""

from __future__ import annotations

import argparse
import glob
import http.client
import os
import sys
import time
from urllib.parse import urlsplit


def host_header(allowed_hosts: str) -> str:
    """A Host that ALLOWED_HOSTS accepts: its first entry ("*" and ".domain" made concrete)."""
    first = next((h.strip() for h in allowed_hosts.split(",") if h.strip()), "localhost")
    if first == "*":
        return "localhost"
    return first.lstrip(".")


def check_web(url: str, timeout: float) -> str | None:
    """None when GET url answers 200, else what went wrong."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        # Through nginx requests arrive as https with the site's host name: the same here, or
        # SECURE_SSL_REDIRECT would answer 301 and ALLOWED_HOSTS 400.
        connection.request(
            "GET",
            (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            headers={
                "Host": host_header(os.environ.get("ALLOWED_HOSTS", "")),
                "X-Forwarded-Proto": "https",
            },
        )
        status = connection.getresponse().status
    except OSError as error:
        return f"{url}: {error}"
    finally:
        connection.close()
    return None if status == 200 else f"{url}: HTTP {status}"


def check_beat(schedule: str, max_age: float, now: float | None = None) -> str | None:
    """None when beat's schedule file was written within max_age seconds, else why not.

    Beat's PersistentScheduler writes the file at start and then at most every 3 minutes,
    after sending a task (the heartbeat goes every minute); dbm may add a suffix to the name.
    """
    files = [f for f in glob.glob(glob.escape(schedule) + "*") if os.path.isfile(f)]
    if not files:
        return f"no schedule file at {schedule}"
    age = (time.time() if now is None else now) - max(os.path.getmtime(f) for f in files)
    if age > max_age:
        return f"schedule file not written for {age:.0f}s (more than {max_age:.0f}s)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="service", required=True)
    web = sub.add_parser("web")
    web.add_argument("--url", default="http://127.0.0.1:8000/health/?only=database,broker")
    web.add_argument("--timeout", type=float, default=5.0)
    beat = sub.add_parser("beat")
    beat.add_argument("--schedule", required=True)
    beat.add_argument("--max-age", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.service == "web":
        problem = check_web(args.url, args.timeout)
    else:
        problem = check_beat(args.schedule, args.max_age)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
