"""The browser tests' fixtures, loaded for the whole suite from tests/conftest.py:
Debian's Chromium driven by Playwright, a live server over plain HTTP, the demo
registry in its database, and a page that fails on any request leaving the machine.

Chromium is the machine's (/usr/bin/chromium, installed by .ci/run from Debian's
packages), never a downloaded build. Without it the browser tests skip locally and
fail in CI (CI=true). Screenshots go to test-artifacts/.
"""

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test.utils import override_settings

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright's launch arguments: the machine's Chromium, headless, offline-quiet.

    Requested before Playwright starts, so it is also where the ORM is told that it runs
    beside Playwright's event loop (which stays in this thread until the session ends):
    the fixtures' ORM calls and the test database's teardown stay synchronous and safe.
    Set from the first browser test on, never before: browser tests run last (below),
    after the tests that run `check --deploy`, which rightly refuses the variable."""
    if not shutil.which(CHROMIUM):
        reason = f"{CHROMIUM} is missing: apt-get install chromium (Debian's package)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="module")
def live_server():
    """pytest-django's live server, a new one for each module, started over plain HTTP
    and serving static files without a manifest: its middleware reads
    SECURE_SSL_REDIRECT once, when the server starts, so the function-scoped
    `pages_settings` come too late for it."""
    from pytest_django.live_server_helper import LiveServer

    plain = override_settings(
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    with plain:
        server = LiveServer("127.0.0.1")
        yield server
        server.stop()


@pytest.fixture
def demo(pages_settings, live_server, load_demo_registry):
    """The demo registry (deposits and cooperation) in the live server's database."""
    load_demo_registry()
    return live_server.url


def outside_requests(page) -> list[str]:
    """The list, kept filled as the page loads, of the requests of `page` that leave the
    app: a browser test asserts it stays empty."""
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(
                ("http://localhost", "http://127.0.0.1", "data:", "blob:")
            )
            else None
        ),
    )
    return outside


@pytest.fixture
def page(page):
    """Every page of the browser tests fails on a request that leaves the app."""
    outside = outside_requests(page)
    yield page
    assert outside == [], f"requests to the internet: {outside}"


LANGUAGES = ("en", "ru", "tg")


@contextlib.contextmanager
def language_tabs(browser, url: str, width: int, height: int = 900) -> Iterator[dict]:
    """A tab of its own for each language (its language cookie set for `url`), closed
    after the block, which fails on a request any of them sent out of the app."""
    tabs, outside = {}, {}
    try:
        for language in LANGUAGES:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.add_cookies(
                [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": url}]
            )
            tabs[language] = context.new_page()
            outside[language] = outside_requests(tabs[language])
        yield tabs
    finally:
        for tab in tabs.values():
            tab.context.close()
    assert not any(outside.values()), f"requests to the internet: {outside}"


def loaded(tabs: dict, url: str) -> Iterator[tuple[str, object]]:
    """(language, tab) of each tab once `url` has loaded in it and its network has gone
    quiet (a map's borders and markers). The page is loaded in every tab before the first
    is given, so the waits for their networks overlap."""
    for language, tab in tabs.items():
        response = tab.goto(url)
        assert response.status == 200, (language, url)
    for language, tab in tabs.items():
        tab.wait_for_load_state("networkidle")
        yield language, tab


def page_width(page) -> int:
    """How wide the page lays out: a page wider than the window scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth")


OVERFLOWING = """() => Array.from(document.querySelectorAll("body *"))
    .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .filter((e) => !e.parentElement.closest(".table-scroll, .leaflet-container"))
    .slice(0, 8)
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}.${e.className}`
        + ` ${Math.round(e.getBoundingClientRect().right)}px`)"""


def overflowing(page) -> list[str]:
    """The first elements reaching past the window's right edge (for a failure's message)."""
    return page.evaluate(OVERFLOWING)


def screenshot(page, name: str) -> None:
    """The whole page as test-artifacts/<name>.png (a name may hold a folder: pages/home-en)."""
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)


RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def csp_watched(page):
    """The page, with every CSP violation and console error of its loads collected."""
    messages = []
    page.on(
        "console",
        lambda message: (
            messages.append(message.text) if message.type in ("error", "warning") else None
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)
    page.csp_messages = messages
    return page


def violations(page) -> list[str]:
    events = page.evaluate("window.__cspViolations || []")
    console = [m for m in page.csp_messages if "Content Security Policy" in m or "Refused" in m]
    return [*events, *console]


# What a page does in Chromium (its scripts, styles, CSP, layout) is the templates' and
# the scripts', which no database engine changes; the queries behind each page run on
# both engines in the test client's tests (tests/test_pages*.py, test_api_*.py). So the
# tests that drive Chromium run once, in one of the two passes of .ci/run: in the SQLite
# pass, or in the one a module names as its BROWSER_ENGINE, so that the two passes,
# side by side, take about as long (docs/reliability.md, "The test run"). OGC clients
# (ogrinfo, OWSLib) read what the database answers and run on both.
BROWSER_ENGINE = "sqlite"
PASSES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last: their live server's database is flushed after each of them,
    which would take the staff groups made by migrations away from the tests after.
    A test that drives Chromium is skipped outside its module's pass."""
    from django.db import connection

    items.sort(key=lambda item: "live_server" in getattr(item, "fixturenames", ()))
    for item in items:  # Playwright's page reaches Chromium through these arguments
        if "browser_type_launch_args" not in getattr(item, "fixturenames", ()):
            continue
        engine = getattr(item.module, "BROWSER_ENGINE", BROWSER_ENGINE)
        if connection.vendor != engine:
            reason = f"Chromium tests run once: these in the {PASSES[engine]} pass of .ci/run"
            item.add_marker(pytest.mark.skip(reason=reason))
