"""The pages in a real browser: Debian's Chromium driven by Playwright, on the demo registry.

The fixtures (the machine's Chromium, the live server, the demo registry) are in
tests/browser.py. Screenshots of the main pages go to test-artifacts/.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import page_width, screenshot

# serialized_rollback: the staff groups made by migrations survive for the tests that follow.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_filter_silver_in_sughd_then_open_konimansur(demo, page):
    page.goto(f"{demo}/deposits/")
    for label, typed in (("Mineral:", "silver"), ("Region:", "sughd")):  # searchable selects
        box = page.get_by_role("combobox", name=label, exact=True)
        box.press_sequentially(typed, delay=20)
        box.press("Enter")
        box.press("Escape")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"mineral=silver.*region=TJ-SU"))
    assert page.get_by_role("rowheader").get_by_role("link", name="Konimansuri Kalon").is_visible()
    screenshot(page, "deposit-list-silver-sughd")

    page.get_by_role("rowheader").get_by_role("link", name="Konimansuri Kalon").click()
    page.wait_for_url(re.compile(r"/deposits/TJD-\d+/$"))
    minerals = page.get_by_role("table").first
    assert "70%" in minerals.inner_text()
    cooperation = page.locator("section[aria-labelledby=cooperation]")
    assert "roundtable" in cooperation.inner_text().lower()
    assert "2024" in cooperation.inner_text()
    screenshot(page, "deposit-konimansur")


def test_switch_to_russian(demo, page):
    page.goto(f"{demo}/deposits/?mineral=silver&region=TJ-SU")
    page.get_by_role("rowheader").get_by_role("link", name="Konimansuri Kalon").click()
    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Switch language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ru"
    body = page.locator("main").inner_text()
    assert "Доля в запасах страны" in body
    assert "Серебро" in body
    screenshot(page, "deposit-konimansur-ru")


def test_the_header_suggests_as_one_types_in_any_spelling(demo, page):
    page.goto(f"{demo}/minerals/silver/")
    box = page.get_by_role("combobox", name="Search the registry")
    box.press_sequentially("Кони-Мансур", delay=20)
    suggestion = page.locator("#site-search-suggestions a").first
    suggestion.wait_for()
    assert suggestion.inner_text().startswith("Konimansuri Kalon")
    assert box.get_attribute("aria-expanded") == "true"
    screenshot(page, "search-suggestions")
    box.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/deposits/TJD-\d+/$"))
    assert page.locator("h1").inner_text() == "Konimansuri Kalon"
    # Without a pick, the box searches the deposit list, as it does without scripts.
    box = page.get_by_role("combobox", name="Search the registry")
    box.fill("Jijikrut")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/deposits/\?q=Jijikrut"))
    assert page.get_by_role("link", name="Dzhizhikrut").is_visible()


def test_the_map_draws_its_markers(demo, page):
    page.goto(f"{demo}/deposits/")
    page.wait_for_selector("#deposit-map[data-markers]")
    drawn = int(page.locator("#deposit-map").get_attribute("data-markers"))
    assert drawn > 0
    # Neighbours are gathered into clusters (tests/test_pages_map_browser.py); a marker
    # on its own opens a popup linking to its deposit.
    assert page.locator("#deposit-map .deposit-marker, #deposit-map .marker-cluster").count() > 0
    # a click event on the marker itself: a pixel click may land on a neighbour drawn on top
    page.locator("#deposit-map .deposit-marker").first.dispatch_event("click")
    popup_link = page.locator(".leaflet-popup-content a")
    assert re.search(r"/deposits/TJD-\d+/$", popup_link.get_attribute("href"))
    page.wait_for_selector("#deposit-map .leaflet-overlay-pane path")  # borders drawn too
    screenshot(page, "deposit-list-map")


def test_csv_export_matches_the_count_on_screen(demo, page):
    page.goto(f"{demo}/deposits/?mineral=gold")
    count_text = page.locator("#result-count").inner_text()
    on_screen = int(re.search(r"\d+", count_text.replace(",", "")).group())
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").first.click()
    path = download_info.value.path()
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert on_screen > 0
    assert len(rows) - 1 == on_screen


def test_sort_silver_by_share_then_export_it_with_its_reserves(demo, page):
    """An analyst's question: which deposits hold most of the country's silver?"""
    page.goto(f"{demo}/deposits/?mineral=silver")
    rows = page.locator("table.deposits tbody th[scope=row] > a")
    by_name = rows.all_inner_texts()
    assert by_name == sorted(by_name)
    page.get_by_role("link", name=re.compile("Minerals and share of national reserves")).click()
    page.wait_for_url(re.compile(r"ordering=-share"))
    # Konimansuri Kalon's published "over 70%" is the only silver share the demo knows;
    # the deposits without one follow, by name.
    by_share = rows.all_inner_texts()
    assert by_share[0] == "Konimansuri Kalon"
    assert by_share[1:] == sorted(by_share[1:])
    sorted_header = page.locator('table.deposits th[aria-sort="descending"]')
    assert "Minerals and share of national reserves" in sorted_header.inner_text()
    note = page.locator("#sort-note")
    assert note.inner_text().startswith("Sorted by the share of Silver in the national reserves.")
    quantity = page.get_by_role("columnheader", name=re.compile("Silver reserves in force"))
    assert quantity.is_visible()
    screenshot(page, "deposit-list-silver-by-share")
    with page.expect_download() as download_info:
        page.locator('a[href*="export.csv"][href*="include=reserves"]').click()
    path = download_info.value.path()
    exported = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert [row["Name"] for row in exported] == by_share
    assert exported[0]["Silver: reserve share (%)"] == "70.00"
    assert exported[0]["Silver: share basis"].startswith("reported")


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("home", "/"),
        ("mineral-silver", "/minerals/silver/"),
        ("region-sughd", "/regions/TJ-SU/"),
        ("cooperation", "/cooperation/"),
    ],
)
def test_main_pages_render_for_the_screenshots(demo, page, name, path):
    page.goto(f"{demo}{path}")
    assert page.locator("h1").is_visible()
    screenshot(page, name)


def test_the_list_is_usable_on_a_phone(demo, page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{demo}/deposits/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    width = page_width(page)
    assert width <= 390, "the page scrolls sideways on a phone"
    screenshot(page, "deposit-list-phone")


# --- every page kind in Russian and in Tajik -------------------------------------------------

# What a page labels (headings, table headers, form labels, help, buttons, navigation,
# choices, notes), not what it lists: row headers and data cells are records' own text,
# and free text shown in English for want of a translation is inside lang="en".
LABELS = (
    "h1, h2, h3, caption, legend, thead th, dt, label, button, summary, option, nav a, "
    ".breadcrumbs a, .object-tools a, .submit-row input, a.button, .help, .helptext, "
    "main p, #content p, .badge, .in-english"
)
READ_LABELS = """(selector) => Array.from(document.querySelectorAll(selector))
    .filter((e) => !e.closest('[lang="en"]'))
    .map((e) => {
        if (e.tagName === "INPUT") return e.value;
        const label = e.cloneNode(true);
        label.querySelectorAll('[lang="en"], script, style').forEach((x) => x.remove());
        return label.textContent;
    })"""


def english_labels(language: str) -> dict[str, str]:
    """The English msgids of our catalogue whose `language` translation differs from the
    English, keyed by the form a page may show them in (lower case, no trailing colon)."""
    from kernel.translations import read_catalogue

    po = read_catalogue(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES/django.po")
    found = {}
    for message in po:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if (
                english
                and "%" not in english
                and all(s and s.lower() != english.lower() for s in strings)
            ):
                found[english.lower()] = english
    return found


def public(model):
    return model.objects.filter(visibility="public").order_by("pk").first()


def shown_label(text: str) -> str:
    return " ".join(text.split()).rstrip(":*").strip().lower()


def test_every_page_kind_speaks_russian_and_tajik(demo, page, tmp_path):
    """For ru and tg: the admin index, the admin deposit form (add and change) and each
    page kind show no English label where the catalogue has a translation. One browser
    session for all; one picture of the admin deposit form per language."""
    from django.contrib.auth import get_user_model

    from cooperation.models import Event, Memorandum, Organisation
    from deposits.models import Deposit

    get_user_model().objects.create_superuser("translator", password="Translator-pass-2026")
    deposit = Deposit.objects.get(name="Konimansuri Kalon")
    paths = {
        "admin index": "/admin/",
        "admin deposit add": "/admin/deposits/deposit/add/",
        "admin deposit change": f"/admin/deposits/deposit/{deposit.pk}/change/",
        "home": "/",
        "deposit list": "/deposits/?mineral=silver",
        "deposit": deposit.get_absolute_url(),
        "mineral": "/minerals/silver/",
        "region": "/regions/TJ-SU/",
        "statistics": "/statistics/",
        "spelling": "/deposits/spelling/",
        "cooperation": "/cooperation/",
        "event": f"/cooperation/events/{public(Event).public_id}/",
        "memorandum": f"/cooperation/memoranda/{public(Memorandum).public_id}/",
        "organisation": f"/cooperation/organisations/{Organisation.objects.first().public_id}/",
        "documentation": "/docs/",
        "guide": "/docs/ogc/",
        "ogc landing": "/ogc/",
        "ogc collections": "/ogc/collections",
        "ogc collection": "/ogc/collections/deposits",
        "ogc items": "/ogc/collections/deposits/items",
        "ogc feature": f"/ogc/collections/deposits/items/{deposit.public_id}",
        "ogc queryables": "/ogc/collections/deposits/queryables",
        "ogc conformance": "/ogc/conformance",
        "ogc operations": "/ogc/api",
    }

    page.goto(f"{demo}/admin/login/")
    page.locator("#id_username").fill("translator")
    page.locator("#id_password").fill("Translator-pass-2026")
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{demo}/admin/")

    leaks = {}
    for language in ("ru", "tg"):
        english = english_labels(language)
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": demo}]
        )
        for kind, path in paths.items():
            response = page.goto(f"{demo}{path}")
            assert response.status == 200, (language, kind)
            assert page.locator("html").get_attribute("lang") == language, (language, kind)
            labels = {shown_label(text) for text in page.evaluate(READ_LABELS, LABELS)}
            found = sorted(english[label] for label in labels if label in english)
            if found:
                leaks[f"{language} {kind}"] = found
            if kind == "admin deposit change":
                picture = tmp_path / f"admin-deposit-form-{language}.png"
                page.screenshot(path=picture, full_page=True)
                screenshot(page, f"admin-deposit-form-{language}")
                assert picture.stat().st_size > 20_000
    assert leaks == {}
