"""The State Balance of a mineral and year: closed by staff, read on the admin's screen with
its totals per category, downloaded as CSV and XLSX, and said on every answer that states
a computed share (whether the registry's balance of the mineral is complete)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from deposits.balance import balance_complete_for, state_balance
from deposits.models import BalanceClosure, BalanceMovement
from tests.factories import CommodityFactory, DepositFactory, MineralFactory

pytestmark = pytest.mark.django_db

SCREEN = reverse("admin:deposits_balancemovement_state_balance")
STATS = "/api/v1/stats/minerals/"


def movement(deposit, year, opening, closing, *, unit="t", category="C1", balance=True, **moved):
    return BalanceMovement.objects.create(
        deposit=deposit,
        mineral=MineralFactory(),
        category=category,
        balance=balance,
        year=year,
        unit=unit,
        opening=Decimal(opening),
        closing=Decimal(closing),
        source="State Balance of reserves, silver",
        **{name: Decimal(value) for name, value in moved.items()},
    )


def close(year, **fields):
    return BalanceClosure.objects.create(
        mineral=MineralFactory(),
        year=year,
        closed_on=fields.pop("closed_on", datetime.date(year + 1, 3, 15)),
        protocol=fields.pop("protocol", f"GKZ-{year}-7"),
        source="State Commission on Mineral Reserves",
    )


@pytest.fixture
def silver_2023():
    """Konchoch (tonnes) and Jilau (kilograms) in C1 balance, Konchoch also off-balance."""
    konchoch = DepositFactory(name="Konchoch")
    jilau = DepositFactory(name="Jilau")
    for deposit in (konchoch, jilau):
        CommodityFactory(deposit=deposit)
    movement(konchoch, 2023, "150", "141", extraction="8", losses="1")
    movement(konchoch, 2023, "20", "20", balance=False)
    movement(jilau, 2023, "2500", "3000", unit="kg", exploration_gain="700", extraction="200")
    return konchoch, jilau


# --- which year is complete ---------------------------------------------------------


def test_the_latest_closed_year_is_the_year_the_balance_is_complete_for():
    silver = MineralFactory()
    assert balance_complete_for(silver) is None
    close(2022)
    close(2023)
    assert balance_complete_for(silver) == 2023


def test_as_of_a_date_the_balance_is_complete_for_the_closures_recorded_by_then(api_client):
    """2022 was closed on 15 March 2023 and 2023 on 15 March 2024: at the end of 2023 the
    registry's balance of silver was complete for 2022 only."""
    silver = MineralFactory()
    CommodityFactory(mineral=silver, reported_share_pct=Decimal(70))
    close(2022)
    close(2023)
    assert balance_complete_for(silver, datetime.date(2023, 12, 31)) == 2022
    assert balance_complete_for(silver, datetime.date(2023, 3, 14)) is None
    then = api_client.get(f"{STATS}silver/", {"as_of": "2023-12-31"}).json()
    assert then["balance_complete_for"] == 2022
    assert api_client.get(f"{STATS}silver/").json()["balance_complete_for"] == 2023
    region = api_client.get("/api/v1/stats/regions/", {"as_of": "2023-12-31"}).json()
    assert region["results"][0]["minerals"][0]["balance_complete_for"] == 2022


def test_a_year_is_closed_once_and_after_it_ends():
    close(2023)
    with pytest.raises(ValidationError) as raised:
        BalanceClosure(
            mineral=MineralFactory(),
            year=2023,
            closed_on=datetime.date(2024, 1, 10),
            source="again",
        ).full_clean()
    assert "already exists" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        BalanceClosure(
            mineral=MineralFactory(),
            year=2024,
            closed_on=datetime.date(2024, 12, 1),
            source="too early",
        ).full_clean()
    assert "on or after 1 January 2025" in str(raised.value)


def test_statistics_say_whether_the_balance_is_complete(api_client):
    CommodityFactory(mineral=MineralFactory(), reported_share_pct=Decimal(70))
    MineralFactory(code="gold", symbol="Au", name="Gold")
    close(2023)
    minerals = {m["mineral"]: m for m in api_client.get(STATS).json()["results"]}
    assert minerals["silver"]["balance_complete_for"] == 2023
    assert minerals["gold"]["balance_complete_for"] is None
    assert api_client.get(f"{STATS}silver/").json()["balance_complete_for"] == 2023
    region = api_client.get("/api/v1/stats/regions/").json()["results"][0]
    assert region["minerals"][0]["balance_complete_for"] == 2023


def test_the_mineral_page_says_whether_the_balance_is_complete(client):
    CommodityFactory(mineral=MineralFactory())
    page = client.get(reverse("mineral-detail", args=["silver"])).content.decode()
    assert "State Balance: not marked complete." in page
    close(2023)
    page = client.get(reverse("mineral-detail", args=["silver"])).content.decode()
    assert "State Balance closed for 2023." in page
    workbook = load_workbook(
        io.BytesIO(b"".join(client.get(reverse("mineral-xlsx", args=["silver"])).streaming_content))
    )
    cells = [c for row in workbook.worksheets[1].iter_rows(values_only=True) for c in row]
    assert "State Balance closed for 2023." in cells


# --- the State Balance of a year ----------------------------------------------------


def test_totals_per_category_convert_kilograms_to_tonnes_exactly(silver_2023):
    balance = state_balance(MineralFactory(), 2023)
    assert [(line["deposit"], line["balance"]) for line in balance.lines] == [
        ("Jilau", "balance"),
        ("Konchoch", "balance"),
        ("Konchoch", "off-balance"),
    ]
    assert balance.total_unit == "t"
    c1_balance, c1_off = balance.totals
    assert (c1_balance["category"], c1_balance["balance"]) == ("C1", "balance")
    assert c1_balance["opening"] == Decimal("152.5")  # 150 t + 2,500 kg, never 2,650
    assert c1_balance["closing"] == Decimal("144")
    assert c1_balance["extraction"] == Decimal("8.2")
    assert c1_balance["exploration_gain"] == Decimal("0.7")
    assert c1_off["opening"] == c1_off["closing"] == Decimal("20")


def test_lines_in_one_unit_are_totalled_in_it(silver_2023):
    BalanceMovement.objects.filter(unit="t").delete()
    balance = state_balance(MineralFactory(), 2023)
    assert balance.total_unit == "kg"
    assert balance.totals[0]["closing"] == Decimal("3000")


def test_the_screen_shows_the_lines_totals_and_whether_the_year_is_closed(
    viewer_client, silver_2023
):
    response = viewer_client.get(SCREEN, {"mineral": "silver", "year": "2023"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Konchoch" in page and "Jilau" in page
    assert "152.5" in page  # the C1 balance opening total, in tonnes
    assert "The State Balance of 2023 is not marked closed." in page
    close(2023, protocol="GKZ-2024-12")
    page = viewer_client.get(SCREEN, {"mineral": "silver", "year": "2023"}).content.decode()
    assert "The State Balance of 2023 is closed (2024-03-15, protocol GKZ-2024-12)." in page
    changelist = viewer_client.get(reverse("admin:deposits_balancemovement_changelist"))
    assert SCREEN in changelist.content.decode()


def test_csv_and_xlsx_hold_the_table_of_the_screen(viewer_client, silver_2023):
    response = viewer_client.get(SCREEN, {"mineral": "silver", "year": "2023", "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="state-balance-silver-2023.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["Deposit", "Identifier", "Category", "Balance", "opening balance"]
    assert rows[0][-1] == "Unit"
    assert [row[0] for row in rows[1:6]] == ["Jilau", "Konchoch", "Konchoch", "Total", "Total"]
    assert rows[4][4] == "152.500000" and rows[4][-1] == "t"
    assert rows[-1] == ["The State Balance of 2023 is not marked closed."]

    response = viewer_client.get(SCREEN, {"mineral": "silver", "year": "2023", "format": "xlsx"})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = list(workbook.active.iter_rows(values_only=True))
    assert list(sheet[0]) == rows[0]
    assert sheet[4][4] == 152.5 and sheet[4][0] == "Total"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"mineral": "unobtainium", "year": "2023"}, "mineral", "Select a valid choice"),
        ({"mineral": "silver", "year": "last"}, "year", "Enter a whole number"),
        ({"mineral": "silver", "year": "20231"}, "year", "less than or equal to 2100"),
        ({"mineral": "silver"}, "year", "This field is required"),
    ],
)
def test_bad_input_is_a_form_error_never_a_download(
    viewer_client, silver_2023, query, field, message
):
    response = viewer_client.get(SCREEN, {**query, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert message in str(response.context["form"].errors[field])


def test_only_staff_reach_the_screen(client):
    response = client.get(SCREEN, {"mineral": "silver", "year": "2023", "format": "csv"})
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_staff_groups_may_read_closures_and_editors_add_them(viewer, editor):
    assert viewer.has_perm("deposits.view_balanceclosure")
    assert not viewer.has_perm("deposits.add_balanceclosure")
    assert editor.has_perm("deposits.add_balanceclosure")


def test_an_editor_closes_a_year_in_the_admin_with_history(editor_client, editor):
    silver = MineralFactory()
    response = editor_client.post(
        reverse("admin:deposits_balanceclosure_add"),
        {
            "mineral": silver.pk,
            "year": "2023",
            "closed_on": "2024-03-15",
            "protocol": "GKZ-2024-12",
            "source": "State Commission on Mineral Reserves",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    closure = BalanceClosure.objects.get()
    assert closure.history.get().history_user == editor
    response = editor_client.post(
        reverse("admin:deposits_balanceclosure_add"),
        {"mineral": silver.pk, "year": "2024", "closed_on": "2024-05-01", "source": "x"},
    )
    assert response.status_code == 200
    assert "1 January 2025" in str(response.context["adminform"].form.errors["closed_on"])
    assert BalanceClosure.objects.count() == 1
