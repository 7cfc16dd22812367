"""The pages' maps in Debian's Chromium: clusters, the regions' outlines, the box that
filters the list (mouse and keyboard), the note naming the deposits without coordinates,
markers and clusters operable from the keyboard. Screenshots at 1280 and 390 px go to
test-artifacts/map-*.png."""

import re
import time

import pytest
from django.conf import settings

from deposits.models import Deposit
from reports import synthetic
from tests.browser import ARTIFACTS, page_width, screenshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DRAWN = "#deposit-map[data-markers]"
# What the clusters and single markers on screen stand for, together.
ON_SCREEN = """() => {
  const clusters = [...document.querySelectorAll("#deposit-map .marker-cluster")];
  const markers = document.querySelectorAll("#deposit-map .deposit-marker").length;
  const grouped = clusters.reduce(
    (sum, c) => sum + Number(c.textContent.replace(/[^0-9]/g, "")), 0);
  return {clusters: clusters.length, markers, total: grouped + markers};
}"""


@pytest.fixture
def watched(page):
    """The page, failing the test on any script error or console error it logs."""
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    yield page
    assert problems == [], problems


@pytest.fixture
def synthetic_registry(pages_settings, live_server):
    """1,500 synthetic deposits (the benchmarks' generator) in the live server's database."""
    synthetic.generate(1_500, seed=4)
    return live_server.url


def changed(page, expression: str, before, seconds: float = 10):
    """The value of `expression` once it differs from `before` (page.wait_for_function
    evaluates a string, which the pages' Content Security Policy rightly refuses)."""
    deadline = time.monotonic() + seconds
    while (now := page.evaluate(expression)) == before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return now


def result_count(page) -> int:
    return int(
        re.search(r"[\d,]+", page.locator("#result-count").inner_text()).group().replace(",", "")
    )


def test_a_large_registry_is_drawn_as_clusters(synthetic_registry, watched):
    watched.goto(f"{synthetic_registry}/deposits/")
    watched.wait_for_selector(DRAWN, timeout=60_000)
    drawn = int(watched.locator("#deposit-map").get_attribute("data-markers"))
    assert drawn == Deposit.objects.filter(visibility="public").count() > 500
    shown = watched.evaluate(ON_SCREEN)
    assert shown["clusters"] > 0
    assert shown["clusters"] + shown["markers"] < 100  # not one marker each
    assert shown["total"] == drawn  # every deposit is in a cluster or on its own
    first = watched.locator("#deposit-map .marker-cluster").first
    assert re.fullmatch(
        r"A group of [\d,]+ deposits: press Enter to zoom in", first.get_attribute("aria-label")
    )
    screenshot(watched, "map-clusters-1280")
    watched.set_viewport_size({"width": 390, "height": 844})
    watched.reload()
    watched.wait_for_selector(DRAWN, timeout=60_000)
    assert page_width(watched) <= 390
    watched.locator(".map-figure").screenshot(path=ARTIFACTS / "map-clusters-390.png")


def test_clusters_and_markers_work_from_the_keyboard(demo, watched):
    watched.goto(f"{demo}/deposits/")
    watched.wait_for_selector(DRAWN)
    cluster = watched.locator("#deposit-map .marker-cluster").first
    cluster.focus()
    assert cluster.get_attribute("role") == "button" and cluster.get_attribute("tabindex") == "0"
    outline = watched.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus shows
    before = watched.evaluate(ON_SCREEN)
    watched.keyboard.press("Enter")  # zooms into the cluster
    after = changed(watched, ON_SCREEN, before)
    assert after != before  # zoomed in: other clusters, or their deposits on their own
    assert watched.evaluate("document.activeElement.id") == "deposit-map"  # keys move it now
    marker = watched.locator("#deposit-map .deposit-marker").first
    name = marker.get_attribute("title")
    assert name and marker.get_attribute("role") == "button"
    marker.focus()
    watched.keyboard.press("Enter")  # opens its popup, the focus on the deposit's link
    link = watched.locator(".leaflet-popup-content a")
    assert link.inner_text() == name
    assert watched.evaluate("document.activeElement.closest('.leaflet-popup') !== null")
    watched.keyboard.press("Enter")
    watched.wait_for_url(re.compile(r"/deposits/TJD-\d+/$"))
    assert watched.locator("h1").inner_text().startswith(name)


def test_a_region_page_draws_the_regions_outlines(demo, watched):
    watched.goto(f"{demo}/regions/TJ-SU/")
    watched.wait_for_selector("#deposit-map[data-regions]")
    watched.wait_for_selector(DRAWN)
    assert watched.locator("#deposit-map").get_attribute("data-regions") == "5"
    assert watched.locator("#deposit-map path.region-outline").count() == 5
    assert watched.locator("#deposit-map path.region-outline.highlighted").count() == 1
    # The map frames Sughd: its outline fills most of the map's width or height.
    region = watched.locator("#deposit-map path.region-outline.highlighted").bounding_box()
    frame = watched.locator("#deposit-map").bounding_box()
    assert region["width"] > 0.5 * frame["width"] or region["height"] > 0.5 * frame["height"]
    screenshot(watched, "map-region-sughd-1280")
    watched.set_viewport_size({"width": 390, "height": 844})
    watched.reload()
    watched.wait_for_selector(DRAWN)
    watched.locator(".map-figure").screenshot(path=ARTIFACTS / "map-region-sughd-390.png")
    # The list map draws them lightly, none highlighted without a region filter.
    watched.goto(f"{demo}/deposits/")
    watched.wait_for_selector("#deposit-map[data-regions]")
    assert watched.locator("#deposit-map path.region-outline").count() == 5
    assert watched.locator("#deposit-map path.region-outline.highlighted").count() == 0


def test_drawing_a_box_filters_the_list(demo, watched):
    watched.goto(f"{demo}/deposits/")
    watched.wait_for_selector(DRAWN)
    everything = result_count(watched)
    watched.get_by_role("button", name="Draw a box to filter").click()
    cancel = watched.get_by_role("button", name="Cancel the box")
    assert cancel.get_attribute("aria-pressed") == "true"
    frame = watched.locator("#deposit-map").bounding_box()
    x, y = frame["x"] + frame["width"] * 0.3, frame["y"] + frame["height"] * 0.3
    watched.mouse.move(x, y)
    watched.mouse.down()
    watched.mouse.move(x + frame["width"] * 0.2, y + frame["height"] * 0.35, steps=8)
    watched.mouse.up()
    watched.wait_for_url(re.compile(r"[?&]bbox=-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+$"))
    watched.wait_for_selector(DRAWN)
    west, south, east, north = (float(v) for v in watched.url.split("bbox=")[1].split(","))
    inside = result_count(watched)
    assert 0 < inside < everything
    assert (
        inside
        == Deposit.objects.filter(
            visibility="public",
            longitude__gte=west,
            longitude__lte=east,
            latitude__gte=south,
            latitude__lte=north,
        ).count()
    )
    chip = watched.locator("a.chip", has_text="Area:")
    assert re.search(r"Area: [\d.]+–[\d.]+° E, [\d.]+–[\d.]+° N", chip.inner_text())
    assert watched.locator(".map-active-box").count() == 0  # said once, by the chip
    assert watched.locator("#deposit-map path.map-box").count() == 1  # the box is drawn
    screenshot(watched, "map-box-1280")
    chip.click()
    watched.wait_for_url(re.compile(r"/deposits/$"))
    assert result_count(watched) == everything


def test_the_box_from_the_keyboard_takes_the_area_shown(demo, watched):
    watched.goto(f"{demo}/deposits/?mineral=gold")
    watched.wait_for_selector(DRAWN)
    button = watched.get_by_role("button", name="Draw a box to filter")
    button.focus()
    watched.keyboard.press("Enter")
    assert watched.evaluate("document.activeElement.id") == "deposit-map"
    assert "press Enter" in watched.locator("[data-map-status]").inner_text()
    watched.keyboard.press("Escape")  # cancels: the button again, nothing filtered
    assert watched.evaluate("document.activeElement.textContent") == "Draw a box to filter"
    watched.keyboard.press("Enter")
    watched.keyboard.press("Equal")  # zoom in once, then take what is shown
    watched.wait_for_timeout(400)
    watched.keyboard.press("Enter")
    watched.wait_for_url(re.compile(r"\?mineral=gold&bbox=[\d.,-]+$"))


def test_the_list_names_the_silver_deposits_the_map_cannot_show(demo, watched):
    watched.goto(f"{demo}/deposits/?mineral=silver")
    watched.wait_for_selector(DRAWN)
    located = int(watched.locator("#deposit-map").get_attribute("data-markers"))
    matching = result_count(watched)
    note = watched.locator(".map-unlocated")
    assert note.is_visible()
    links = note.get_by_role("link")
    assert links.count() == matching - located > 0
    assert "Konimansuri Kalon" in links.all_inner_texts()
    watched.locator(".map-figure").scroll_into_view_if_needed()
    screenshot(watched, "map-silver-note-1280")
    watched.set_viewport_size({"width": 390, "height": 844})
    watched.reload()
    watched.wait_for_selector(DRAWN)
    note.screenshot(path=ARTIFACTS / "map-silver-note-390.png")
    for language, words in (
        ("ru", "опубликованных координат"),
        ("tg", "координатаҳои нашршуда"),
    ):
        watched.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": demo}]
        )
        watched.goto(f"{demo}/deposits/?mineral=silver")
        watched.wait_for_selector(DRAWN)
        assert words in note.inner_text()
        assert note.get_by_role("link").count() == matching - located
