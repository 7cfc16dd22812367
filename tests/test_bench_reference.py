"""`make bench` times the app against PostgreSQL statements doing the same work
(bench/sql.py). Those statements embed the SQL Django compiles from the app's share
rule; here they are held to the API's figures, so the reference never measures a
different rule (it runs only in benchmarks otherwise)."""

import json
from decimal import Decimal

import pytest

from bench import sql
from tests.factories import CommodityFactory, DepositFactory, MineralFactory, ReserveEstimateFactory
from tests.live_registry import needs_postgres

pytestmark = [pytest.mark.django_db, needs_postgres]


def shares(commodities) -> dict:
    return {c["mineral"]: (c["reserve_share_pct"], c["share_basis"]) for c in commodities}


def test_the_reference_statements_compute_the_apps_shares(api_client):
    gold, lead = MineralFactory(code="gold"), MineralFactory(code="lead")
    deposits = [DepositFactory(visibility="public") for _ in range(3)]
    for deposit, tonnes in zip(deposits, ("1", "2", "0"), strict=True):
        CommodityFactory(deposit=deposit, mineral=gold)
        if tonnes != "0":
            ReserveEstimateFactory(
                deposit=deposit, mineral=gold, category="C1", balance=True,
                quantity=Decimal(tonnes), unit="t",
            )  # fmt: skip
    CommodityFactory(
        deposit=deposits[0], mineral=lead, role="associated",
        reported_share_pct=Decimal("12.345"), reported_share_source="report",
    )  # fmt: skip
    for deposit in deposits:
        api = api_client.get(f"/api/v1/deposits/{deposit.public_id}/").json()
        reference = json.loads(sql.detail(deposit.public_id))
        assert shares(reference["commodities"]) == shares(api["commodities"])
    page = json.loads(sql.page(sql.PUBLIC, {}, 10))
    assert page["count"] == 3
    expected = {"gold": ("33.33", "computed"), "lead": ("12.35", "reported")}
    first = next(d for d in page["results"] if d["id"] == deposits[0].public_id)
    assert shares(first["commodities"]) == expected


def shape(document) -> object:
    """The keys of a JSON document, nested: what it carries, whatever the values."""
    if isinstance(document, dict):
        return {key: shape(value) for key, value in document.items()}
    if isinstance(document, list):
        shapes = [shape(item) for item in document]
        return shapes[0] if shapes and all(s == shapes[0] for s in shapes) else shapes
    return None


def test_the_reference_statements_build_the_apps_documents(api_client):
    """Each reference carries every field of the document it is timed against, so a ratio
    compares the same work: the API's deposit (its minerals and every estimate, flagged in
    force), the GeoJSON export's feature and the OGC feature (flat properties)."""
    gold, lead = MineralFactory(code="gold"), MineralFactory(code="lead")
    deposit = DepositFactory(visibility="public")
    CommodityFactory(deposit=deposit, mineral=gold)
    CommodityFactory(
        deposit=deposit, mineral=lead, role="associated",
        reported_share_pct=Decimal("70"), reported_share_bound="over",
        reported_share_source="report",
    )  # fmt: skip
    for year, tonnes in ((2010, "100"), (2020, "150")):  # a re-estimate: one in force
        ReserveEstimateFactory(
            deposit=deposit, mineral=gold, category="C1", balance=True,
            quantity=Decimal(tonnes), unit="t", as_of=f"{year}-01-01",
        )  # fmt: skip

    api = api_client.get(f"/api/v1/deposits/{deposit.public_id}/").json()
    reference = json.loads(sql.detail(deposit.public_id))
    assert shape(reference) == shape(api)
    assert [e["in_force"] for e in reference["reserves"]] == [
        e["in_force"] for e in api["reserves"]
    ]

    ogc = api_client.get("/ogc/collections/deposits/items", {"limit": 10}).json()
    reference = json.loads(sql.ogc_page(sql.PUBLIC, {}, 10))["results"]
    assert shape(reference[0]) == shape(ogc["features"][0])
    written = reference[0]["properties"]["reserve_shares"]
    assert written == ogc["features"][0]["properties"]["reserve_shares"]

    exported = json.loads(b"".join(api_client.get("/api/v1/deposits/?format=geojson")))
    reference = json.loads(sql.feature_collection(sql.PUBLIC, {}))
    assert shape(reference) == shape(exported)


def test_the_reference_suggests_the_kinds_the_search_endpoint_does(api_client):
    MineralFactory(code="gold", name="Gold")
    DepositFactory(visibility="public", name="Goldfield")
    answer = api_client.get("/api/v1/search/", {"q": "gold"}).json()["results"]
    where = f"{sql.PUBLIC} AND {sql.SEARCH}"
    reference = json.loads(sql.suggestions(where, {"pattern": "%gold%", "needle": "gold"}, 10))
    assert {s["kind"] for s in reference} == {s["kind"] for s in answer} == {"deposit", "mineral"}
    assert shape(reference) == shape(answer)
