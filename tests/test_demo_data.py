"""The demo registry loads real, sourced data, once, however often it is run."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from deposits.demo import DATA_DIR
from deposits.models import Deposit, DepositCommodity, District, Mineral, Region, ReserveEstimate

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_for_module, db):
    """What `load_demo` loads (once a run, then restored once for the module:
    tests/conftest.py)."""


def record_counts():
    models = [Region, District, Mineral, Deposit, DepositCommodity, ReserveEstimate]
    return {model.__name__: (model.objects.count(), model.history.count()) for model in models}


def test_loading_twice_changes_nothing(demo):
    before = record_counts()
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert record_counts() == before
    assert "created 0, updated 0, unchanged 50, refused 0" in out.getvalue()


def test_regions_and_districts_from_the_admin_units_table(demo):
    assert set(Region.objects.values_list("code", flat=True)) == {
        "TJ-DU",
        "TJ-GB",
        "TJ-KT",
        "TJ-RA",
        "TJ-SU",
    }
    asht = District.objects.get(code="TJ-SU-10")
    assert (asht.name, asht.name_ru, asht.region.code) == ("Asht", "Аштский район", "TJ-SU")
    assert District.objects.count() == 65


def test_critical_means_named_by_an_official_list(demo):
    """deposits/data/critical_minerals_lists.csv: US 2022, EU 2023 (CRMA), Korea 2023."""
    lists = dict(Mineral.objects.values_list("code", "critical_lists"))
    everywhere = ["US-2022", "EU-2023", "KR-2023"]
    assert lists["antimony"] == lists["tungsten"] == lists["lithium"] == everywhere
    assert lists["rare-earth-elements"] == everywhere  # the groups and their named members
    assert lists["fluorite"] == ["US-2022", "EU-2023"]  # listed as "Fluorspar"
    assert lists["copper"] == ["EU-2023", "KR-2023"]  # not on the US list of 2022
    assert lists["molybdenum"] == lists["lead"] == ["KR-2023"]
    assert lists["phosphate"] == ["EU-2023"]
    for nowhere in ("gold", "silver", "mercury", "salt", "potash", "quartz"):
        assert lists[nowhere] == [], nowhere
    for mineral in Mineral.objects.all():
        assert mineral.is_critical == bool(mineral.critical_lists), mineral.code
    assert not Mineral.objects.get(code="gold").is_critical


def test_konimansur_as_the_issue_describes_it(demo):
    deposit = Deposit.objects.search("конимансур").get()
    assert deposit.name == "Konimansuri Kalon"
    assert (deposit.name_ru, deposit.name_tg) == ("Большой Конимансур", "Конимансури Калон")
    for alias in ["Koni Mansour", "Konimansur", "Bolshoi Konimansur"]:
        assert alias in deposit.aliases
    assert not {deposit.name_ru, deposit.name_tg} & set(deposit.aliases)  # names, not aliases
    assert deposit.region.code == "TJ-SU"
    roles = {c.mineral.code: c.role for c in deposit.commodities.all()}
    assert roles == {"silver": "main", "lead": "associated", "zinc": "associated"}
    silver = deposit.commodities.get(mineral__code="silver")
    assert (silver.reported_share_bound, silver.reported_share_pct) == ("over", Decimal("70"))
    assert "over 70%" in silver.reported_share_source
    assert "9 December 2024" in silver.reported_share_source


def test_minmod_records_merge_into_the_curated_deposits(demo):
    # Jezhikrut (USGS Sb record) and Dzhizhikrut (Hg record) are one deposit 6 km apart
    deposit = Deposit.objects.search("Jezhikrut").get()
    assert deposit.name == "Dzhizhikrut"
    assert any("record 1850" in s for s in deposit.sources)
    # Nurek salt and the Nurek potash site 50 km away stay two deposits
    assert Deposit.objects.search("Nurek").count() == 2
    # three unnamed phosphate occurrences are never merged by their placeholder name
    assert Deposit.objects.filter(name="Unnamed P occurrence").count() == 3


def test_every_deposit_and_figure_keeps_its_source(demo):
    for deposit in Deposit.objects.all():
        assert deposit.sources, deposit.name
    for estimate in ReserveEstimate.objects.all():
        assert estimate.source, estimate
    for commodity in DepositCommodity.objects.exclude(reported_share_pct=None):
        assert commodity.reported_share_source


def test_crirsco_figures_stay_crirsco(demo):
    konimansur = Deposit.objects.get(name="Konimansuri Kalon")
    mudd = konimansur.reserves.get(mineral__code="silver", category="mii")
    assert mudd.ore_tonnage == Decimal("961000000")
    assert mudd.grade == Decimal("52")
    assert mudd.balance is None
    assert not ReserveEstimate.objects.filter(category__in=["A", "B", "C1", "C2"]).exists()


def test_regions_guessed_from_coordinates_are_marked_derived(demo):
    maykhura = Deposit.objects.get(name="Maykhura")
    assert maykhura.region.code == "TJ-SU"
    assert maykhura.region_derived
    assert not Deposit.objects.get(name="Konimansuri Kalon").region_derived


def test_figures_in_the_loader_appear_in_the_curated_table(demo):
    """The hand-transcribed figures must be the published ones."""
    text = (DATA_DIR / "tj_deposits_curated.csv").read_text(encoding="utf-8")
    for figure in [
        "49 g/t Ag",
        "57000 t",
        "70000 t",
        "50 t Au",
        "265 kt Sb",
        "59.4 t Ag",
        "1197.1 t Hg",
        "76659 t fluorite",
        "1257454 oz Au",
        "0.38% Zn",
        "0.49% Pb",
    ]:
        assert figure in text, figure
