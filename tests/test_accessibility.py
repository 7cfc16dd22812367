"""An accessibility audit of the pages: axe-core (the npm package, installed by `make
install-dev` from package-lock.json) run in Debian's Chromium over each page kind of the
demo registry, in English, Russian and Tajik, at a desktop and a phone width. A serious
or critical violation fails; the lesser ones are written to test-artifacts/ to read.
The same walk keeps a picture of each page in each language at each width, to look at:
test-artifacts/pages/<page>-<language>-<width>.png.

It runs in the SQLite pass only: what it audits is the HTML the templates make.

axe is given to the page through Playwright's evaluation, which the pages' CSP does not
govern (it governs what the page itself loads), so the audit sees the page as served.
"""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.browser import ARTIFACTS, language_tabs, loaded, screenshot

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

if not AXE.exists():
    reason = f"{AXE} is missing: run `make install-dev` (npm ci)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # The audit reads the HTML the templates make, which no engine changes; it runs once,
    # in the SQLite pass, beside the longer PostgreSQL pass of CI (docs/pages.md).
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the audit runs once, on the SQLite pass"
    ),
]

# WCAG 2.1 A and AA, and axe's own best practices (landmarks, one h1, skip links).
# Only violations are described in full (`resultTypes`), all of their nodes, as before:
# they are all the audit reads. The passes and incomplete checks, which it never reads,
# are no longer described node by node.
RULES = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
FAILING = {"serious", "critical"}
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def page_paths() -> dict[str, str]:
    from cooperation.models import Event, Memorandum, Organisation
    from deposits.models import Deposit

    def public(model):
        return model.objects.filter(visibility="public").order_by("pk").first()

    deposit = Deposit.objects.get(name="Konimansuri Kalon")
    return {
        "home": "/",
        "deposit list": "/deposits/?mineral=silver",
        "deposit list by share": "/deposits/?mineral=silver&ordering=-share",
        "deposit": deposit.get_absolute_url(),
        "mineral": "/minerals/silver/",
        "region": "/regions/TJ-SU/",
        "statistics": "/statistics/",
        "spelling": "/deposits/spelling/",
        "guides": "/docs/",
        "API guide": "/docs/api/",
        "OGC landing page": "/ogc/?f=html",
        "cooperation": "/cooperation/",
        "event": f"/cooperation/events/{public(Event).public_id}/",
        "memorandum": f"/cooperation/memoranda/{public(Memorandum).public_id}/",
        "organisation": f"/cooperation/organisations/{Organisation.objects.first().public_id}/",
    }


def audit(browser_page) -> list[dict]:
    browser_page.evaluate(AXE.read_text(encoding="utf-8"))
    result = browser_page.evaluate("(options) => axe.run(document, options)", RULES)
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "where": [" ".join(node["target"]) for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_serious_violation_on_any_page_in_any_language(demo, browser, width):
    found, serious = {}, {}
    with language_tabs(browser, demo, *WIDTHS[width]) as tabs:
        for kind, path in page_paths().items():
            for language, tab in loaded(tabs, f"{demo}{path}"):
                screenshot(tab, f"pages/{kind.replace(' ', '-')}-{language}-{WIDTHS[width][0]}")
                violations = audit(tab)
                if violations:
                    found[f"{language} {kind}"] = violations
                bad = [v for v in violations if v["impact"] in FAILING]
                if bad:
                    serious[f"{language} {kind}"] = bad
    ARTIFACTS.mkdir(exist_ok=True)
    report = ARTIFACTS / f"accessibility-{width}.json"
    report.write_text(json.dumps(found, indent=1, ensure_ascii=False), encoding="utf-8")
    assert serious == {}, json.dumps(serious, indent=1, ensure_ascii=False)
