"""A deposit's reserve share is derived from estimates, or reported where none exist."""

import datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from deposits.filters import DepositFilterSet
from deposits.models import Deposit, DepositCommodity
from deposits.shares import (
    commodities_with_shares,
    national_totals,
    ranked,
    refresh_kept,
    summed_national_totals,
)
from kernel.visibility import STAFF
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    ReserveEstimateFactory,
)

pytestmark = pytest.mark.django_db


def shares_of(deposit):
    """Per mineral code, the deposit's share as every surface reads it: (pct, basis)."""
    rows = commodities_with_shares(STAFF).filter(deposit=deposit)
    return {c.mineral.code: (c.share_pct, c.share_basis) for c in rows}


@pytest.fixture
def gold():
    return MineralFactory(code="gold", symbol="Au", name="Gold")


def gold_deposit(gold, *estimates):
    deposit = DepositFactory()
    CommodityFactory(deposit=deposit, mineral=gold)
    for category, quantity, unit, balance in estimates:
        ReserveEstimateFactory(
            deposit=deposit,
            mineral=gold,
            category=category,
            quantity=Decimal(quantity),
            unit=unit,
            balance=balance,
        )
    return deposit


def test_share_counts_balance_a_b_c1_with_units_normalised(gold):
    # 10 t + 500 kg = 10.5 t of A+B+C1 against 21 t nationally
    first = gold_deposit(gold, ("B", "10", "t", True), ("C1", "500", "kg", True))
    gold_deposit(gold, ("C1", "10500", "kg", True))
    assert national_totals(STAFF)[gold.pk] == Decimal("21000")
    assert shares_of(first)["gold"] == (Decimal("50.00"), "computed")


def test_the_rule_built_once_a_process_is_read_afresh_by_each_use(gold):
    """The share rule as recorded now is built once a process (`deposits.shares`); each
    use is a copy of it, so what one read fetched is never what the next one returns."""
    first = gold_deposit(gold)
    kept = commodities_with_shares(STAFF)
    assert [(c.share_pct, c.share_basis) for c in kept] == [(None, None)]
    ReserveEstimateFactory(
        deposit=first, mineral=gold, category="C1", balance=True, quantity=Decimal("5"), unit="t"
    )
    again = commodities_with_shares(STAFF)
    assert again is not kept
    assert [(c.share_pct, c.share_basis) for c in again] == [(Decimal("100.00"), "computed")]


def test_c2_off_balance_and_prognostic_do_not_count(gold):
    first = gold_deposit(gold, ("C1", "1", "t", True), ("C2", "100", "t", True))
    gold_deposit(gold, ("A", "3", "t", True), ("C1", "50", "t", False), ("P1", "90", "t", None))
    assert shares_of(first)["gold"] == (Decimal("25.00"), "computed")


def test_troy_ounces_normalise_exactly(gold):
    # 1,000,000 oz t = 31.1034768 t; with 31.1034768 t elsewhere each has half
    first = gold_deposit(gold, ("C1", "1000000", "oz t", True))
    gold_deposit(gold, ("B", "31103.4768", "kg", True))
    assert shares_of(first)["gold"] == (Decimal("50.00"), "computed")


def test_a_re_estimate_replaces_the_estimate_before_it_never_adds_to_it():
    """Konchoch: C1 100 t silver in 2010, re-estimated at 150 t in 2020; Altyn-Topkan
    50 t. Konchoch holds 75% of 200 t, not 83.33% of 300 t."""
    silver = MineralFactory()
    konchoch, altyn_topkan = DepositFactory(name="Konchoch"), DepositFactory(name="Altyn-Topkan")
    for deposit in (konchoch, altyn_topkan):
        CommodityFactory(deposit=deposit, mineral=silver)
    for deposit, quantity, as_of in [
        (konchoch, "100", "2010-06-01"),
        (konchoch, "150", "2020-06-01"),
        (altyn_topkan, "50", "2015-01-01"),
    ]:
        ReserveEstimateFactory(
            deposit=deposit, mineral=silver, category="C1", balance=True,
            quantity=Decimal(quantity), unit="t", as_of=as_of,
        )  # fmt: skip
    assert shares_of(konchoch)["silver"] == (Decimal("75.00"), "computed")
    assert shares_of(altyn_topkan)["silver"] == (Decimal("25.00"), "computed")
    assert national_totals(STAFF) == {silver.pk: Decimal("200000")}


def test_estimates_in_force_per_category_and_balance_undated_oldest(gold):
    deposit = gold_deposit(gold)
    for category, quantity, as_of, balance in [
        ("C1", "1", None, True),  # undated: replaced by any dated C1 balance estimate
        ("C1", "2", "2001-01-01", True),
        ("C1", "3", "2001-01-01", True),  # same date, entered later: in force
        ("C1", "4", "2005-01-01", False),  # off-balance: a kind of its own
        ("B", "5", "1999-01-01", True),  # another category: in force beside C1
    ]:
        ReserveEstimateFactory(
            deposit=deposit, mineral=gold, category=category, balance=balance,
            quantity=Decimal(quantity), unit="t", as_of=as_of,
        )  # fmt: skip
    in_force = deposit.reserves.in_force().order_by("quantity")
    assert [e.quantity for e in in_force] == [Decimal(3), Decimal(4), Decimal(5)]
    assert national_totals(STAFF) == {gold.pk: Decimal("8000")}  # C1 3 t + B 5 t


def test_estimates_in_force_on_a_date(gold):
    """Konchoch's 2010 C1 estimate is in force until its 2020 re-estimate; before 2010 only
    the undated one counts, which counts at every date."""
    deposit = gold_deposit(gold)
    for quantity, as_of in [("7", None), ("100", "2010-06-30"), ("150", "2020-03-01")]:
        ReserveEstimateFactory(
            deposit=deposit, mineral=gold, category="C1", balance=True,
            quantity=Decimal(quantity), unit="t", as_of=as_of,
        )  # fmt: skip

    def on(day):
        return [e.quantity for e in deposit.reserves.in_force(datetime.date.fromisoformat(day))]

    assert on("2005-01-01") == [Decimal(7)]
    assert on("2010-06-30") == on("2019-12-31") == [Decimal(100)]
    assert on("2020-03-01") == on("2026-12-06") == [Decimal(150)]
    assert [e.quantity for e in deposit.reserves.in_force()] == [Decimal(150)]


def test_one_estimate_elsewhere_never_rewrites_a_reported_share():
    """Konimansur's published "over 70%" stands after a clerk enters Altyn-Topkan's first
    estimate: a deposit without estimates of its own keeps its reported share."""
    silver = MineralFactory()
    konimansur, altyn_topkan = DepositFactory(), DepositFactory()
    CommodityFactory(
        deposit=konimansur, mineral=silver, reported_share_pct=Decimal("70"),
        reported_share_source="roundtable report, December 2024",
    )  # fmt: skip
    CommodityFactory(deposit=altyn_topkan, mineral=silver)
    ReserveEstimateFactory(
        deposit=altyn_topkan, mineral=silver, category="C1", balance=True,
        quantity=Decimal("50"), unit="t",
    )  # fmt: skip
    assert shares_of(konimansur)["silver"] == (Decimal("70"), "reported")
    assert shares_of(altyn_topkan)["silver"] == (Decimal("100"), "computed")


def test_reported_share_stands_where_the_mineral_has_no_estimates():
    silver = MineralFactory()
    deposit = DepositFactory()
    CommodityFactory(
        deposit=deposit,
        mineral=silver,
        reported_share_pct=Decimal("70"),
        reported_share_source="roundtable report, December 2024",
    )
    assert shares_of(deposit)["silver"] == (Decimal("70"), "reported")


def test_computed_share_replaces_the_reported_one(gold):
    deposit = gold_deposit(gold, ("C1", "5", "t", True))
    deposit.commodities.update(reported_share_pct=Decimal("90"), reported_share_source="x")
    gold_deposit(gold, ("C1", "15", "t", True))
    assert shares_of(deposit)["gold"] == (Decimal("25.00"), "computed")


def test_no_share_without_estimates_or_report(gold):
    deposit = gold_deposit(gold)
    assert shares_of(deposit)["gold"] == (None, None)


def test_min_share_filter_uses_the_same_rule(gold):
    big = gold_deposit(gold, ("C1", "30", "t", True))
    small = gold_deposit(gold, ("C1", "10", "t", True))
    silver = MineralFactory()
    reported = DepositFactory()
    CommodityFactory(
        deposit=reported,
        mineral=silver,
        reported_share_pct=Decimal("70"),
        reported_share_source="x",
    )

    def matching(params):
        query = QueryDict(urlencode(params, doseq=True))
        filterset = DepositFilterSet(query, queryset=Deposit.objects.all())
        assert filterset.is_valid(), filterset.errors
        return set(filterset.qs)

    assert matching({"mineral": "gold", "min_share": "50"}) == {big}
    assert matching({"mineral": "gold", "min_share": "25"}) == {big, small}
    assert matching({"mineral": "silver", "min_share": "70"}) == {reported}
    assert matching({"mineral": "silver", "min_share": "71"}) == set()
    assert matching({"mineral": ["gold", "silver"], "min_share": "60"}) == {big, reported}


def test_min_share_without_mineral_is_a_filter_error():
    filterset = DepositFilterSet({"min_share": "10"}, queryset=Deposit.objects.all())
    assert not filterset.is_valid()
    assert "needs a mineral" in str(filterset.errors["min_share"])


def test_kept_national_totals_follow_every_estimate_write(gold):
    silver = MineralFactory()
    deposit = gold_deposit(gold, ("C1", "10", "t", True))
    estimate = deposit.reserves.get()
    assert national_totals(STAFF) == {gold.pk: Decimal("10000")}

    estimate.unit = "kg"
    estimate.save()
    assert national_totals(STAFF) == {gold.pk: Decimal("10")}

    estimate.mineral = silver
    estimate.save()
    assert national_totals(STAFF) == {silver.pk: Decimal("10")}

    estimate.delete()
    assert national_totals(STAFF) == {}

    gold_deposit(gold, ("B", "2", "t", True)).delete()  # cascades to its estimates
    assert national_totals(STAFF) == {}


def test_refresh_rebuilds_what_bulk_writes_bypassed(gold):
    deposit = gold_deposit(gold, ("C1", "10", "t", True))
    gold_deposit(gold, ("C1", "10", "t", True))
    deposit.reserves.update(quantity=Decimal("30"))  # no signals for QuerySet.update
    assert national_totals(STAFF) == {gold.pk: Decimal("20000")}
    assert shares_of(deposit)["gold"] == (Decimal("50.00"), "computed")
    refresh_kept()
    assert national_totals(STAFF) == summed_national_totals(STAFF) == {gold.pk: Decimal("40000")}
    assert shares_of(deposit)["gold"] == (Decimal("75.00"), "computed")


def test_an_estimate_moved_to_another_deposit_moves_its_share(gold):
    first = gold_deposit(gold, ("C1", "30", "t", True))
    second = gold_deposit(gold, ("C1", "10", "t", True))
    estimate = first.reserves.get()
    estimate.deposit = second
    estimate.save()
    assert shares_of(first)["gold"] == (None, None)  # no estimates of its own any more
    assert shares_of(second)["gold"] == (Decimal("100.00"), "computed")


def test_a_mineral_added_after_its_estimates_shows_its_share(gold):
    deposit = DepositFactory()
    ReserveEstimateFactory(deposit=deposit, mineral=gold, quantity=Decimal(5), unit="t")
    gold_deposit(gold, ("C1", "15", "t", True))
    CommodityFactory(deposit=deposit, mineral=gold)
    assert shares_of(deposit)["gold"] == (Decimal("25.00"), "computed")


@pytest.mark.parametrize(
    ("quantities", "expected"),
    [
        # whole tonnes: a database that divided integers would answer 33 and 66
        (("1", "2"), (Decimal("33.33"), Decimal("66.67"))),
        (("1", "7"), (Decimal("12.50"), Decimal("87.50"))),
        (("1", "15"), (Decimal("6.25"), Decimal("93.75"))),
        # 12.345 and 87.655 exactly: half-way cases a float would round down
        (("2469", "17531"), (Decimal("12.35"), Decimal("87.66"))),
    ],
)
def test_shares_are_rounded_to_two_places_half_up(gold, quantities, expected):
    deposits = [gold_deposit(gold, ("C1", q, "t", True)) for q in quantities]
    # compared as text: the same digits on both engines, always two decimals
    assert [str(shares_of(d)["gold"][0]) for d in deposits] == [str(e) for e in expected]


@pytest.mark.parametrize(
    ("reported", "read"), [("12.375", "12.38"), ("12.345", "12.35"), ("70", "70.00")]
)
def test_reported_shares_read_with_two_places_half_up(reported, read):
    silver = MineralFactory()
    deposit = DepositFactory()
    CommodityFactory(
        deposit=deposit, mineral=silver, reported_share_pct=Decimal(reported),
        reported_share_source="x",
    )  # fmt: skip
    pct, basis = shares_of(deposit)["silver"]
    assert (str(pct), basis) == (read, "reported")


def test_ranking_puts_the_largest_share_first_and_no_share_last(gold):
    big = gold_deposit(gold, ("C1", "30", "t", True))
    small = gold_deposit(gold, ("C1", "10", "t", True))
    none_b = gold_deposit(gold)
    none_a = gold_deposit(gold)
    Deposit.objects.filter(pk=none_a.pk).update(name="Aaa")
    Deposit.objects.filter(pk=none_b.pk).update(name="Bbb")
    rows = list(
        ranked(DepositCommodity.objects.filter(mineral=gold), ["mineral_id"], top=3, caller=STAFF)
    )
    assert [r.deposit_id for r in rows] == [big.pk, small.pk, none_a.pk]
    assert [r.place for r in rows] == [1, 2, 3]
    assert {r.ranked_count for r in rows} == {4}
    assert [(r.share_pct, r.share_basis) for r in rows] == [
        (Decimal("75.00"), "computed"),
        (Decimal("25.00"), "computed"),
        (None, None),  # no estimates of its own and no report: nothing is known
    ]


def test_rankings_are_per_partition(gold):
    silver = MineralFactory()
    first = gold_deposit(gold, ("C1", "30", "t", True))
    second = gold_deposit(gold, ("C1", "10", "t", True))
    CommodityFactory(
        deposit=second, mineral=silver, reported_share_pct=Decimal("40"),
        reported_share_source="x",
    )  # fmt: skip
    rows = ranked(DepositCommodity.objects.all(), ["mineral_id"], top=1, caller=STAFF)
    assert {(r.mineral_id, r.deposit_id) for r in rows} == {
        (gold.pk, first.pk),
        (silver.pk, second.pk),
    }
