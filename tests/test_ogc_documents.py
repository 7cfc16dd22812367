"""The features of the OGC service (deposits/ogc/documents.py, `feature`) as GIS clients
read them: the same properties in the same order in every feature of a collection (a
GIS client takes its columns from them), numbers written as Python writes floats (70.0,
not 70), times in UTC with microseconds only when there are some, on every database."""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from deposits.models import Deposit, Mineral
from kernel.models import Visibility
from tests.factories import (
    BeltFactory,
    CommodityFactory,
    DepositFactory,
    DistrictFactory,
    MineralFactory,
    RegionFactory,
    ReserveEstimateFactory,
    issue_api_key,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("awkward_for_module")]

ITEMS = "/ogc/collections/{}/items"

PROPERTIES = [
    "name",
    "name_ru",
    "name_tg",
    "aliases",
    "region",
    "region_name",
    "district",
    "status",
    "deposit_type",
    "belt",
    "exploration_level",
    "minerals",
    "main_minerals",
    "associated_minerals",
    "critical",
    "main_mineral",
    "main_share_pct",
    "main_share_basis",
    "main_share_scope",
    "main_share_bound",
    "reserve_shares",
]
# `as_of`: the day the shares above are as of (tests/test_as_of.py).
RECORD = ["as_of", "visibility", "sources", "description", "url", "created_at", "updated_at"]


@pytest.fixture
def odd_registry(db):
    """The awkward registry (made once for the module: tests/conftest.py), and what is
    awkward in a feature: whole coordinates and shares (70.0, 100.0, 0.0), no minerals,
    two main minerals of one name, a critical mineral, every related record, text JSON
    must escape, hidden deposits, microseconds."""
    solo = MineralFactory(code="test-solo", name="Test solo")  # one deposit's estimates
    critical = MineralFactory(
        code="test-critical", name="Test critical", critical_lists=["EU-2023"]
    )
    region = RegionFactory(code="TJ-XW", name="Region \\ backslash")
    whole = DepositFactory(
        name="Whole numbers",
        region=region,
        district=DistrictFactory(code="TJ-XW-1", name='District "quoted"', region=region),
        belt=BeltFactory(),
        latitude=Decimal("39.000000"),
        longitude=Decimal("70.000000"),
        deposit_type="skarn",
        exploration_level=Deposit.ExplorationLevel.DETAILED,
        description='Back\\slash, "quotes", a tab\there,\na line and a \x01 control',
        aliases=["C:\\path", "Дупулич"],
    )
    CommodityFactory(deposit=whole, mineral=solo)
    ReserveEstimateFactory(deposit=whole, mineral=solo, quantity=Decimal("12.5"), unit="kt")
    CommodityFactory(
        deposit=whole,
        mineral=critical,
        role="associated",
        reported_share_pct=Decimal("70"),
        reported_share_source="test",
    )
    associated_only = DepositFactory(name="Associated only", region=None)
    CommodityFactory(deposit=associated_only, mineral=solo, role="associated")
    # an estimate of its own, of nothing: 0.00 computed
    ReserveEstimateFactory(deposit=associated_only, mineral=solo, quantity=Decimal(0), unit="t")
    same_name = DepositFactory(name="Two minerals of one name")  # ordered by their codes
    for code in ("test-lead", "test-galena"):
        CommodityFactory(deposit=same_name, mineral=Mineral.objects.get(code=code))
    DepositFactory(name="No minerals", sources=[], latitude=Decimal("38.5"), longitude=None)
    for visibility in (Visibility.PARTNERS, Visibility.INTERNAL):
        hidden = DepositFactory(name=f"Hidden {visibility}", visibility=visibility)
        CommodityFactory(deposit=hidden, mineral=critical)
    Deposit.objects.filter(pk=whole.pk).update(
        updated_at=datetime.datetime(2026, 3, 1, 10, 0, 0, 123, tzinfo=datetime.UTC)
    )


def collection_ids() -> list[str]:
    minerals = Mineral.objects.filter(commodities__isnull=False).distinct().order_by("code")
    return ["deposits", *(f"deposits-{m.code}" for m in minerals)]


@pytest.fixture
def staff(editor):
    return {"HTTP_AUTHORIZATION": f"Token {issue_api_key(user=editor)}"}


def items(client, collection_id: str, headers) -> bytes:
    response = client.get(ITEMS.format(collection_id), {"limit": 10_000}, **headers)
    assert response.status_code == 200, response.content
    return response.content


def test_every_feature_of_a_collection_has_the_same_columns_in_order(client, odd_registry, staff):
    for collection_id in collection_ids():
        features = json.loads(items(client, collection_id, staff))["features"]
        share = (
            []
            if collection_id == "deposits"
            else ["share_pct", "share_basis", "share_scope", "share_bound"]
        )
        assert features, collection_id
        for feature in features:
            assert list(feature) == ["type", "id", "geometry", "properties"]
            assert list(feature["properties"]) == [*PROPERTIES, *share, *RECORD], feature["id"]


@pytest.mark.parametrize("zone", ["Asia/Dushanbe", "UTC"])
def test_numbers_and_times_are_written_as_gis_clients_read_them(client, odd_registry, staff, zone):
    with timezone.override(zone):
        pages = [items(client, collection_id, staff) for collection_id in collection_ids()]
    assert len(pages) > 10
    text = b"\n".join(pages).decode()
    for number in ("[70.0, 39.0]", '"main_share_pct": 100.0', '"share_pct": 0.0'):
        assert number in text  # whole numbers written as Python writes floats
    assert "12.35% (reported)" in text and "70.00% (reported)" in text
    assert '"updated_at": "2026-01-02T03:04:05Z"' in text  # no microseconds
    assert '"updated_at": "2026-03-01T10:00:00.000123Z"' in text


def test_text_reads_back_as_stored(client, odd_registry, staff):
    features = json.loads(items(client, "deposits", staff))["features"]
    whole = next(f["properties"] for f in features if f["properties"]["name"] == "Whole numbers")
    assert whole["description"] == 'Back\\slash, "quotes", a tab\there,\na line and a \x01 control'
    assert whole["aliases"] == "C:\\path; Дупулич"
    assert whole["region_name"] == "Region \\ backslash"
    assert whole["district"] == 'District "quoted"'
