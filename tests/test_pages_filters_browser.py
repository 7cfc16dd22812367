"""The deposit list's filters in a real browser: searchable selects, chips, the phone layout.

Debian's Chromium on the demo registry, with the fixtures of tests/browser.py
(the live server, the demo, a page that fails on any request leaving the machine). The
list at 1280 and 390 px in English, Russian and Tajik is kept as screenshots in
test-artifacts/ (deposit-list-filters-<language>-<width>.png).
"""

import re

import pytest
from django.conf import settings

from tests.browser import page_width, screenshot, violations

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}
# What each language calls what the tests look for (the catalogues' own words).
WORDS = {
    "en": {"mineral": "Mineral:", "silver": "Silver", "filters": "Filters (1)",
           "region": "Sughd", "apply": "Apply filters"},
    "ru": {"mineral": "Полезное ископаемое:", "silver": "Серебро", "filters": "Фильтры (1)",
           "region": "Согдийская область", "apply": "Применить"},
    "tg": {"mineral": "Маъдан:", "silver": "Нуқра", "filters": "Филтрҳо (1)",
           "region": "Вилояти Суғд", "apply": "Татбиқ кардан"},
}  # fmt: skip


def in_language(page, base, language):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}]
    )


def mineral_box(page, label="Mineral:"):
    """The searchable select of minerals: the combobox Tom Select puts in the select's place,
    named by the same label."""
    return page.get_by_role("combobox", name=label, exact=True)


def listed(page) -> list[str]:
    return page.locator("table.deposits tbody th a").all_inner_texts()


def chips(page) -> list[str]:
    """The active filters' chips as a screen reader reads them."""
    return [" ".join(text.split()) for text in page.locator("a.chip").all_text_contents()]


def result_count(page) -> int:
    return int(re.search(r"\d+", page.locator("#result-count").inner_text()).group())


def test_a_mineral_is_chosen_by_typing_any_of_its_names(demo, page):
    page.goto(f"{demo}/deposits/")
    # the plain select, enhanced: left for screen readers and the form, out of sight
    assert "ts-hidden-accessible" in page.locator("#id_mineral").get_attribute("class")
    box = mineral_box(page)
    box.press_sequentially("silv", delay=20)
    options = page.locator("#id_mineral-ts-dropdown .option")
    assert options.all_inner_texts() == ["Silver\n3"]  # its name and how many deposits
    box.press("Enter")
    # the Russian name on an English page, and the symbol, find the others
    box.press_sequentially("сурьма", delay=20)
    assert options.all_inner_texts() == ["Antimony\n2"]
    box.press("Enter")
    box.press_sequentially("Au", delay=20)
    assert options.first.inner_text().startswith("Gold")
    box.press("Escape")
    chosen = page.locator("#id_mineral + .ts-wrapper .item")
    assert [t.replace("×", "").strip() for t in chosen.all_inner_texts()] == ["Silver", "Antimony"]
    assert chosen.first.get_by_role("button").get_attribute("aria-label") == "Remove Silver"

    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"\?mineral=silver&mineral=antimony$"))  # no empty fields
    assert "Konimansuri Kalon" in listed(page)
    assert chips(page) == [
        "Remove the filter Mineral: Silver ×",
        "Remove the filter Mineral: Antimony ×",
    ]
    screenshot(page, "deposit-list-minerals-typed")


def test_removing_a_chip_changes_the_url_and_the_list(demo, page):
    page.goto(f"{demo}/deposits/?mineral=silver&region=TJ-SU&ordering=-name")
    assert listed(page) == ["Konimansuri Kalon", "Konchoch", "Altyn-Topkan"]
    page.get_by_role("link", name="Remove the filter Region: Sughd").click()
    page.wait_for_url(f"{demo}/deposits/?mineral=silver&ordering=-name")
    assert page.get_by_role("link", name=re.compile("Remove the filter")).count() == 1
    assert page.locator("#id_region").evaluate("s => s.selectedOptions.length") == 0
    page.get_by_role("link", name="Remove the filter Mineral: Silver").click()
    page.wait_for_url(f"{demo}/deposits/?ordering=-name")
    assert result_count(page) == 49  # the whole demo registry
    assert page.locator("ul.chips").count() == 0

    page.goto(f"{demo}/deposits/?mineral=gold&status=producing&q=a")
    fewer = result_count(page)
    page.get_by_role("link", name="Clear all filters").click()
    page.wait_for_url(f"{demo}/deposits/")
    assert result_count(page) > fewer


def test_on_a_phone_the_list_comes_first_and_the_filters_wait_behind_their_summary(demo, page):
    page.set_viewport_size(PHONE)
    page.goto(f"{demo}/deposits/?mineral=silver")
    summary = page.locator("details.filter-panel > summary")
    assert summary.inner_text() == "Filters (1)"
    assert page.locator("form.filters").is_hidden()
    first_row = page.locator("table.deposits tbody tr").first.bounding_box()
    assert first_row["y"] + first_row["height"] <= PHONE["height"], "the list is below the fold"
    assert page_width(page) <= PHONE["width"]

    summary.click()
    box = mineral_box(page)
    assert box.is_visible()
    box.press_sequentially("gold", delay=20)
    box.press("Enter")
    box.press("Escape")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"\?mineral=silver&mineral=gold$"))
    assert summary.inner_text() == "Filters (2)"
    assert page.locator("form.filters").is_hidden()


def test_on_a_wide_screen_the_filters_are_open_with_no_summary(demo, page):
    page.goto(f"{demo}/deposits/?mineral=silver")
    assert page.locator("details.filter-panel > summary").is_hidden()
    assert mineral_box(page).is_visible()
    assert page.get_by_role("button", name="Apply filters").is_visible()


@pytest.mark.parametrize("language", ["en", "ru", "tg"])
def test_the_filters_speak_the_page_language(demo, page, language):
    """The names of the choices, the chosen values and the chips in en, ru and tg; one
    picture of the list at 1280 and at 390 px per language."""
    words = WORDS[language]
    in_language(page, demo, language)
    page.goto(f"{demo}/deposits/?mineral=silver&region=TJ-SU")
    chosen = page.locator("#id_mineral + .ts-wrapper .item").first
    assert chosen.inner_text().replace("×", "").strip() == words["silver"]
    assert chosen.get_by_role("button").get_attribute("aria-label").endswith(words["silver"])
    shown = chips(page)
    assert any(f"{words['mineral']} {words['silver']}" in chip for chip in shown), shown
    assert any(words["region"] in chip for chip in shown), shown
    box = mineral_box(page, words["mineral"])
    box.click()
    names = page.locator("#id_mineral-ts-dropdown .option > span:first-child").all_inner_texts()
    assert names == sorted(names, key=str.casefold)  # in the alphabet of the page
    box.press("Escape")
    screenshot(page, f"deposit-list-filters-{language}-1280")

    page.set_viewport_size(PHONE)
    page.reload()
    summary = page.locator("details.filter-panel > summary")
    assert summary.inner_text() == words["filters"].replace("(1)", "(2)")
    screenshot(page, f"deposit-list-filters-{language}-390")
    summary.click()
    assert page.get_by_role("button", name=words["apply"]).is_visible()
    screenshot(page, f"deposit-list-filters-open-{language}-390")


def test_without_javascript_the_filters_are_plain_selects_of_the_same_form(demo, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{demo}/deposits/")
    assert page.locator("form.filters").is_visible()  # open on a wide screen, no script
    page.locator("#id_mineral").select_option(["silver", "gold"])
    page.locator("#id_region").select_option("TJ-SU")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"\?mineral=gold&mineral=silver&region=TJ-SU&"))
    assert "Konimansuri Kalon" in listed(page)
    assert page.locator("a.chip").count() == 3
    page.get_by_role("link", name="Remove the filter Mineral: Gold").click()
    page.wait_for_url(re.compile(r"\?mineral=silver&region=TJ-SU&"))
    assert page.locator("#id_mineral").evaluate(
        "s => [...s.selectedOptions].map(o => o.value)"
    ) == ["silver"]
    context.close()


def test_the_searchable_filters_raise_no_csp_violation(demo, csp_watched):
    csp_watched.goto(f"{demo}/deposits/?mineral=silver")
    box = mineral_box(csp_watched)
    box.press_sequentially("go", delay=20)
    box.press("Enter")
    csp_watched.locator("#id_mineral + .ts-wrapper .item .remove").first.click()
    box.press("Escape")
    csp_watched.get_by_role("button", name="Apply filters").click()
    csp_watched.wait_for_url(re.compile(r"\?mineral=gold$"))
    csp_watched.wait_for_load_state("networkidle")
    assert violations(csp_watched) == []
