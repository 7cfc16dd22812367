"""The yearly State Balance: each line adds up, joins the years around it, and is read
with the deposit's reserve history."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deposits.models import BalanceMovement
from tests.factories import CommodityFactory, DepositFactory, ReserveEstimateFactory
from tests.test_deposits_admin import change_url, form_data
from tests.test_spreadsheet_import import confirm, preview, refusals

pytestmark = pytest.mark.django_db

MOVEMENTS = "/api/v1/movements/"


@pytest.fixture
def konchoch():
    deposit = DepositFactory(name="Konchoch")
    CommodityFactory(deposit=deposit)
    return deposit


def line(deposit, year, opening, closing, **movements):
    return {
        "deposit": deposit.public_id,
        "mineral": "silver",
        "category": "C1",
        "balance": True,
        "year": year,
        "unit": "t",
        "opening": str(opening),
        "closing": str(closing),
        "source": "State Balance of reserves, silver",
        **{name: str(value) for name, value in movements.items()},
    }


def test_a_line_that_adds_up_is_kept(staff_api_client, konchoch):
    body = line(konchoch, 2023, 150, 141, extraction=8, losses=1)
    response = staff_api_client.post(MOVEMENTS, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["closing"] == "141.000000"


def test_a_line_that_does_not_add_up_is_refused_and_nothing_is_saved(staff_api_client, konchoch):
    body = line(konchoch, 2023, 150, 145, extraction=8, losses=1)
    response = staff_api_client.post(MOVEMENTS, body, format="json")
    assert response.status_code == 400
    (message,) = response.json()["closing"]
    assert "2023, category C1" in message
    assert "off by +4" in message and "(141)" in message
    assert not BalanceMovement.objects.exists()


def test_a_year_opens_where_the_year_before_closed(staff_api_client, konchoch):
    assert (
        staff_api_client.post(
            MOVEMENTS, line(konchoch, 2023, 150, 141, extraction=9), format="json"
        ).status_code
        == 201
    )
    gap = line(konchoch, 2024, 140, 132, extraction=8)
    response = staff_api_client.post(MOVEMENTS, gap, format="json")
    assert response.status_code == 400
    assert "closing balance of 2023 (141)" in response.json()["opening"][0]
    joined = line(konchoch, 2024, 141, 160, extraction=8, exploration_gain=27)
    assert staff_api_client.post(MOVEMENTS, joined, format="json").status_code == 201
    # Editing 2023's closing now would break 2024's opening.
    earlier = BalanceMovement.objects.get(year=2023)
    earlier.closing, earlier.extraction = Decimal(140), Decimal(10)
    with pytest.raises(Exception, match="opening balance of 2024"):
        earlier.full_clean()


def test_production_of_a_mineral_in_a_year_is_readable(api_client, konchoch):
    other = DepositFactory(name="Hidden", visibility="internal")
    for deposit, extraction in [(konchoch, 9), (other, 30)]:
        BalanceMovement.objects.create(
            **{
                **line(deposit, 2023, 100, 100 - extraction, extraction=extraction),
                "deposit": deposit,
                "mineral": konchoch.commodities.get().mineral,
            }
        )
    rows = api_client.get(MOVEMENTS, {"mineral": "silver", "year": 2023}).json()["results"]
    assert [(r["deposit"], r["extraction"]) for r in rows] == [(konchoch.public_id, "9.000000")]


@pytest.mark.parametrize("year", ["99999", "abc", "-1"])
def test_a_bad_year_is_a_400_naming_it(api_client, year):
    response = api_client.get(MOVEMENTS, {"year": year})
    assert response.status_code == 400
    assert "year" in response.json()


def test_reserve_history_lists_every_estimate_and_line_oldest_first(api_client, konchoch):
    for year, quantity in [(2010, 100), (2020, 150)]:  # a re-estimate replaces the first
        ReserveEstimateFactory(
            deposit=konchoch, quantity=Decimal(quantity), as_of=datetime.date(year, 1, 1)
        )
    BalanceMovement.objects.create(
        **{**line(konchoch, 2021, 150, 140, extraction=10), "deposit": konchoch,
           "mineral": konchoch.commodities.get().mineral}
    )  # fmt: skip
    history = api_client.get(f"/api/v1/deposits/{konchoch.public_id}/reserve-history/").json()
    assert history["id"] == konchoch.public_id
    assert [(e["quantity"], e["as_of"], e["in_force"]) for e in history["estimates"]] == [
        ("100.000000", "2010-01-01", False),
        ("150.000000", "2020-01-01", True),
    ]
    assert [(m["year"], m["opening"], m["closing"]) for m in history["movements"]] == [
        (2021, "150.000000", "140.000000")
    ]


def test_hidden_deposits_keep_their_history_hidden(api_client, partner_client):
    hidden = DepositFactory(visibility="internal")
    CommodityFactory(deposit=hidden)
    BalanceMovement.objects.create(
        **{**line(hidden, 2021, 10, 10), "deposit": hidden,
           "mineral": hidden.commodities.get().mineral}
    )  # fmt: skip
    for client in (api_client, partner_client):
        assert (
            client.get(f"/api/v1/deposits/{hidden.public_id}/reserve-history/").status_code == 404
        )
        assert client.get(MOVEMENTS).json()["count"] == 0


def test_the_admin_refuses_a_line_that_does_not_add_up(editor_client, konchoch):
    silver = konchoch.commodities.get().mineral
    data = form_data(
        konchoch,
        **{
            "movements-TOTAL_FORMS": "1",
            "movements-0-year": "2023",
            "movements-0-mineral": silver.pk,
            "movements-0-category": "C1",
            "movements-0-balance": "on",
            "movements-0-unit": "t",
            "movements-0-opening": "150",
            "movements-0-extraction": "8",
            "movements-0-closing": "150",
            "movements-0-source": "State Balance",
            **{
                f"movements-0-{name}": "0"
                for name in BalanceMovement.MOVEMENTS
                if name != "extraction"
            },
        },
    )
    response = editor_client.post(change_url(konchoch), data, follow=True)
    assert "the closing balance is off by +8" in response.content.decode()
    assert not BalanceMovement.objects.exists()


HEADER = ["deposit", "mineral", "category", "balance", "year", "unit", "opening",
          *BalanceMovement.MOVEMENTS, "closing", "protocol", "source"]  # fmt: skip


def balance_file(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADER, restval="0")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("balance.csv", buffer.getvalue().encode(), "text/csv")


def test_a_years_balance_is_imported_whole_or_not_at_all(editor_client, konchoch):
    other = DepositFactory(name="Kumarkh")
    CommodityFactory(deposit=other)
    good = {**line(konchoch, 2024, 150, 141, extraction=9), "balance": "1", "protocol": ""}
    bad = {**line(other, 2024, 80, 75, extraction=2), "balance": "1", "protocol": ""}
    response = preview(editor_client, balance_file([good, bad]), model="balancemovement")
    ((number, field, message),) = refusals(response)
    assert (number, field) == (2, "closing") and "off by -3" in message
    assert "confirm_form" not in response.context
    assert not BalanceMovement.objects.exists()
    fixed = {**bad, "closing": "78"}
    response = preview(editor_client, balance_file([good, fixed]), model="balancemovement")
    confirm(editor_client, response, model="balancemovement")
    assert BalanceMovement.objects.count() == 2
    again = preview(editor_client, balance_file([good, fixed]), model="balancemovement")
    assert again.context["result"].totals["skip"] == 2  # the same year again changes nothing
    listed = editor_client.get(reverse("admin:deposits_balancemovement_changelist"), {"year": 2024})
    assert "Kumarkh" in listed.content.decode()


def test_the_change_feed_carries_balance_lines_the_caller_may_see(api_client, konchoch):
    hidden = DepositFactory(visibility="internal")
    silver = konchoch.commodities.get().mineral
    seen = BalanceMovement.objects.create(
        **{**line(konchoch, 2023, 10, 10), "deposit": konchoch, "mineral": silver}
    )
    BalanceMovement.objects.create(
        **{**line(hidden, 2023, 10, 10), "deposit": hidden, "mineral": silver}
    )
    feed = api_client.get("/api/v1/changes/", {"since": "2000-01-01"}).json()["results"]
    lines = [(c["id"], c["action"]) for c in feed if c["model"] == "movement"]
    assert lines == [(str(seen.pk), "created")]
