"""PostgreSQL's items pages of the OGC service (deposits/ogc/documents.py, `feature_texts`):
the features the database writes are `feature`'s, property for property and in the same
order (a GIS client takes its columns from them), numbers written alike (70.0, not 70),
so GDAL and QGIS read the same layer whichever path answered."""

import datetime
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request

from deposits.models import Deposit, Mineral
from deposits.ogc import documents, views
from deposits.services import attach_reserve_shares
from kernel.models import Visibility
from kernel.visibility import STAFF
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
from tests.live_registry import needs_postgres

pytestmark = [pytest.mark.django_db, needs_postgres]

ITEMS = "/ogc/collections/{}/items"


def parsed(text: str):
    """JSON with its keys in their order and every number as written ("70.0" is not "70")."""
    return json.loads(
        text,
        object_pairs_hook=list,
        parse_float=lambda number: ("float", number),
        parse_int=lambda number: ("int", number),
    )


@pytest.fixture
def odd_registry(awkward_registry):
    """The awkward registry, and what is awkward in a feature: whole coordinates and shares
    (70.0, 100.0, 0.0), no minerals, two main minerals of one name, a critical mineral,
    every related record, text JSON must escape, hidden deposits, microseconds."""
    solo = MineralFactory(code="test-solo", name="Test solo")  # one deposit's estimates
    critical = MineralFactory(code="test-critical", name="Test critical", is_critical=True)
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
    CommodityFactory(deposit=associated_only, mineral=solo, role="associated")  # 0.00 computed
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


def python_features(deposits, collection, links) -> list[dict]:
    """What the Python path (SQLite's) answers for these deposits, in their order."""
    page = list(views.with_related(deposits))
    attach_reserve_shares(page)
    return [documents.feature(d, collection, links) for d in page]


def collections() -> list[documents.Collection]:
    minerals = Mineral.objects.filter(commodities__isnull=False).distinct().order_by("code")
    return [documents.all_deposits(), *(documents.mineral_collection(m) for m in minerals)]


@pytest.mark.parametrize("zone", ["Asia/Dushanbe", "UTC"])
def test_every_feature_of_every_collection_is_features(odd_registry, zone):
    request = Request(RequestFactory().get("/ogc/collections/deposits/items"))
    links = documents.Links(request)
    written = []
    for collection in collections():
        deposits = collection.deposits(STAFF).order_by("name", "pk")
        with timezone.override(zone):
            expected = python_features(deposits, collection, links)
            built = documents.feature_texts([d.pk for d in deposits], collection, links, "default")
        assert len(built) == len(expected) > 0, collection.id
        for text, wanted in zip(built, expected, strict=True):
            assert parsed(text) == parsed(documents.json_text(wanted)), (collection.id, text)
        written += built
    assert len(collections()) > 10
    text = "\n".join(written)
    for number in ("[70.0, 39.0]", '"main_share_pct" : 100.0', '"share_pct" : 0.0', "70.0"):
        assert number in text  # whole numbers written as Python writes floats
    assert "12.345% (reported)" in text and "70.000% (reported)" in text
    assert '"updated_at" : "2026-01-02T03:04:05Z"' in text  # no microseconds
    assert '"updated_at" : "2026-03-01T10:00:00.000123Z"' in text


def test_the_features_are_in_the_order_of_the_ids_and_only_those(odd_registry):
    links = documents.Links(Request(RequestFactory().get("/ogc/collections/deposits/items")))
    everything = documents.all_deposits()
    ids = list(Deposit.objects.order_by("-updated_at", "id").values_list("pk", flat=True)[:9])
    built = documents.feature_texts(ids, everything, links, "default")
    public_ids = dict(Deposit.objects.values_list("pk", "public_id"))
    assert [json.loads(text)["id"] for text in built] == [public_ids[pk] for pk in ids]
    assert documents.feature_texts([], everything, links, "default") == []


@pytest.fixture
def keys(partner_org, editor):
    return {"partner": issue_api_key(organisation=partner_org), "staff": issue_api_key(user=editor)}


# (collection, query string, key and where it is sent)
PAGES = [
    ("deposits", {}, None),
    ("deposits", {"limit": 7, "offset": 7}, None),
    ("deposits", {"limit": 5, "offset": 10_000}, None),  # past the end
    ("deposits", {"mineral": "test-gold,test-lead", "bbox": "67,36,76,42"}, None),
    ("deposits", {"datetime": "2026-01-02T03:04:05Z"}, None),
    ("deposits", {"critical": "true", "region": "TJ-XW"}, None),
    ("deposits", {"status": "explored", "limit": 3}, ("partner", "query")),
    ("deposits", {"limit": 3}, ("partner", "header")),
    ("deposits", {}, ("staff", "header")),
    ("deposits-test-gold", {}, None),
    ("deposits-test-solo", {"limit": 1, "offset": 1}, ("staff", "query")),
    ("deposits-test-critical", {}, ("partner", "query")),
]


@pytest.mark.parametrize(("collection", "params", "key"), PAGES)
def test_an_items_page_is_the_python_paths(
    client, odd_registry, keys, monkeypatch, collection, params, key
):
    """The whole page, links and counts included, is what the Python path answers."""
    url, headers = ITEMS.format(collection), {}
    if key is not None:
        name, where = key
        if where == "query":
            params = {**params, "api_key": keys[name]}
        else:
            headers["HTTP_AUTHORIZATION"] = f"Token {keys[name]}"

    def page():
        response = client.get(url, params, **headers)
        assert response.status_code == 200, response.content
        return [pair for pair in parsed(response.content) if pair[0] != "timeStamp"]

    written = page()
    monkeypatch.setattr(views, "built_by_database", lambda queryset: False)
    assert written == page()


def test_the_feature_statements_are_prepared_once_per_connection(client, odd_registry):
    def prepared(collection_share: bool) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            statements = [s for (s,) in cursor.fetchall() if "WITH ORDINALITY AS p (id, n)" in s]
        return sum(("'share_pct'" in s) == collection_share for s in statements)

    for params in ({"limit": 2}, {"limit": 5, "offset": 3}, {"region": "TJ-XW"}):
        assert client.get(ITEMS.format("deposits"), params).status_code == 200
    assert prepared(collection_share=False) == 1  # whatever the page and its filters
    for collection in ("deposits-test-gold", "deposits-test-lead"):
        assert client.get(ITEMS.format(collection)).status_code == 200
    assert prepared(collection_share=True) == 1  # one for all the minerals' collections
