"""Exports with the reserves in force per mineral (`include=reserves`): CSV and GeoJSON of
the API, CSV and XLSX of the list page, one column list (deposits.exports).

Per mineral the balance A+B+C1 reserves in force (the numerator of the share), their
unit, every category in force and the share with its basis, as the caller reads them
and as of the day asked. The registry is `reserves_registry` (tests/conftest.py).
"""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from deposits import exports
from deposits.models import ReserveEstimate
from tests.factories import CommodityFactory, DepositFactory, MineralFactory, ReserveEstimateFactory

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"
PAGE_CSV = "/deposits/export.csv"
PAGE_XLSX = "/deposits/export.xlsx"

SILVER_COLUMNS = [
    "Silver: balance reserves A+B+C1 in force",
    "Silver: unit",
    "Silver: reserves in force by category",
    "Silver: reserve share (%)",
    "Silver: share basis",
]
GOLD_COLUMNS = [column.replace("Silver", "Gold") for column in SILVER_COLUMNS]


def text(response) -> str:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")


def table(response) -> tuple[list[str], dict[str, dict]]:
    rows = list(csv.reader(io.StringIO(text(response))))
    header = rows[0]
    return header, {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def silver(row: dict) -> list[str]:
    return [row[column] for column in SILVER_COLUMNS]


def test_csv_gains_five_columns_per_filtered_mineral(api_client, reserves_registry):
    header, rows = table(
        api_client.get(DEPOSITS, {"format": "csv", "mineral": "silver", "include": "reserves"})
    )
    assert header == [*exports.HEADER, *SILVER_COLUMNS]
    # C2 and the prognostic P1 are listed, not counted in the balance A+B+C1 figure.
    assert silver(rows["Konchoch"]) == [
        "150.000000",
        "t",
        "C1 150; C2 30; P1 200",
        "51.14",
        "computed over public",
    ]
    # 3,000,000 troy ounces are 93.3104304 t, exactly; written to six places.
    assert silver(rows["Kumarkh"]) == [
        "93.310430",
        "t",
        "C1 93.31043",
        "31.81",
        "computed over public",
    ]
    assert silver(rows["Altyn-Topkan"]) == [
        "50.000000",
        "t",
        "C1 50; P2 500",
        "17.05",
        "computed over public",
    ]
    assert silver(rows["Reported Ridge"]) == ["", "t", "", "22.00", "reported (over)"]
    assert silver(rows["Kaltasay"]) == ["", "t", "", "", ""]
    assert set(rows) == {"Konchoch", "Kumarkh", "Altyn-Topkan", "Reported Ridge", "Kaltasay"}


def test_without_a_mineral_filter_every_mineral_the_deposits_hold(api_client, reserves_registry):
    header, rows = table(api_client.get(DEPOSITS, {"format": "csv", "include": "reserves"}))
    assert header == [*exports.HEADER, *GOLD_COLUMNS, *SILVER_COLUMNS]  # by name
    golden = rows["Golden Valley"]
    assert [golden[column] for column in GOLD_COLUMNS] == [
        "10000.000000",
        "kg",
        "C1 10000",
        "100.00",
        "computed over public",
    ]
    assert silver(golden) == ["", "", "", "", ""]  # it holds no silver
    # Only the minerals the exported deposits hold: a list of gold deposits has no silver.
    header, _ = table(
        api_client.get(DEPOSITS, {"format": "csv", "include": "reserves", "q": "Golden Valley"})
    )
    assert header == [*exports.HEADER, *GOLD_COLUMNS]


@pytest.mark.parametrize(
    ("client_name", "konchoch"),
    [
        (
            "api_client",
            ["150.000000", "t", "C1 150; C2 30; P1 200", "51.14", "computed over public"],
        ),
        (
            "partner_client",
            ["150.000000", "t", "C1 150; C2 30; P1 200", "25.28", "computed over public+partners"],
        ),
        (
            "staff_api_client",
            ["150.000000", "t", "C1 150; C2 30; P1 200", "10.77", "computed over all"],
        ),
    ],
)
def test_each_caller_exports_what_it_may_see(request, reserves_registry, client_name, konchoch):
    client = request.getfixturevalue(client_name)
    params = {"format": "csv", "mineral": "silver", "include": "reserves"}
    _, rows = table(client.get(DEPOSITS, params))
    assert silver(rows["Konchoch"]) == konchoch
    assert ("Hidden silver" in rows) == (client_name == "staff_api_client")
    assert ("Shared silver" in rows) == (client_name != "api_client")


def test_a_hidden_estimate_changes_nothing_in_a_public_export(api_client, reserves_registry):
    params = {"mineral": "silver", "include": "reserves"}
    before = [text(api_client.get(DEPOSITS, {**params, "format": f})) for f in ("csv", "geojson")]
    hidden = ReserveEstimate.objects.get(deposit=reserves_registry["Hidden silver"])
    hidden.quantity = Decimal(5)
    hidden.save()
    after = [text(api_client.get(DEPOSITS, {**params, "format": f})) for f in ("csv", "geojson")]
    assert after == before


def test_the_reserves_are_those_in_force_on_the_day_asked(api_client, reserves_registry):
    params = {"format": "csv", "mineral": "silver", "include": "reserves", "as_of": "2016-06-30"}
    response = api_client.get(DEPOSITS, params)
    assert response["As-Of"] == "2016-06-30"
    _, rows = table(response)
    assert silver(rows["Konchoch"]) == [
        "100.000000",
        "t",
        "C1 100",
        "66.67",
        "computed over public",
    ]
    assert silver(rows["Kumarkh"]) == ["", "t", "", "", ""]  # not yet estimated
    assert silver(rows["Altyn-Topkan"])[3:] == ["33.33", "computed over public"]


def test_a_withdrawn_estimate_is_not_in_force(api_client, reserves_registry):
    written_off = ReserveEstimate.objects.get(deposit=reserves_registry["Konchoch"], category="C2")
    written_off.withdrawal = ReserveEstimate.Withdrawal.WRITTEN_OFF
    written_off.withdrawn_on = written_off.as_of
    written_off.withdrawal_protocol = "test protocol"
    written_off.save()
    params = {"format": "csv", "mineral": "silver", "include": "reserves"}
    _, rows = table(api_client.get(DEPOSITS, params))
    assert silver(rows["Konchoch"])[:3] == ["150.000000", "t", "C1 150; P1 200"]


def test_geojson_carries_the_reserves_on_each_mineral(api_client, reserves_registry):
    params = {"format": "geojson", "include": "reserves", "ordering": "-share"}
    collection = json.loads(text(api_client.get(DEPOSITS, params)))
    features = {f["properties"]["name"]: f["properties"] for f in collection["features"]}
    [konchoch] = features["Konchoch"]["commodities"]
    assert konchoch["reserve_share_pct"] == "51.14"
    assert konchoch["share_basis"] == "computed" and konchoch["share_scope"] == "public"
    assert konchoch["reserves_in_force"] == {
        "quantity": "150.000000",
        "unit": "t",
        "categories": [
            {"category": "C1", "balance": True, "quantity": "150.000000"},
            {"category": "C2", "balance": True, "quantity": "30.000000"},
            {"category": "P1", "balance": None, "quantity": "200.000000"},
        ],
    }
    [ridge] = features["Reported Ridge"]["commodities"]
    assert ridge["reserves_in_force"] == {"quantity": None, "unit": "t", "categories": []}
    assert ridge["share_bound"] == "over"
    # Without the option the features are as they always were.
    plain = json.loads(text(api_client.get(DEPOSITS, {"format": "geojson"})))
    assert all(
        "reserves_in_force" not in c
        for f in plain["features"]
        for c in f["properties"]["commodities"]
    )


def test_off_balance_reserves_say_so(api_client, reserves_registry):
    ReserveEstimateFactory(
        deposit=reserves_registry["Kaltasay"],
        mineral=reserves_registry["Konchoch"].commodities.get().mineral,
        category="C1",
        balance=False,
        quantity=Decimal("12.5"),
        unit="t",
    )
    _, rows = table(
        api_client.get(DEPOSITS, {"format": "csv", "mineral": "silver", "include": "reserves"})
    )
    # Off-balance reserves are no balance reserves: no figure, no share.
    assert silver(rows["Kaltasay"]) == ["", "t", "C1 off-balance 12.5", "", ""]


def test_the_page_exports_carry_the_option_and_write_the_same_table(
    client, api_client, pages_settings, reserves_registry
):
    page = client.get("/deposits/", {"mineral": "silver", "ordering": "-share"}).content.decode()
    assert (
        'href="/deposits/export.csv?mineral=silver&amp;ordering=-share&amp;include=reserves"'
        in page
    )
    assert (
        'href="/deposits/export.xlsx?mineral=silver&amp;ordering=-share&amp;include=reserves"'
        in page
    )
    assert 'href="/deposits/export.csv?mineral=silver&amp;ordering=-share"' in page
    params = {"mineral": "silver", "ordering": "-share", "include": "reserves"}
    page_csv = text(client.get(PAGE_CSV, params))
    api_csv = text(api_client.get(DEPOSITS, {**params, "format": "csv"}))
    assert page_csv == api_csv
    response = client.get(PAGE_XLSX, params)
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.values)
    assert list(rows[0]) == [*exports.HEADER, *SILVER_COLUMNS]
    konchoch = dict(zip(rows[0], next(r for r in rows if r[1] == "Konchoch"), strict=True))
    # Figures are numbers in the workbook, the rest text.
    assert konchoch["Silver: balance reserves A+B+C1 in force"] == 150
    assert konchoch["Silver: reserve share (%)"] == pytest.approx(51.14)
    assert konchoch["Silver: reserves in force by category"] == "C1 150; C2 30; P1 200"
    assert [r[1] for r in rows[1:]] == [
        "Konchoch",
        "Kumarkh",
        "Reported Ridge",
        "Altyn-Topkan",
        "Kaltasay",
    ]


def test_a_page_url_with_the_option_keeps_it_out_of_its_plain_links(
    client, pages_settings, reserves_registry
):
    page = client.get("/deposits/", {"mineral": "gold", "include": "reserves"}).content.decode()
    assert 'href="/deposits/export.csv?mineral=gold"' in page
    assert 'href="/deposits/export.csv?mineral=gold&amp;include=reserves"' in page


@pytest.mark.parametrize("option", ["everything", "Reserves", ""])
def test_an_unknown_option_is_a_400_naming_include(
    api_client, client, pages_settings, reserves_registry, option
):
    for export in ({}, {"format": "csv"}, {"format": "geojson"}):
        response = api_client.get(DEPOSITS, {"include": option, **export})
        assert response.status_code == 400
        body = response.json()
        assert list(body) == ["include"]
        assert body["include"] == [f'Unknown option "{option}"; an export can include: reserves.']
    for url in (PAGE_CSV, PAGE_XLSX):
        response = client.get(url, {"include": option})
        assert response.status_code == 400
        assert response.content.decode().startswith("include: Unknown option")
    page = client.get("/deposits/", {"include": option})
    assert not page.context["valid"]
    assert "an export can include: reserves" in page.content.decode()


def test_without_the_option_the_published_header_stands(api_client, reserves_registry):
    header, _ = table(api_client.get(DEPOSITS, {"format": "csv", "mineral": "silver"}))
    assert header == exports.HEADER


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as context:
        text(client.get(url, params))
    return len(context.captured_queries)


def test_the_option_costs_a_fixed_number_of_queries(api_client, reserves_registry):
    # Per chunk of deposits: the deposits, their minerals with shares and reserves
    # kilograms, their estimates in force; the CSV reads its columns' minerals once (by
    # code when filtered, else those the deposits hold). On PostgreSQL once before them,
    # whether the planner has statistics of the tables.
    checked = 1 if connection.vendor == "postgresql" else 0
    csv_params = {"format": "csv", "include": "reserves"}
    assert _queries(api_client, DEPOSITS, csv_params) == 4 + checked
    assert _queries(api_client, DEPOSITS, {**csv_params, "mineral": "silver"}) == 5 + checked
    geojson = {"format": "geojson", "include": "reserves"}
    assert _queries(api_client, DEPOSITS, geojson) == 3 + checked
    few = [
        _queries(api_client, DEPOSITS, csv_params),
        _queries(api_client, DEPOSITS, geojson),
        _queries(api_client, DEPOSITS, {**csv_params, "as_of": "2016-06-30"}),
    ]
    antimony = MineralFactory(code="antimony", symbol="Sb", name="Antimony")
    for n in range(30):
        deposit = DepositFactory(name=f"More {n}")
        CommodityFactory(deposit=deposit, mineral=antimony)
        ReserveEstimateFactory(deposit=deposit, mineral=antimony, quantity=Decimal(n + 1))
    many = [
        _queries(api_client, DEPOSITS, csv_params),
        _queries(api_client, DEPOSITS, geojson),
        _queries(api_client, DEPOSITS, {**csv_params, "as_of": "2016-06-30"}),
    ]
    assert many == few
