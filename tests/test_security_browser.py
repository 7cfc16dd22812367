"""The pages satisfy the Content-Security-Policy in a real browser: no violation, anywhere.

Debian's Chromium (the pages' browser tests' fixtures, tests/test_pages_browser.py)
loads the main pages, the admin, Swagger UI, the guides and the OGC service's pages with the
policy the registry sends (`script-src 'self'`, no inline script). A violation
shows up twice — as a console message ("Refused to ...") and as a
`securitypolicyviolation` event — and the test fails on either.
"""

import re

import pytest

from tests import test_pages_browser as pages_browser
from tests.factories import UserFactory

# The page tests' fixtures: Debian's Chromium, the live server, the demo registry, and a
# page that fails on any request leaving the machine.
_orm_beside_playwright = pages_browser._orm_beside_playwright
browser_type_launch_args = pages_browser.browser_type_launch_args
live_server = pages_browser.live_server
demo = pages_browser.demo
page = pages_browser.page

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page):
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


def deposit_id(page, base) -> str:
    page.goto(f"{base}/deposits/?q=Konimansuri")
    href = (
        page.get_by_role("rowheader")
        .get_by_role("link", name="Konimansuri Kalon")
        .get_attribute("href")
    )
    return re.search(r"TJD-\d+", href).group()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/deposits/",
        "/deposits/?mineral=silver&region=TJ-SU",
        "/minerals/silver/",
        "/regions/TJ-SU/",
        "/cooperation/",
        "/ogc/api.html",  # now the operations page, /ogc/api?f=html
        "/ogc/",
        "/ogc/collections/deposits/items",
        "/docs/",
        "/docs/ogc/",
    ],
)
def test_public_pages_raise_no_csp_violation(demo, watched, path):
    response = watched.goto(f"{demo}{path}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    if path.startswith("/deposits/"):
        watched.wait_for_selector("#deposit-map[data-markers]")  # the map's scripts ran
    if path.endswith("/items"):
        watched.wait_for_selector("#ogc-map[data-markers]")
    watched.wait_for_load_state("networkidle")
    assert violations(watched) == []


def test_deposit_page_with_its_map_raises_no_csp_violation(demo, watched):
    public_id = deposit_id(watched, demo)
    watched.goto(f"{demo}/deposits/{public_id}/")
    watched.wait_for_load_state("networkidle")
    assert watched.locator("h1").is_visible()
    assert violations(watched) == []


def test_swagger_ui_loads_under_the_policy(demo, watched):
    watched.goto(f"{demo}/api/docs/")
    watched.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "Mineral Deposit Registry" in watched.locator(".swagger-ui .info .title").inner_text()
    assert watched.locator(".opblock").count() > 10  # the operations were read from the schema
    assert violations(watched) == []


def test_admin_pages_raise_no_csp_violation(demo, watched):
    UserFactory(username="csp-clerk", is_superuser=True)
    watched.goto(f"{demo}/admin/login/")
    watched.get_by_label("Username").fill("csp-clerk")
    watched.get_by_label("Password").fill("correct horse battery")
    watched.get_by_role("button", name="Log in").click()
    watched.wait_for_url(f"{demo}/admin/")
    for path in (
        "/admin/",
        "/admin/deposits/deposit/",
        "/admin/deposits/deposit/?q=konimansur",
        "/admin/deposits/deposit/add/",
        "/admin/cooperation/memorandum/",
    ):
        watched.goto(f"{demo}{path}")
        watched.wait_for_load_state("networkidle")
    watched.goto(f"{demo}/admin/deposits/deposit/")
    watched.get_by_role("link", name="Konimansuri Kalon").first.click()
    watched.wait_for_load_state("networkidle")
    assert watched.locator("#deposit_form").is_visible()
    assert violations(watched) == []


def test_the_watch_would_see_a_violation(demo, watched):
    """The negative control: an inline script put into a page is blocked and reported."""
    watched.goto(f"{demo}/deposits/")
    watched.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true";
            document.body.append(script);
        }"""
    )
    watched.wait_for_timeout(200)
    assert watched.evaluate("window.__inlineRan === undefined")
    assert any("script-src" in v for v in violations(watched))
