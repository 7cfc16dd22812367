"""No caller can derive a figure it may not see from a share it can see.

The inference this guards against, measured on the registry before the rule changed: a
public deposit holding 10,000 t of silver showed 10.98% of the national silver, which
gave away the ~81,000 t of an internal deposit to within a tenth of a per cent. A
computed share is now a share of the reserves of the deposits its reader may see
(deposits.shares), on every surface, and says so (`share_scope`).
"""

import csv
import io
import json
from decimal import Decimal

import pytest

from deposits.models import ReserveEstimate
from tests.factories import CommodityFactory, DepositFactory, ReserveEstimateFactory
from tests.versions import if_match

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"

# Open's share of silver as each caller reads it: of the public 10,000 t, of the public
# and partner 15,000 t, of all 96,110 t.
FOR_ANYONE = ("100.00", "public")
FOR_PARTNERS = ("66.67", "public+partners")
FOR_STAFF = ("10.40", "all")


def _silver(name, visibility, tonnes):
    deposit = DepositFactory(name=name, visibility=visibility)
    CommodityFactory(deposit=deposit)
    ReserveEstimateFactory(deposit=deposit, quantity=Decimal(tonnes))
    return deposit


@pytest.fixture
def silver():
    return {
        "open": _silver("Open", "public", 10_000),
        "shared": _silver("Shared", "partners", 5_000),
        "secret": _silver("Secret", "internal", 81_110),
    }


def record_share(client, deposit):
    commodity = client.get(f"{DEPOSITS}{deposit.public_id}/").json()["commodities"][0]
    return commodity["reserve_share_pct"], commodity["share_scope"]


@pytest.mark.parametrize(
    ("client_name", "expected"),
    [
        ("api_client", FOR_ANYONE),
        ("partner_client", FOR_PARTNERS),
        ("staff_api_client", FOR_STAFF),
    ],
)
def test_each_caller_reads_a_share_of_what_it_may_see(request, silver, client_name, expected):
    client = request.getfixturevalue(client_name)
    pct, scope = expected
    assert record_share(client, silver["open"]) == expected
    listed = client.get(DEPOSITS, {"mineral": "silver"}).json()["results"]
    opened = next(d for d in listed if d["name"] == "Open")
    assert (
        opened["commodities"][0]["reserve_share_pct"],
        opened["commodities"][0]["share_scope"],
    ) == expected
    ranked = client.get("/api/v1/stats/minerals/silver/").json()["deposits"]
    assert next(d["reserve_share_pct"] for d in ranked if d["name"] == "Open") == pct
    csv_text = b"".join(client.get(DEPOSITS, {"format": "csv"}).streaming_content).decode()
    rows = {r["Name"]: r for r in csv.DictReader(io.StringIO(csv_text.removeprefix("\ufeff")))}
    assert rows["Open"]["Reserve shares (% of national reserves)"] == (
        f"Silver {pct}% (computed over {scope})"
    )
    geojson = json.loads(b"".join(client.get(DEPOSITS, {"format": "geojson"}).streaming_content))
    feature = next(f for f in geojson["features"] if f["properties"]["name"] == "Open")
    commodity = feature["properties"]["commodities"][0]
    assert (commodity["reserve_share_pct"], commodity["share_scope"]) == expected


def test_ogc_features_carry_the_callers_share_and_its_scope(client, silver):
    items = client.get("/ogc/collections/deposits-silver/items", {"f": "json"}).json()
    (feature,) = items["features"]
    properties = feature["properties"]
    assert properties["main_share_pct"] == 100.0
    assert properties["main_share_scope"] == "public"
    assert (properties["share_pct"], properties["share_scope"]) == (100.0, "public")
    assert properties["reserve_shares"] == "silver 100.00% (computed over public)"


def test_a_share_filter_never_selects_by_a_hidden_figure(api_client, staff_api_client, silver):
    params = {"mineral": "silver", "min_share": "50"}
    anyone = api_client.get(DEPOSITS, params).json()["results"]
    staff = staff_api_client.get(DEPOSITS, params).json()["results"]
    assert [d["name"] for d in anyone] == ["Open"]  # all of the public silver
    assert [d["name"] for d in staff] == ["Secret"]  # 84.39% of all silver


def test_a_hidden_estimate_changes_nothing_a_public_reader_sees(
    api_client, staff_api_client, silver
):
    url = f"{DEPOSITS}{silver['open'].public_id}/"
    before = api_client.get(url)
    staff_before = staff_api_client.get(url)
    secret = ReserveEstimate.objects.get(deposit=silver["secret"])
    secret.quantity = Decimal(90_000)  # a re-estimate of the internal deposit
    secret.save()
    after = api_client.get(url)
    assert after.content == before.content
    assert after["ETag"] == before["ETag"]
    assert staff_api_client.get(url)["ETag"] != staff_before["ETag"]


def test_a_deposit_made_public_joins_the_public_total(staff_api_client, api_client, silver):
    secret = silver["secret"]
    url = f"{DEPOSITS}{secret.public_id}/"
    response = staff_api_client.patch(
        url, {"visibility": "public"}, format="json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 200, response.content
    # 10,000 t of the 91,110 t now public: the figure the public could once derive is
    # now public itself.
    assert record_share(api_client, silver["open"]) == ("10.98", "public")
    response = staff_api_client.patch(
        url, {"visibility": "internal"}, format="json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 200, response.content
    assert record_share(api_client, silver["open"]) == FOR_ANYONE


def test_pages_say_what_a_computed_share_is_of(client, pages_settings, silver):
    page = client.get(f"/deposits/{silver['open'].public_id}/").content.decode()
    assert "of the public deposits in the registry" in page
    assert "100%" in page
    mineral = client.get("/minerals/silver/").content.decode()
    assert "of the public deposits in the registry" in mineral
    assert "Secret" not in mineral
