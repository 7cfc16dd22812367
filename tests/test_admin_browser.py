"""The admin as a clerk sees it in Chromium: the deposit form and the spreadsheet import
preview fit a 1280 px screen, the form's inlines (minerals, estimates, State Balance lines)
included, without scrolling sideways; the change forms with tabular inlines fit a 390 px
phone too, each row's cells stacked under their columns' names."""

import pytest

from tests.browser import overflowing, page_width, screenshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GROUPS = """Array.from(document.querySelectorAll('.inline-group'))
    .map(g => [g.id, g.scrollWidth, g.clientWidth])"""


def test_the_deposit_form_fits_1280_px(demo, page):
    from deposits.models import Deposit

    log_in_as_clerk(page, demo)
    deposit = Deposit.objects.get(name="Konimansuri Kalon")
    page.goto(f"{demo}/admin/deposits/deposit/{deposit.pk}/change/")
    page.locator("#movements-group summary").click()
    page.locator("#movements-group .add-row a").click()  # a new State Balance line, open

    groups = page.evaluate(GROUPS)
    assert {group for group, _, _ in groups} >= {
        "commodities-group",
        "reserves-group",
        "movements-group",
    }
    assert [g for g in groups if g[1] > g[2]] == [], "an inline scrolls sideways"
    assert page_width(page) <= 1280
    screenshot(page, "admin-deposit-form-1280")


def log_in_as_clerk(page, demo):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("clerk", password="Clerk-pass-2026")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo}/admin/login/")
    page.locator("#id_username").fill("clerk")
    page.locator("#id_password").fill("Clerk-pass-2026")
    page.locator("input[type=submit]").click()


def test_the_import_preview_fits_1280_px_with_each_refusal_written_out(demo, page):
    """Two rows of the registry's own export, the second moved out of the country: the
    preview lays the 20 columns out within the window and writes the refusal beside it."""
    from deposits.models import Deposit
    from deposits.resources import DepositResource

    log_in_as_clerk(page, demo)
    deposits = Deposit.objects.filter(public_id__in=["TJD-000001", "TJD-000002"])
    dataset = DepositResource().export(deposits)
    assert len(dataset) == 2
    moved = list(dataset[1])
    moved[dataset.headers.index("latitude")] = "95"
    dataset[1] = tuple(moved)

    page.goto(f"{demo}/admin/deposits/deposit/import/")
    page.locator("#id_import_file").set_input_files(
        {"name": "deposits.csv", "mimeType": "text/csv", "buffer": dataset.csv.encode("utf-8")}
    )
    page.locator("#id_format").select_option(label="csv")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()

    refused = page.locator("#refused-rows tbody tr")
    assert refused.count() == 1
    reason = refused.first.locator(".import-reasons")
    assert reason.is_visible()
    assert "outside Tajikistan" in reason.inner_text()
    assert "latitude" in reason.inner_text()
    assert page.locator("#valid-rows tbody tr").count() == 1  # the good row, shown too
    screenshot(page, "admin-import-preview-1280")
    assert page_width(page) <= 1280


# A stacked cell's column name is its ::before; a cell of a row laid out as a table row has
# none. The first row's cells with a name, as [column, the name shown above the cell].
SHOWN_COLUMNS = """(group) => Array.from(
    document.querySelectorAll(`#${group} tbody tr.form-row:not(.empty-form)`)[0].cells)
    .filter((cell) => cell.dataset.label && getComputedStyle(cell).display !== "none")
    .map((cell) => [cell.dataset.label,
        getComputedStyle(cell, "::before").content.replace(/^"|"$/g, "")])"""

# The change forms with tabular inlines, each with the inline whose cells are looked at.
FORMS = {
    "change-form": ("deposits.Deposit", {"name": "Konimansuri Kalon"}, "commodities-group"),
    "memorandum-form": ("cooperation.Memorandum", {"public_id": "MOU-000001"}, "commitments-group"),
    "organisation-form": ("cooperation.Organisation", {"public_id": "ORG-000001"}, "people-group"),
    "region-form": ("deposits.Region", {"code": "TJ-GB"}, "districts-group"),
}


def test_the_change_forms_in_each_language_at_each_width(demo, page):
    """The change forms with tabular inlines (deposit, memorandum, organisation, region)
    as a clerk sees them, in English, Russian and Tajik, at 1280 and 390 px
    (test-artifacts/pages/admin-<form>-<language>-<width>.png). At both widths neither
    the page nor any inline scrolls sideways; at 390 px a tabular inline's row stacks its
    cells, each under its column's name, and the reserve history does the same."""
    from django.apps import apps
    from django.conf import settings

    log_in_as_clerk(page, demo)
    urls = {}
    for name, (model, lookup, _group) in FORMS.items():
        record = apps.get_model(model).objects.get(**lookup)
        meta = record._meta
        urls[name] = f"{demo}/admin/{meta.app_label}/{meta.model_name}/{record.pk}/change/"
    measured = {}
    for language in ("en", "ru", "tg"):
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": demo}]
        )
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for name, (_model, _lookup, group) in FORMS.items():
                page.goto(urls[name])
                assert page.locator("html").get_attribute("lang") == language
                screenshot(page, f"pages/admin-{name}-{language}-{width}")
                where = (name, language, width)
                measured[where] = page_width(page)
                assert measured[where] <= width, (where, overflowing(page))
                groups = page.evaluate(GROUPS)
                assert group in {g for g, _, _ in groups}
                assert [g for g in groups if g[1] > g[2]] == [], (where, "scrolls sideways")
                shown = page.evaluate(SHOWN_COLUMNS, group)
                assert len(shown) >= 3, (where, shown)
                if width == 390:  # each cell under its column's name, as the header says
                    headers = page.locator(f"#{group} thead th").all_text_contents()
                    assert all(label == shown_as for label, shown_as in shown), (where, shown)
                    assert {label for label, _ in shown} <= {h.strip() for h in headers}
                else:  # a table row: the names are the header's alone
                    assert all(shown_as == "none" for _, shown_as in shown), (where, shown)
                if name == "change-form":  # the reserve history, stacked the same way
                    history = page.locator("#reserve-history td[data-label]")
                    assert history.count() >= 6
                    cell = history.first
                    assert cell.evaluate("(c) => getComputedStyle(c, '::before').content") == (
                        f'"{cell.get_attribute("data-label")}"' if width == 390 else "none"
                    )
    assert max(measured.values()) <= 1280, measured
