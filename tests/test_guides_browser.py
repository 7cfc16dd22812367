"""The guides under /docs/ and the OGC service's pages in a real browser (Debian's
Chromium, the page tests' fixtures): reached from the header, read on a desktop and on a
phone, their links followed; screenshots of each in English, Russian and Tajik at 1280 and
390 px wide go to test-artifacts/."""

import re

import pytest

from tests.browser import language_tabs, loaded, page_width, screenshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]
# Run in the PostgreSQL pass, which is the shorter without them (tests/browser.py).
BROWSER_ENGINE = "postgresql"

WIDTHS = {"desktop": 1280, "phone": 390}
PAGES = {
    "docs-index": "/docs/",
    "docs-ogc": "/docs/ogc/",
    "docs-api": "/docs/api/",
    "ogc-landing": "/ogc/",
    "ogc-collections": "/ogc/collections",
    "ogc-items": "/ogc/collections/deposits/items",
    "ogc-api": "/ogc/api",
}


def test_the_guides_are_a_click_from_the_header_and_link_each_other(demo, page):
    page.goto(f"{demo}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Documentation").click()
    page.wait_for_url(f"{demo}/docs/")
    page.get_by_role("link", name="OGC API – Features", exact=True).click()
    page.wait_for_url(f"{demo}/docs/ogc/")
    assert page.locator("h1").inner_text() == "The registry in GIS: OGC API – Features"
    # the contents lead to their headings
    page.get_by_role("navigation", name="Contents").get_by_role("link", name="QGIS").click()
    page.wait_for_url(f"{demo}/docs/ogc/#qgis")
    assert page.locator("h2#qgis").is_visible()
    # a link written `[docs/reserves.md](reserves.md)` leads to the served guide
    page.locator("article a[href='/docs/reserves/']").first.click()
    page.wait_for_url(f"{demo}/docs/reserves/")
    assert page.locator("h1").inner_text().startswith("Reserves and shares")


def test_swagger_links_the_api_guide(demo, page):
    page.goto(f"{demo}/api/docs/")
    link = page.get_by_role("link", name="/docs/api/")
    assert link.get_attribute("href") == "/docs/api/"  # Swagger UI opens it in a new tab
    page.goto(f"{demo}{link.get_attribute('href')}")
    assert page.locator("h1").inner_text() == "REST API v1"


def test_a_page_of_deposits_without_coordinates_says_why_it_has_no_map(demo, page):
    page.goto(f"{demo}/ogc/collections/deposits-silver/items?f=html")
    assert page.locator("#ogc-map").count() == 0
    assert "no map" in page.get_by_role("note").inner_text()
    assert page.get_by_role("link", name="Konimansuri Kalon").is_visible()


def test_the_ogc_service_is_browsable_from_its_landing_page(demo, page):
    response = page.goto(f"{demo}/ogc/")
    assert response.headers["content-type"].startswith("text/html")
    page.get_by_role(
        "link", name="Collections: all deposits, and the deposits of each mineral"
    ).click()
    page.wait_for_url(re.compile(r"/ogc/collections\?f=html$"))
    row = page.get_by_role("row", name=re.compile("^Mineral deposits of Tajikistan"))
    row.get_by_role("link", name="The deposits as a page").click()
    page.wait_for_url(re.compile(r"/ogc/collections/deposits/items\?f=html$"))
    page.wait_for_selector("#ogc-map[data-markers]")
    located = int(page.locator("#ogc-map").get_attribute("data-markers"))
    assert located > 0
    on_map = page.evaluate(
        """() => [...document.querySelectorAll("#ogc-map .marker-cluster")].reduce(
            (sum, c) => sum + Number(c.textContent.replace(/[^0-9]/g, "")),
            document.querySelectorAll("#ogc-map .deposit-marker").length)"""
    )
    assert on_map == located  # every located feature, singly or in a cluster
    rows = page.locator("table tbody tr").filter(has=page.locator("a code"))
    assert rows.count() >= located
    rows.first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/ogc/collections/deposits/items/TJD-\d+\?f=html$"))
    assert page.get_by_role("heading", name="Properties").is_visible()
    # the same resource as JSON, for programs
    page.get_by_role("link", name=re.compile(r"\?f=json$")).click()
    assert page.evaluate("document.contentType") in ("application/geo+json", "application/json")
    assert '"type":"Feature"' in page.content().replace(" ", "")


def test_a_bad_parameter_is_explained_on_a_page(demo, page):
    response = page.goto(f"{demo}/ogc/collections/deposits/items?limit=ten")
    assert response.status == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "limit" in page.locator("main").inner_text()
    response = page.goto(f"{demo}/ogc/collections/deposits/items?f=xml")
    assert response.status == 400
    assert "Unknown format 'xml'" in page.locator("main").inner_text()


def test_screenshots_of_the_guides_and_the_service_pages(demo, browser):
    """Each page in each language at both widths; on a phone nothing scrolls sideways but
    the tables and code inside their own boxes."""
    from deposits.models import Deposit

    located = Deposit.objects.filter(visibility="public", latitude__isnull=False).first()
    pages = {**PAGES, "ogc-feature": f"/ogc/collections/deposits/items/{located.public_id}"}
    for device, width in WIDTHS.items():
        with language_tabs(browser, demo, width) as tabs:
            for name, path in pages.items():
                for language, tab in loaded(tabs, f"{demo}{path}"):
                    assert tab.locator("html").get_attribute("lang") == language
                    if path.startswith("/docs/"):
                        assert (tab.locator("[role=note]").count() > 0) == (language != "en")
                    if width <= 390:
                        assert page_width(tab) <= width, path
                    screenshot(tab, f"{name}-{language}-{device}")
