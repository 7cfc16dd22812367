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
