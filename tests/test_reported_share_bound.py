"""A reported share keeps the bound its source gives: "over 70%" is not "70%".

Konimansuri Kalon is said to hold *over* 70% of Tajikistan's silver (the 2024
roundtable); the registry stores 70 with the bound `over` and every surface says "over".
"""

import csv
import io
from decimal import Decimal

import pytest

from deposits.models import DepositCommodity
from tests.factories import CommodityFactory, DepositFactory, ReserveEstimateFactory
from tests.test_deposits_admin import change_url, form_data
from tests.test_spreadsheet_import import (  # noqa: F401 (reference is a fixture)
    CSV_FORMAT,
    confirm,
    csv_file,
    deposit_row,
    export,
    preview,
    reference,
    refusals,
)
from tests.versions import if_match

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"


@pytest.fixture
def over_seventy():
    return CommodityFactory(
        deposit=DepositFactory(name="Konimansuri Kalon"),
        reported_share_bound=DepositCommodity.Bound.OVER,
        reported_share_pct=Decimal("70"),
        reported_share_source="Roundtable with KIGAM, 2024",
    ).deposit


def test_every_surface_says_over(api_client, client, pages_settings, over_seventy):
    (commodity,) = api_client.get(f"{DEPOSITS}{over_seventy.public_id}/").json()["commodities"]
    assert commodity["reserve_share_pct"] == "70.00"
    assert commodity["share_basis"] == "reported"
    assert commodity["share_bound"] == "over"
    assert commodity["reported_share_bound"] == "over"
    ranked = api_client.get("/api/v1/stats/minerals/silver/").json()["deposits"]
    assert (ranked[0]["reserve_share_pct"], ranked[0]["share_bound"]) == ("70.00", "over")
    text = b"".join(api_client.get(DEPOSITS, {"format": "csv"}).streaming_content).decode()
    (row,) = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    assert row["Reserve shares (% of national reserves)"] == "Silver over 70.00% (reported)"
    features = client.get("/ogc/collections/deposits-silver/items", {"f": "json"}).json()
    properties = features["features"][0]["properties"]
    assert properties["reserve_shares"] == "silver over 70.00% (reported)"
    assert (properties["main_share_bound"], properties["share_bound"]) == ("over", "over")
    for url in (f"/deposits/{over_seventy.public_id}/", "/minerals/silver/", "/deposits/", "/"):
        assert "over 70%" in client.get(url).content.decode(), url


def test_the_bound_is_translated_on_the_pages(client, pages_settings, over_seventy):
    page = client.get(f"/deposits/{over_seventy.public_id}/", HTTP_ACCEPT_LANGUAGE="ru")
    assert "более 70%" in page.content.decode()


def test_a_computed_share_has_no_bound(api_client, over_seventy):
    ReserveEstimateFactory(deposit=over_seventy, quantity=Decimal(57_000))
    (commodity,) = api_client.get(f"{DEPOSITS}{over_seventy.public_id}/").json()["commodities"]
    assert (commodity["share_basis"], commodity["share_bound"]) == ("computed", None)
    assert commodity["reported_share_bound"] == "over"  # kept, beside the computed figure


def test_a_bound_without_a_share_is_refused_by_the_api(staff_api_client, over_seventy):
    url = f"{DEPOSITS}{over_seventy.public_id}/"
    body = {"commodities": [{"mineral": "silver", "reported_share_bound": "over"}]}
    response = staff_api_client.patch(
        url, body, format="json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 400
    assert "reported_share_bound" in str(response.json())
    assert DepositCommodity.objects.get(deposit=over_seventy).reported_share_pct == 70


def test_an_unknown_bound_is_refused_by_the_api(staff_api_client, over_seventy):
    url = f"{DEPOSITS}{over_seventy.public_id}/"
    body = {
        "commodities": [
            {
                "mineral": "silver",
                "reported_share_bound": "beyond",
                "reported_share_pct": "70",
                "reported_share_source": "x",
            }
        ]
    }
    response = staff_api_client.patch(
        url, body, format="json", headers=if_match(staff_api_client, url)
    )
    assert response.status_code == 400
    assert "reported_share_bound" in str(response.json())


def test_a_bound_without_a_share_is_a_form_error(editor_client, over_seventy):
    deposit = DepositFactory()
    data = form_data(
        deposit,
        **{
            "commodities-TOTAL_FORMS": "1",
            "commodities-0-mineral": DepositCommodity.objects.get().mineral_id,
            "commodities-0-role": "main",
            "commodities-0-reported_share_bound": "over",
        },
    )
    response = editor_client.post(change_url(deposit), data, follow=True)
    assert "A bound needs the reported share it qualifies." in response.content.decode()
    assert not DepositCommodity.objects.filter(deposit=deposit).exists()


@pytest.mark.usefixtures("reference")
def test_spreadsheets_carry_the_bound_both_ways(editor_client):
    rows = [
        deposit_row(reported_shares="silver: over 70"),
        deposit_row(name="Plain", reported_shares="silver: 5"),
    ]
    confirm(editor_client, preview(editor_client, csv_file(rows)))
    silver = DepositCommodity.objects.get(deposit__name="Konimansuri Kalon", mineral__code="silver")
    assert (silver.reported_share_bound, silver.reported_share_pct) == ("over", 70)
    plain = DepositCommodity.objects.get(deposit__name="Plain", mineral__code="silver")
    assert plain.reported_share_bound == ""
    exported = export(editor_client, CSV_FORMAT).content.decode("utf-8-sig")
    shares = {r["name"]: r["reported_shares"] for r in csv.DictReader(io.StringIO(exported))}
    assert shares == {"Konimansuri Kalon": "silver: over 70", "Plain": "silver: 5"}


@pytest.mark.usefixtures("reference")
def test_a_spreadsheet_with_an_unknown_bound_is_refused_by_row(editor_client):
    rows = [deposit_row(name="Fine"), deposit_row(name="Odd", reported_shares="silver: beyond 7")]
    response = preview(editor_client, csv_file(rows))
    ((number, field, message),) = refusals(response)
    assert (number, field) == (2, "reported_shares")
    assert "'beyond' is not one of over, under, about" in message
    assert "confirm_form" not in response.context
