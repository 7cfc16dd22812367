"""The admin as a clerk sees it in Chromium: the deposit form and the spreadsheet import
preview fit a 1280 px screen, the form's inlines (minerals, estimates, State Balance lines)
included, without scrolling sideways."""

import pytest

from tests.browser import page_width, screenshot

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


def test_the_deposit_form_in_each_language_at_each_width(demo, page):
    """Pictures of the deposit change form as a clerk sees it, in English, Russian and
    Tajik, at 1280 and 390 px (test-artifacts/pages/admin-change-form-<language>-<width>.png);
    at 1280 px it scrolls sideways in no language."""
    from django.conf import settings

    from deposits.models import Deposit

    log_in_as_clerk(page, demo)
    deposit = Deposit.objects.get(name="Konimansuri Kalon")
    wide = {}
    for language in ("en", "ru", "tg"):
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": demo}]
        )
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{demo}/admin/deposits/deposit/{deposit.pk}/change/")
            assert page.locator("html").get_attribute("lang") == language
            screenshot(page, f"pages/admin-change-form-{language}-{width}")
            if width == 1280:
                wide[language] = page_width(page)
    assert all(measured <= 1280 for measured in wide.values()), wide
