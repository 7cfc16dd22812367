"""Charts of reserves and production over the years on the deposit and mineral pages:
drawn on the server, with the same figures as a table, over what the reader may see."""

import datetime
import re
from decimal import Decimal

import pytest

from deposits.models import BalanceMovement
from deposits.yearly import (
    deposit_production_by_year,
    deposit_reserves_by_year,
    national_production_by_year,
    national_reserves_by_year,
)
from kernel.visibility import ANONYMOUS, STAFF
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    ReserveEstimateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def line(deposit, mineral, year, opening, extraction, category="C1", unit="t"):
    movement = BalanceMovement(
        deposit=deposit, mineral=mineral, category=category, balance=True, year=year,
        unit=unit, opening=Decimal(opening), extraction=Decimal(extraction),
        closing=Decimal(opening) - Decimal(extraction), source="GKZ State Balance",
    )  # fmt: skip
    movement.full_clean()
    movement.save()
    return movement


@pytest.fixture
def konchoch():
    """Konchoch: silver C1 100 t in 2010, re-estimated at 150 t in 2020, C2 40 t from
    2015; State Balance lines for 2021 (10 t mined) and 2022 (12 t)."""
    silver = MineralFactory()
    deposit = DepositFactory(name="Konchoch")
    CommodityFactory(deposit=deposit, mineral=silver)
    for category, quantity, as_of in [
        ("C1", 100, datetime.date(2010, 1, 1)),
        ("C2", 40, datetime.date(2015, 6, 1)),
        ("C1", 150, datetime.date(2020, 1, 1)),
    ]:
        ReserveEstimateFactory(
            deposit=deposit, mineral=silver, category=category, quantity=Decimal(quantity),
            as_of=as_of,
        )  # fmt: skip
    line(deposit, silver, 2021, 150, 10)
    line(deposit, silver, 2022, 140, 12)
    return deposit


def as_numbers(figures):
    return [
        (year, [None if v is None else v.normalize() for v in values])
        for year, values in figures.rows
    ]


def test_a_deposits_reserves_each_year_end_from_estimates_in_force_and_closing_balances(
    konchoch,
):
    [silver] = deposit_reserves_by_year(konchoch)
    assert silver.series == ["C1", "C2"] and silver.unit == "t"
    rows = dict(as_numbers(silver))
    assert list(rows) == list(range(2010, 2023))
    assert rows[2010] == rows[2014] == [Decimal(100), None]
    assert rows[2015] == rows[2019] == [Decimal(100), Decimal(40)]
    assert rows[2020] == [Decimal(150), Decimal(40)]  # the re-estimate replaces, never adds
    assert rows[2021] == [Decimal(140), Decimal(40)]  # the State Balance's closing
    assert rows[2022] == [Decimal(128), Decimal(40)]


def write_off_c2(konchoch):
    """Konchoch's C2 written off on 1 May 2018 by a GKZ protocol."""
    c2 = konchoch.reserves.get(category="C2")
    c2.withdrawal, c2.withdrawn_on, c2.withdrawal_protocol = (
        "written_off",
        datetime.date(2018, 5, 1),
        "GKZ RT protocol 9",
    )
    c2.full_clean()
    c2.save()


def test_a_written_off_estimate_leaves_the_chart_in_its_year(konchoch):
    write_off_c2(konchoch)
    rows = dict(as_numbers(deposit_reserves_by_year(konchoch)[0]))
    assert rows[2017] == [Decimal(100), Decimal(40)]
    assert rows[2018] == [Decimal(100), None]


def test_a_deposits_production_is_its_extraction_per_year(konchoch):
    [silver] = deposit_production_by_year(konchoch)
    assert as_numbers(silver) == [(2021, [Decimal(10)]), (2022, [Decimal(12)])]


def test_national_charts_sum_the_lines_of_the_deposits_the_reader_may_see(konchoch):
    silver = konchoch.reserves.first().mineral
    hidden = DepositFactory(name="Internal", visibility="internal")
    CommodityFactory(deposit=hidden, mineral=silver)
    line(hidden, silver, 2021, 1_000_000, 100_000, unit="kg")  # summed in tonnes
    line(hidden, silver, 2022, 900_000, 50_000, unit="kg")
    public = national_reserves_by_year(silver, ANONYMOUS)
    assert as_numbers(public) == [(2021, [Decimal(140)]), (2022, [Decimal(128)])]
    staff = national_reserves_by_year(silver, STAFF)
    assert as_numbers(staff) == [(2021, [Decimal(1040)]), (2022, [Decimal(978)])]
    assert as_numbers(national_production_by_year(silver, ANONYMOUS)) == [
        (2021, [Decimal(10)]),
        (2022, [Decimal(12)]),
    ]
    assert as_numbers(national_production_by_year(silver, STAFF))[0] == (2021, [Decimal(110)])


def test_as_of_a_day_a_deposits_charts_hold_what_the_registry_said_that_day(konchoch):
    """As of 30 June 2020 the 2020 re-estimate is in force (dated 1 January) and no State
    Balance line is yet; as of 1 March 2015 the C2 of June 2015 is not either. Like the
    charts as recorded now, they run to the last year with a figure."""
    [silver] = deposit_reserves_by_year(konchoch, datetime.date(2020, 6, 30))
    rows = dict(as_numbers(silver))
    assert list(rows) == list(range(2010, 2021))
    assert rows[2019] == [Decimal(100), Decimal(40)]
    assert rows[2020] == [Decimal(150), Decimal(40)]
    assert deposit_production_by_year(konchoch, datetime.date(2020, 6, 30)) == []
    [early] = deposit_reserves_by_year(konchoch, datetime.date(2015, 3, 1))
    assert early.series == ["C1"] and as_numbers(early) == [(2010, [Decimal(100)])]


def test_a_state_balance_line_counts_once_its_year_has_ended(konchoch):
    for day, last_row in [
        (datetime.date(2021, 12, 30), (2020, [Decimal(150), Decimal(40)])),
        (datetime.date(2021, 12, 31), (2021, [Decimal(140), Decimal(40)])),
        (datetime.date(2022, 6, 30), (2021, [Decimal(140), Decimal(40)])),
    ]:
        [silver] = deposit_reserves_by_year(konchoch, day)
        assert as_numbers(silver)[-1] == last_row, day
        production = [as_numbers(p) for p in deposit_production_by_year(konchoch, day)]
        assert production == ([[(2021, [Decimal(10)])]] if last_row[0] == 2021 else []), day
    silver = konchoch.commodities.get().mineral
    national = national_reserves_by_year(silver, ANONYMOUS, datetime.date(2022, 6, 30))
    assert as_numbers(national) == [(2021, [Decimal(140)])]
    assert as_numbers(national_production_by_year(silver, STAFF, datetime.date(2022, 12, 31))) == [
        (2021, [Decimal(10)]),
        (2022, [Decimal(12)]),
    ]


def test_a_write_off_after_the_day_asked_is_not_yet_known(konchoch):
    silver = konchoch.commodities.get().mineral
    ReserveEstimateFactory(deposit=konchoch, mineral=silver, category="B",
                           quantity=Decimal(5), as_of=datetime.date(2018, 2, 1))  # fmt: skip
    write_off_c2(konchoch)
    before = deposit_reserves_by_year(konchoch, datetime.date(2018, 3, 1))[0]
    assert before.series == ["B", "C1", "C2"]
    assert as_numbers(before)[-1] == (2018, [Decimal(5), Decimal(100), Decimal(40)])
    after = deposit_reserves_by_year(konchoch, datetime.date(2018, 12, 31))[0]
    assert as_numbers(after)[-1] == (2018, [Decimal(5), Decimal(100), None])


def charts_of(html: str) -> list[str]:
    return re.findall(r'<figure class="chart">.*?</table>', html, flags=re.S)


def test_the_deposit_page_charts_reserves_and_production_with_the_same_figures_as_tables(
    client, konchoch
):
    html = client.get(konchoch.get_absolute_url()).content.decode()
    reserves, production = charts_of(html)
    assert 'aria-hidden="true"' in reserves and "<rect" in reserves
    title = "Balance reserves of Silver at the end of each year, by category (t)"
    assert f"<figcaption>{title}</figcaption>" in reserves
    assert f'<caption class="visually-hidden">{title}</caption>' in reserves
    assert re.search(r'<th scope="row">2021</th><td class="num">140</td><td class="num">40</td>',
                     reserves)  # fmt: skip
    assert re.search(r'<th scope="row">2014</th><td class="num">100</td><td class="num">—</td>',
                     reserves)  # fmt: skip
    assert "Production of Silver by year (t)" in production
    assert re.search(r'<th scope="row">2022</th><td class="num">12</td>', production)
    # Drawn from the app's own markup: nothing fetched, no script.
    assert "<script" not in "".join(charts_of(html))
    assert "http" not in "".join(charts_of(html))


def test_in_russian_the_numbers_are_russian_and_the_drawing_stays_valid(client, konchoch):
    line(konchoch, konchoch.reserves.first().mineral, 2023, "128", "0.5")
    html = client.get(konchoch.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    reserves = charts_of(html)[0]
    assert '<td class="num">127,500</td>' in reserves  # three places, as every page table
    assert not re.search(r'(x|y|width|height)="[^"]*,', reserves)


def test_one_year_of_figures_draws_no_chart(client):
    silver = MineralFactory()
    deposit = DepositFactory()
    CommodityFactory(deposit=deposit, mineral=silver)
    ReserveEstimateFactory(deposit=deposit, mineral=silver, as_of=datetime.date(2020, 1, 1))
    ReserveEstimateFactory(deposit=deposit, mineral=silver, category="C2")  # undated
    html = client.get(deposit.get_absolute_url()).content.decode()
    assert charts_of(html) == [] and "over the years" not in html
    assert charts_of(client.get(silver.get_absolute_url()).content.decode()) == []


def test_the_mineral_page_charts_national_figures_for_its_reader(client, konchoch):
    silver = konchoch.reserves.first().mineral
    hidden = DepositFactory(name="Internal", visibility="internal")
    CommodityFactory(deposit=hidden, mineral=silver)
    line(hidden, silver, 2021, 1000, 100)
    line(hidden, silver, 2022, 900, 50)
    url = silver.get_absolute_url()
    html = client.get(url).content.decode()
    reserves, production = charts_of(html)
    assert "National balance reserves at the end of each year, by category (t)" in reserves
    assert re.search(r'<th scope="row">2022</th><td class="num">128</td>', reserves)
    assert "State Balance lines of the public deposits" in html
    client.force_login(UserFactory(username="clerk", groups=["Registry editors"]))
    html = client.get(url).content.decode()
    reserves, production = charts_of(html)
    assert re.search(r'<th scope="row">2022</th><td class="num">978</td>', reserves)
    assert re.search(r'<th scope="row">2021</th><td class="num">110</td>', production)


def test_the_pages_chart_the_years_up_to_the_day_asked(client, konchoch):
    silver = konchoch.commodities.get().mineral
    html = client.get(konchoch.get_absolute_url(), {"as_of": "2021-12-31"}).content.decode()
    [reserves] = charts_of(html)  # production recorded in one year by then: no chart of it
    assert "As of Dec. 31, 2021: the State Balance lines of the years that had ended" in html
    assert re.search(r'<th scope="row">2021</th><td class="num">140</td>', reserves)
    assert '<th scope="row">2022</th>' not in reserves
    line(DepositFactory(name="Jilau"), silver, 2020, 500, 5)
    html = client.get(silver.get_absolute_url(), {"as_of": "2021-12-31"}).content.decode()
    reserves, production = charts_of(html)
    assert re.search(r'<th scope="row">2021</th><td class="num">140</td>', reserves)
    assert re.search(r'<th scope="row">2020</th><td class="num">5</td>', production)
    assert '<th scope="row">2022</th>' not in reserves + production
    assert "As of Dec. 31, 2021: the lines of the years that had ended by then." in html
    html = client.get(silver.get_absolute_url()).content.decode()
    assert "the lines of the years that had ended" not in html
    reserves, production = charts_of(html)
    assert re.search(r'<th scope="row">2022</th><td class="num">128</td>', reserves)
