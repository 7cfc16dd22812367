"""A clerk issues a partner's key in the admin in a real browser (Debian's Chromium, the page
tests' fixtures), the partner reads with it, and the clerk revokes it."""

import json
import urllib.error
import urllib.request

import pytest

from tests.browser import screenshot
from tests.factories import DepositFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def deposits_read_with(base: str, key: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/v1/deposits/?q=Partners only", headers={"Authorization": f"Token {key}"}
    )
    request.full_url = request.full_url.replace(" ", "%20")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_clerk_issues_a_key_the_partner_reads_with_it_and_the_clerk_revokes_it(demo, page):
    DepositFactory(name="Partners only", visibility="partners")
    # The permissions a key clerk needs, and no more, are held in tests/test_admin_api_keys.py;
    # here the path through the pages, as an administrator walks it.
    UserFactory(username="key-clerk", is_superuser=True)
    page.goto(f"{demo}/admin/login/")
    page.get_by_label("Username").fill("key-clerk")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{demo}/admin/")

    page.get_by_role("link", name="API keys").first.click()
    page.get_by_role("link", name="Add API key").click()
    kigam = page.locator("#id_organisation option", has_text="(KIGAM)").get_attribute("value")
    page.get_by_label("Partner organisation").select_option(kigam)
    page.get_by_label("Note").fill("KIGAM GIS sync")
    page.locator("#id_expires_at_0").fill("2099-12-31")
    page.locator("#id_expires_at_1").fill("12:00:00")
    page.get_by_role("button", name="Save", exact=True).click()

    key = page.locator("#issued-key").input_value()
    assert key.startswith("tjr_")
    screenshot(page, "admin-api-key-issued")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "admin-api-key-issued-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    status, answer = deposits_read_with(demo, key)
    assert status == 200
    assert [d["name"] for d in answer["results"]] == ["Partners only"]

    # never shown again
    page.goto(f"{demo}/admin/registry/apikey/")
    assert key not in page.content()
    row = page.get_by_role("row", name="KIGAM GIS sync")
    assert row.is_visible()
    row.get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label="Revoke the selected keys")
    page.get_by_role("button", name="Go").click()
    assert "1 key(s) revoked." in page.locator(".messagelist").inner_text()

    status, answer = deposits_read_with(demo, key)
    assert status == 401
