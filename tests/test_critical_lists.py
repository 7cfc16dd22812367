"""Which official lists call a mineral critical, and the badges the pages show for them."""

import pytest
from django.core.exceptions import ValidationError

from deposits.models import CriticalList
from tests.factories import MineralFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db, load_demo_registry):
    load_demo_registry()


def badges(html: str) -> list[str]:
    return [
        code.split("-")[0]
        for code in CriticalList.values
        if f'title="{CriticalList(code).label}"' in html
    ]


def test_the_mineral_page_names_the_lists_and_a_mineral_on_none_shows_no_badge(client, demo):
    antimony = client.get("/minerals/antimony/").content.decode()
    assert badges(antimony) == ["US", "EU", "KR"]
    assert '<span aria-hidden="true">KR</span>' in antimony
    assert "Republic of Korea: critical minerals, 2023" in antimony

    gold = client.get("/minerals/gold/").content.decode()
    lead = gold.split('class="lead"')[1].split("</p>")[0]
    assert badges(gold) == [] and "critical" not in lead


def test_the_overview_shows_each_minerals_lists(client, demo):
    home = client.get("/").content.decode()
    assert 'title="European Union: critical raw materials, 2023 (CRMA)"' in home
    critical_section = home.split('id="critical"')[1].split("</section>")[0]
    assert "Antimony" in critical_section and "Gold" not in critical_section


def test_critical_follows_the_lists():
    mineral = MineralFactory(code="cobalt", critical_lists=["KR-2023", "US-2022"])
    assert mineral.critical_lists == ["US-2022", "KR-2023"] and mineral.is_critical
    mineral.critical_lists = []
    mineral.save(update_fields=["critical_lists"])
    mineral.refresh_from_db()
    assert not mineral.is_critical


def test_an_unknown_list_is_refused():
    mineral = MineralFactory.build(code="cobalt", critical_lists=["UK-2024"])
    with pytest.raises(ValidationError, match="US-2022, EU-2023, KR-2023"):
        mineral.full_clean()


def test_the_admin_edits_the_lists_one_code_a_line(editor_client):
    mineral = MineralFactory(code="cobalt", name="Cobalt", symbol="Co", group="base")
    page = editor_client.get(f"/admin/deposits/mineral/{mineral.pk}/change/")
    form = page.context["adminform"].form
    assert "critical_lists" in form.fields and "is_critical" not in form.fields
