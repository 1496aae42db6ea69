"""Playwright driving Debian's Chromium against Django's live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Served by the live server like the site's own scripts: a tag with inline content (what
# add_script_tag(path=...) makes) is refused by the Content-Security-Policy.
AXE_URL = "/static/vendor/axe.min.js"
PHONE = {"width": 390, "height": 844}
# Every page reports a Content-Security-Policy violation on the console. Chromium logs most
# of them itself ("Refused to execute inline script because it violates the following
# Content Security Policy directive..."); the page-level event is logged as well so that
# none goes unnoticed, with what was blocked and where.
CSP_MARK = "Content Security Policy"
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("Content Security Policy violation: " + e.effectiveDirective + " blocked " +
    (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber +
    (e.sample ? " (" + e.sample + ")" : ""));
});
"""


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Module scope, not session: Playwright's sync API keeps
    an event loop running in this thread, and Django refuses ORM calls beside a running
    loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set; the variable must stay set until the
    last test's database teardown, and must not leak into other modules' subprocesses."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Browser tests need Debian's Chromium: apt-get install chromium")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def new_context(browser, live_server, settings):
    """`new_context(phone=True)`: an isolated browser profile (cookies) on the live server.

    The site's Content-Security-Policy is enforced as in production; a test whose pages
    violated it (an inline script, handler or style attribute crept into a template) fails
    when it ends, with the violations listed."""
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    contexts = []
    violations: list[str] = []

    def _record(message) -> None:
        if CSP_MARK in message.text:
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def _new(phone: bool = False):
        context = browser.new_context(
            base_url=live_server.url, viewport=PHONE if phone else {"width": 1280, "height": 900}
        )
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_LISTENER)
        context.on("console", _record)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def page(new_context):
    return new_context(phone=True).new_page()


def assert_accessible(page, *, moderate: bool = True) -> None:
    """No critical, serious or moderate axe-core violations on the page as it is now."""
    page.add_script_tag(url=AXE_URL)
    result = page.evaluate("async () => await axe.run(document)")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        f"{[(n['target'], n['html'][:160]) for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ({"serious", "critical"} | ({"moderate"} if moderate else set()))
    ]
    assert not bad, "\n".join(bad)


def sign_in(page, email: str, password: str) -> None:
    page.goto("/account/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
