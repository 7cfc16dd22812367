"""The pages satisfy the Content-Security-Policy in a real browser: no violation, anywhere.

Debian's Chromium (the browser tests' fixtures, tests/browser.py)
loads the main pages, the admin, Swagger UI, the guides and the OGC service's pages with the
policy the registry sends (`script-src 'self'`, no inline script). A violation
shows up twice — as a console message ("Refused to ...") and as a
`securitypolicyviolation` event — and the test fails on either.
"""

import re

import pytest

from tests.browser import violations
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


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
def test_public_pages_raise_no_csp_violation(demo, csp_watched, path):
    response = csp_watched.goto(f"{demo}{path}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    if path.startswith("/deposits/"):
        csp_watched.wait_for_selector("#deposit-map[data-markers]")  # the map's scripts ran
    if path.endswith("/items"):
        csp_watched.wait_for_selector("#ogc-map[data-markers]")
    csp_watched.wait_for_load_state("networkidle")
    assert violations(csp_watched) == []


def test_deposit_page_with_its_map_raises_no_csp_violation(demo, csp_watched):
    public_id = deposit_id(csp_watched, demo)
    csp_watched.goto(f"{demo}/deposits/{public_id}/")
    csp_watched.wait_for_load_state("networkidle")
    assert csp_watched.locator("h1").is_visible()
    assert violations(csp_watched) == []


def test_swagger_ui_loads_under_the_policy(demo, csp_watched):
    csp_watched.goto(f"{demo}/api/docs/")
    csp_watched.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert (
        "Mineral Deposit Registry" in csp_watched.locator(".swagger-ui .info .title").inner_text()
    )
    assert csp_watched.locator(".opblock").count() > 10  # the operations were read from the schema
    assert violations(csp_watched) == []


def test_admin_pages_raise_no_csp_violation(demo, csp_watched):
    UserFactory(username="csp-clerk", is_superuser=True)
    csp_watched.goto(f"{demo}/admin/login/")
    csp_watched.get_by_label("Username").fill("csp-clerk")
    csp_watched.get_by_label("Password").fill("correct horse battery")
    csp_watched.get_by_role("button", name="Log in").click()
    csp_watched.wait_for_url(f"{demo}/admin/")
    for path in (
        "/admin/",
        "/admin/deposits/deposit/",
        "/admin/deposits/deposit/?q=konimansur",
        "/admin/deposits/deposit/add/",
        "/admin/cooperation/memorandum/",
    ):
        csp_watched.goto(f"{demo}{path}")
        csp_watched.wait_for_load_state("networkidle")
    csp_watched.goto(f"{demo}/admin/deposits/deposit/")
    csp_watched.get_by_role("link", name="Konimansuri Kalon").first.click()
    csp_watched.wait_for_load_state("networkidle")
    assert csp_watched.locator("#deposit_form").is_visible()
    assert violations(csp_watched) == []


def test_the_watch_would_see_a_violation(demo, csp_watched):
    """The negative control: an inline script put into a page is blocked and reported."""
    csp_watched.goto(f"{demo}/deposits/")
    csp_watched.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true";
            document.body.append(script);
        }"""
    )
    csp_watched.wait_for_timeout(200)
    assert csp_watched.evaluate("window.__inlineRan === undefined")
    assert any("script-src" in v for v in violations(csp_watched))
