"""The pages laid out for their readers' screens, measured in Debian's Chromium on the demo
registry: a deposit's reserves at 1280 px with their sources in sight, the region page on a
390 px phone in each language, the list's box filter said once in words."""

import pytest
from django.conf import settings

from tests.browser import overflowing, page_width, screenshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SOURCE_CELLS = """(table) => {
    const box = table.closest(".table-scroll").getBoundingClientRect();
    return Array.from(table.querySelectorAll("tbody td.source"))
        .filter((cell) => cell.textContent.trim())
        .map((cell) => {
            const r = cell.getBoundingClientRect();
            const inside = r.left >= box.left - 1 && r.right <= box.right + 1;
            return [cell.textContent.trim().slice(0, 40), inside];
        });
}"""


def test_the_reserves_and_their_sources_fit_1280_px(demo, page):
    """The deposit with the most estimates (in force and in its reserve history): each table's
    Source cells lie inside the window, and the page scrolls sideways nowhere."""
    from django.db.models import Count

    from deposits.models import Deposit

    deposit = (
        Deposit.objects.filter(visibility="public")
        .annotate(estimates=Count("reserves"))
        .order_by("-estimates", "pk")
        .first()
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo}{deposit.get_absolute_url()}")
    tables = page.locator("table:has(thead th:text-is('Source'))")
    assert tables.count() >= 2, "estimates in force and the reserve history"
    assert page.locator("table.reserve-history").count() >= 1
    cut = []
    for index in range(tables.count()):
        cells = tables.nth(index).evaluate(SOURCE_CELLS)
        assert cells, f"table {index} has no source"
        cut += [text for text, inside in cells if not inside]
    screenshot(page, "deposit-reserves-1280")
    assert cut == [], f"Source cells cut off: {cut}"
    assert page_width(page) <= 1280, overflowing(page)


@pytest.mark.parametrize("language", ["en", "ru", "tg"])
def test_the_region_home_and_statistics_pages_fit_a_phone_in_each_language(demo, page, language):
    """Their tables with bars and long Russian and Tajik headings: the region page laid out
    500 px wide in Russian, the home and statistics pages 426 px."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": demo}]
    )
    wide = {}
    for name, path in (
        ("region-sughd", "/regions/TJ-SU/"),
        ("home", "/"),
        ("statistics", "/statistics/"),
    ):
        page.goto(f"{demo}{path}")
        assert page.locator("html").get_attribute("lang") == language
        width = page_width(page)
        screenshot(page, f"{name}-{language}-390")
        if width > 390:
            wide[name] = (width, overflowing(page))
    assert wide == {}


def test_the_statistics_tables_fit_1280_px_in_each_language(demo, page):
    """Their headings (long region names, "Balance reserves A+B+C1") wrap, so neither table
    scrolls sideways at a desktop width, as the mineral-by-region one did."""
    page.set_viewport_size({"width": 1280, "height": 900})
    scrolling = {}
    for language in ("en", "ru", "tg"):
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": demo}]
        )
        page.goto(f"{demo}/statistics/")
        widths = page.evaluate(
            """Array.from(document.querySelectorAll("main .table-scroll"))
                .map((box) => [box.scrollWidth, box.clientWidth])"""
        )
        if any(scroll > client for scroll, client in widths):
            scrolling[language] = widths
        screenshot(page, f"statistics-{language}-1280")
    assert scrolling == {}
