"""The admin as a clerk sees it in Chromium: the deposit form fits a 1280 px screen, its
inlines (minerals, estimates, State Balance lines) included, without scrolling sideways."""

import pytest

from tests.browser import screenshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GROUPS = """Array.from(document.querySelectorAll('.inline-group'))
    .map(g => [g.id, g.scrollWidth, g.clientWidth])"""


def test_the_deposit_form_fits_1280_px(demo, page):
    from django.contrib.auth import get_user_model

    from deposits.models import Deposit

    get_user_model().objects.create_superuser("clerk", password="Clerk-pass-2026")
    deposit = Deposit.objects.get(name="Konimansuri Kalon")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{demo}/admin/login/")
    page.locator("#id_username").fill("clerk")
    page.locator("#id_password").fill("Clerk-pass-2026")
    page.locator("input[type=submit]").click()
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
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(page, "admin-deposit-form-1280")
